"""Usage and configuration errors exit 2 with a one-line reason and write nothing (SPEC §5)."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from dagster_project import hr_schema

from . import pipeline as sc_pipeline
from . import scenario as sc
from .conftest import HR_DAY, HR_T0, Published, copy_of, jobseeker, new_scenario
from .landing import Landing
from .pipeline import query, run_cli, run_pipeline

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    scenario, landing = new_scenario(tmp_path_factory.mktemp("cli"))
    sc.build(landing, months=("2023-01",), relief=False)
    return scenario


def _assert_usage_error(res, needle: str, warehouse: Path) -> None:
    assert res.returncode == 2, res.tail()
    out = res.lines()
    assert out, "no reason printed"
    assert "Traceback" not in res.stdout + res.stderr, res.tail()
    assert any(needle in ln for ln in out), f"no line names {needle!r}:\n{res.tail()}"
    assert not warehouse.exists(), "a configuration error must not start a run"


@pytest.mark.parametrize(("var", "value"), [
    ("ZENGSHOU_MAX_REJECT_RATE", "abc"),
    ("ZENGSHOU_MAX_REJECT_RATE", "1.5"),
    ("ZENGSHOU_ALERT_FORMAT", "carrier-pigeon"),
])
def test_bad_setting_exits_2(small, var: str, value: str) -> None:
    res = run_cli(["run"], small.env(**{var: value}), timeout=300)
    _assert_usage_error(res, var, small.warehouse)


def test_unknown_command_exits_2(small) -> None:
    res = run_cli(["no-such-command"], small.env(), timeout=300)
    assert res.returncode == 2, res.tail()
    assert "Traceback" not in res.stdout + res.stderr


def test_help_lists_commands(small) -> None:
    res = run_cli(["--help"], small.env(), timeout=300)
    assert res.returncode == 0, res.tail()
    for cmd in ("run", "simulate", "demo"):
        assert cmd in res.stdout, res.stdout


# ---------------------------------------------------------------------------------------------------
# The HR platform through `zengshou run` (issue 13 #3 and #10): corrections the watermark never sees
# reach the warehouse, and every HR failure ends with one line naming the cause and the fix.
# ---------------------------------------------------------------------------------------------------

def _source_jobseekers(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            t = hr_schema.jobseeker
            return [tuple(r) for r in c.execute(sa.select(t).order_by(t.c.reg_id))]
    finally:
        engine.dispose()


def _raw_jobseekers(warehouse: Path) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return [r[:8] for r in con.execute("SELECT * FROM raw.hr_jobseeker ORDER BY reg_id").fetchall()]
    finally:
        con.close()


def _summary(res) -> str:
    """The run's last line: its one-line outcome."""
    lines = [ln for ln in (res.stderr if res.returncode else res.stdout).splitlines() if ln.strip()]
    assert lines, res.tail()
    return lines[-1]


@dataclass
class HrCase:
    scenario: sc_pipeline.Scenario
    landing: Landing
    first: sc_pipeline.RunResult
    second: sc_pipeline.RunResult
    batches: list[tuple]
    good_raw: list[tuple]


@pytest.fixture(scope="module")
def hr_case(january_with_hr: Published, tmp_path_factory: pytest.TempPathFactory) -> HrCase:
    """One month of monitoring data (and the 2023 ledger) and four jobseekers days apart (K1 at T0-30 d …
    K4 at T0, the watermark). Run 1 loads them (the session's ``january_with_hr``, run 1 of
    test_landing_faults too; this goes on from a copy); then, at the source, K1 is corrected with a
    back-dated updated_at (T0-5 d: behind the watermark, beyond the 72 h look-back), K5 is committed late
    (T0-15 d) and K3 is deleted; run 2 (full comparison due: ZENGSHOU_HR_FULL_COMPARE_HOURS=0) must catch
    all three."""
    scenario, landing = copy_of(january_with_hr.scenario.root, tmp_path_factory.mktemp("hr_cli"))
    first = january_with_hr.run
    engine = sa.create_engine(scenario.hr_db_url)
    try:
        with engine.begin() as c:
            t = hr_schema.jobseeker
            c.execute(t.update().where(t.c.reg_id == "K1").values(county_code="530103",
                                                                   updated_at=HR_T0 - 5 * HR_DAY))
            c.execute(t.insert(), [jobseeker("K5", 15)])
            c.execute(t.delete().where(t.c.reg_id == "K3"))
    finally:
        engine.dispose()
    second = run_pipeline(scenario, ZENGSHOU_HR_FULL_COMPARE_HOURS="0")
    batches = query(scenario.warehouse,
                    "SELECT rows_read, rows_loaded, rows_quarantined, status, reason FROM meta.load_batches "
                    "WHERE source = 'hr_platform.jobseeker' ORDER BY loaded_at")
    return HrCase(scenario, landing, first, second, [tuple(b.values()) for b in batches],
                  _raw_jobseekers(scenario.warehouse))


