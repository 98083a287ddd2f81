"""Incremental equals full (issue 12): the HR known-answer scenario fed month by month — an earlier
month restated, an older month arriving after a newer one, a back-dated HR correction and a restated
以工代赈 ledger in between — each step built by dbt with the months month_plan.plan_rebuild works out;
every marts.* table then equals, row for row, a full refresh of the same raw tables.

dbt-level (fast): the raw tables of a copy of the scenario's warehouse are set by SQL to what the loads
would have left at each step (the loaders are tested elsewhere), so each step is one `dbt run`.

The months of each step are worked out by hand from the scenario (2022-03, 2022-12, 2023-02, 2023-03;
training T7 of C1 ends 2022-11-30; one 2023 ledger) and the rules of month_plan's docstring.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb

from dagster_project.month_plan import config_digest, months_rebuilt, plan_rebuild
from tests.incremental_build import RAW_MONTHLY, build_step, keep, marts_differences, restore, schema_differences
from tests.incremental_build import month_of as _month_of
from tests.knownanswer.pipeline import TEST_SALT

from .conftest import Published

D = dt.date
DIGEST = config_digest(TEST_SALT, 0.05)


def test_month_by_month_equals_full_refresh(hr_run: Published, tmp_path: Path) -> None:
    hr_run.require_ok()
    warehouse, env = hr_run.scenario.warehouse_copy(tmp_path)
    target = tmp_path / "target"

    with duckdb.connect(str(warehouse)) as con:
        keep(con, (*RAW_MONITORING_AND_LEDGER, "raw.hr_training_record"))

    def start(con: duckdb.DuckDBPyConnection) -> None:
        # only 2022-03, as an earlier export (other batch, other values); the 2023 ledger in an earlier
        # state; training T7 recorded as ending 2023-03-20 (corrected to 2022-11-30 later)
        for t in RAW_MONTHLY:
            con.execute(f"DELETE FROM {t} WHERE NOT {_month_of('as_of_month', '2022-03')}")
            con.execute(f"UPDATE {t} SET batch_id = 'earlier-export-2022-03'")
        con.execute("UPDATE raw.monitoring_members SET months_worked = '1'")
        con.execute("UPDATE raw.monitoring_households SET wage_income_yuan = '999'")
        con.execute("UPDATE raw.relief_projects SET batch_id = 'earlier-ledger', labor_remuneration_wan = '1'")
        con.execute("UPDATE raw.hr_training_record SET end_date = DATE '2023-03-20' WHERE training_id = 'T7'")

    def add(month: str):
        def change(con: duckdb.DuckDBPyConnection) -> None:
            for t in RAW_MONTHLY:
                restore(con, t, _month_of("as_of_month", month))
        return change

    def restate_march_2022_and_ledger(con: duckdb.DuckDBPyConnection) -> None:
        add("2022-03")(con)
        restore(con, "raw.relief_projects", "true")

    def correct_t7(con: duckdb.DuckDBPyConnection) -> None:
        restore(con, "raw.hr_training_record", "training_id = 'T7'")

    steps = [
        ("start", start, None),
        ("2023-02 arrives", add("2023-02"), [("2023-02", "new month")]),
        ("2022-12 arrives late", add("2022-12"),
         [("2022-12", "arrived after later months"), ("2023-02", "compares with 2022-12 (prior year-end)")]),
        ("2022-03 re-exported, ledger restated", restate_march_2022_and_ledger,
         [("2022-03", "re-exported"), ("2022-12", "compares with 2022-03 (Q1 progress)"),
          ("2023-02", "以工代赈 ledger 2023 changed")]),
        ("T7 back-dated to 2022-11-30", correct_t7,
         [("2022-12", "HR rows dated from 2022-11 changed"), ("2023-02", "HR rows dated from 2022-11 changed")]),
        ("2023-03 arrives", add("2023-03"), [("2023-03", "new month")]),
        ("nothing new", lambda con: None, []),
    ]
    for i, (name, change, expected) in enumerate(steps):
        months = build_step(warehouse, env, target, f"{tmp_path.name}-step-{i}", DIGEST, change)
        assert months == expected, f"{name}: planned {months}"

    # the same raw tables, every month rebuilt from scratch: that is hr_run's warehouse, whose one build
    # was a first, whole build (dbt --full-refresh) of the raw tables the steps end with. (A `dbt run
    # --full-refresh` of a copy of the steps' warehouse stood here, a second full build of the same raw
    # tables, and the marts were compared with both.)
    assert schema_differences(warehouse, hr_run.warehouse, "raw") == []
    with duckdb.connect(str(hr_run.warehouse), read_only=True) as con:
        assert [m for m, _ in months_rebuilt(con)] == [None], months_rebuilt(con)
    assert marts_differences(warehouse, hr_run.warehouse) == []


RAW_MONITORING_AND_LEDGER = (*RAW_MONTHLY, "raw.relief_projects")


def test_full_refresh_is_asked_for(hr_run: Published) -> None:
    """Asked for, the plan is every month (dbt --full-refresh), whatever changed."""
    hr_run.require_ok()
    with duckdb.connect(str(hr_run.warehouse), read_only=True) as con:
        asked = plan_rebuild(con, DIGEST, full_refresh=True)
        unchanged = plan_rebuild(con, DIGEST)
    assert asked.months is None and asked.dbt_args() == ["--full-refresh"]
    assert asked.everything == "asked for: --full-refresh"
    assert unchanged.months == [] and unchanged.summary() == "rebuilt no snapshot month (nothing monthly changed)"
    with duckdb.connect(str(hr_run.warehouse), read_only=True) as con:
        other_key = plan_rebuild(con, config_digest("another key", 0.05))
    assert other_key.months is None and "HMAC key" in (other_key.everything or "")


def test_zengshou_run_rebuilds_a_reexported_year_end_and_what_compares_with_it(hr_run: Published,
                                                                                tmp_path: Path) -> None:
    """The real pipeline: 2022-12 exported again (same people and values, one more column, so a new
    batch) -> `zengshou run` rebuilds 2022-12 and the 2023 months that compare with it, says so, records it
    in meta.months_rebuilt, and the marts equal those of the first full build; `zengshou run
    --full-refresh` then rebuilds every month and changes nothing."""
    from tests.knownanswer.landing import FileStyle, Landing
    from tests.knownanswer.pipeline import run_cli

    from . import scenario as sc

    hr_run.require_ok()
    root = tmp_path / "copy"
    shutil.copytree(hr_run.scenario.root, root, ignore=shutil.ignore_patterns("dagster_home"))
    scenario = type(hr_run.scenario)(root, root / "landing", root / "warehouse" / "zengshou.duckdb",
                                     Landing(root / "landing").hr_db_url, {})
    Landing(root / "landing").write_members("2022-12", [sc.member_row(k, "2022-12") for k in sc.PEOPLE],
                                            FileStyle(extra_columns={"备注": "重新导出"}))
    res = run_cli(["run"], scenario.env())
    assert res.returncode == 0, res.tail()
    line = ("rebuilt 2022-12 (re-exported), 2023-02 (compares with 2022-12 (prior year-end)), "
            "2023-03 (compares with 2022-12 (prior year-end))")
    assert line in res.stdout, res.tail()
    with duckdb.connect(str(scenario.warehouse), read_only=True) as con:
        assert [(f"{m:%Y-%m}", r) for m, r in months_rebuilt(con)] == [
            ("2022-12", "re-exported"), ("2023-02", "compares with 2022-12 (prior year-end)"),
            ("2023-03", "compares with 2022-12 (prior year-end)")]
    assert marts_differences(scenario.warehouse, hr_run.warehouse) == []

    res = run_cli(["run", "--full-refresh"], scenario.env())
    assert res.returncode == 0, res.tail()
    assert "rebuilt every month (asked for: --full-refresh)" in res.stdout, res.tail()
    assert marts_differences(scenario.warehouse, hr_run.warehouse) == []


def test_the_months_and_ledgers_a_plan_compares_are_the_latest_published_batches() -> None:
    """month_plan reads each file partition's batch from meta.load_batches (not the raw rows): the latest
    published batch of the partition, a rejected batch changing nothing, and a published batch that left
    no row meaning the partition has no rows (as the raw table would show). Rows written by hand."""
    from dagster_project.ingest.warehouse import DDL
    from dagster_project.month_plan import _current_inputs

    con = duckdb.connect()
    con.execute(DDL)
    rows = [  # (batch, source, partition, rows loaded, status, loaded at)
        ("M1", "monitoring.members", "2023-01", 10, "published", "2023-02-01 08:00"),
        ("M1b", "monitoring.members", "2023-01", 0, "rejected", "2023-02-02 08:00"),   # rejected: M1 stays
        ("M2", "monitoring.members", "2023-02", 10, "published", "2023-03-01 08:00"),
        ("M2b", "monitoring.members", "2023-02", 0, "published", "2023-03-02 08:00"),  # an empty export: gone
        ("M3", "monitoring.members", "2023-03", 10, "published", "2023-04-01 08:00"),
        ("M3b", "monitoring.members", "2023-03", 12, "published", "2023-04-02 08:00"),  # re-exported
        ("H1", "monitoring.households", "2023-01", 4, "published", "2023-02-01 08:00"),
        ("H3", "monitoring.households", "2023-03", 4, "published", "2023-04-01 08:00"),
        ("R1", "relief.projects", "2022/2022-11.csv", 3, "published", "2022-12-01 08:00"),
        ("R2", "relief.projects", "2022/2022-12.csv", 3, "published", "2023-01-01 08:00"),
        ("R2b", "relief.projects", "2022/2022-12.csv", 3, "published", "2023-02-01 08:00"),  # restated
        ("R3", "relief.projects", "2023/2023-01.csv", 3, "rejected", "2023-02-01 08:00"),
        ("J", "hr_platform.jobseeker", None, 5, "published", "2023-02-01 08:00"),
    ]
    con.executemany("INSERT INTO meta.load_batches (batch_id, source, partition_key, rows_read, rows_loaded,"
                    " rows_quarantined, status, loaded_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
                    [(b, s, p, n, n, st, at) for b, s, p, n, st, at in rows])
    current = _current_inputs(con)
    assert current["months"] == [(D(2023, 1, 1), "M1", "H1"), (D(2023, 3, 1), "M3b", "H3")]
    assert sorted(current["relief"]) == [("2022", "R1,R2b")]
    assert _current_inputs(duckdb.connect()) == {"months": [], "relief": []}  # nothing ever loaded