def test_hr_backdated_correction_late_row_and_deletion_reach_the_warehouse(hr_case: HrCase) -> None:
    assert hr_case.first.returncode == 0, hr_case.first.tail()
    assert "; HR platform: 4 inserted, 0 corrected, 0 late, 0 deleted" in _summary(hr_case.first)
    assert hr_case.second.returncode == 0, hr_case.second.tail()
    # Run 2 published only the HR change (no file was new), rebuilt the marts, and says what changed.
    # (A failed warning check, e.g. the monitoring/HR reconciliation, may be named after it.)
    assert _summary(hr_case.second).startswith("OK: 1 batch(es) published; marts rebuilt; "
                                               "HR platform: 0 inserted, 1 corrected, 1 late, 1 deleted")
    assert hr_case.good_raw == _source_jobseekers(hr_case.scenario.hr_db_url)
    assert [r[0] for r in hr_case.good_raw] == ["K1", "K2", "K4", "K5"]
    assert hr_case.good_raw[0][4] == "530103"
    # Run 2 read K4 (the 72 h window behind the watermark T0) and, by key, K1 and K5: 3 = 3 + 0.
    assert [b[:4] for b in hr_case.batches] == [(4, 4, 0, "published"), (3, 3, 0, "published")]
    assert "源端已删除 1 行" in hr_case.batches[1][4]


def _assert_hr_failure(hr_case: HrCase, res, *needles: str) -> str:
    assert res.returncode == 1, res.tail()
    line = _summary(res)
    assert line.startswith("FAILED: step hr_platform failed: "), res.tail()
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    assert "max_retries" not in line
    # The last good data stay: raw as after run 2, the marts still there.
    assert _raw_jobseekers(hr_case.scenario.warehouse) == hr_case.good_raw
    assert query(hr_case.scenario.warehouse, "SELECT count(*) AS n FROM marts.kpi_scorecard")[0]["n"] > 0
    return line


def test_hr_database_unreachable_is_retried_then_named(hr_case: HrCase) -> None:
    res = run_pipeline(hr_case.scenario, ZENGSHOU_HR_DB_URL="postgresql://zs:s3cret-pw@127.0.0.1:1/hr",
                       ZENGSHOU_HR_RETRY_DELAY="0")
    line = _assert_hr_failure(hr_case, res, "HR platform unreachable after 3 retries",
                              "postgresql://zs:***@127.0.0.1:1/hr", "Connection refused",
                              "check that the server is up", "ZENGSHOU_HR_DB_URL")
    assert "s3cret-pw" not in res.stdout + res.stderr
    assert "retry 3 of 3" in res.stderr and "retry 4" not in res.stderr  # retried, 3 times
    assert line.count("\n") == 0


def _damaged_copy(hr_case: HrCase, name: str, statement: str) -> str:
    copy = hr_case.landing.root.parent / name
    shutil.copyfile(hr_case.landing.hr_db_path, copy)
    con = sqlite3.connect(copy)
    try:
        con.execute(statement)
        con.commit()
    finally:
        con.close()
    return f"sqlite:///{copy}"


def test_hr_table_missing_fails_at_once_naming_it(hr_case: HrCase) -> None:
    url = _damaged_copy(hr_case, "no_training.sqlite", "DROP TABLE training_record")
    res = run_pipeline(hr_case.scenario, ZENGSHOU_HR_DB_URL=url, ZENGSHOU_HR_RETRY_DELAY="0")
    _assert_hr_failure(hr_case, res, "table training_record is missing",
                       "point ZENGSHOU_HR_DB_URL at the HR platform database or have the table restored")
    assert "retry 1 of 3" not in res.stderr  # no retry can fix a missing table


def test_hr_column_renamed_fails_at_once_naming_it(hr_case: HrCase) -> None:
    url = _damaged_copy(hr_case, "renamed.sqlite", "ALTER TABLE jobseeker RENAME COLUMN county_code TO county")
    res = run_pipeline(hr_case.scenario, ZENGSHOU_HR_DB_URL=url, ZENGSHOU_HR_RETRY_DELAY="0")
    _assert_hr_failure(hr_case, res, "table jobseeker has no column county_code", "renamed back")
    assert "retry 1 of 3" not in res.stderr


@pytest.mark.parametrize(("var", "value", "needle"), [
    ("ZENGSHOU_HR_DB_URL", "not a url", "ZENGSHOU_HR_DB_URL is not a database URL"),
    ("ZENGSHOU_HR_RETRY_DELAY", "abc", "ZENGSHOU_HR_RETRY_DELAY must be a number"),
    ("ZENGSHOU_LOG_LEVEL", "LOUD", "ZENGSHOU_LOG_LEVEL must be one of"),
    ("ZENGSHOU_BI_DB_URL", "mysql://bi:pw@db/bi", "only PostgreSQL is supported for publishing"),
])
def test_bad_hr_or_bi_setting_exits_2_leaving_the_warehouse(hr_case: HrCase, var: str, value: str,
                                                            needle: str) -> None:
    res = run_cli(["run"], hr_case.scenario.env(**{var: value}), timeout=300)
    assert res.returncode == 2, res.tail()
    lines = [ln for ln in res.lines() if not ln.startswith("WARNING")]
    assert len(lines) == 1 and needle in lines[0] and var in lines[0], res.tail()
    assert _raw_jobseekers(hr_case.scenario.warehouse) == hr_case.good_raw
