"""`zengshou run` over a landing dir with faults (issue 13 #2, #5, #8, #9), three runs on one warehouse:

run 1  2023-01 + the 2023 ledgers 2023-06, 2023-09 (+ 4 HR jobseekers: the session's january_with_hr,
       shared with test_cli_errors)                                                  -> exit 0
run 2  relief/2023/2023-10.csv rejected (no 项目编号 column), 2023-11.csv restating 002 (劳务报酬 50 → 70)
       and 004 (20.125 → 30), an Excel lock file beside them; monitoring/2023-03 with members.csv AND
       members.xlsx; monitoring/2022-12 whose households.csv is still being written; a folder 2021-9
       -> exit 1: 2023-03 fails alone with its reason, 2022-12 waits (a note), 2021-9 is reported skipped,
          the restatement wins in the marts although another ledger of the run was rejected
run 3  members.xlsx removed, the households file complete                            -> exit 0, both months load

ZENGSHOU_LANDING_SETTLE_SECONDS is 600 here; every file is dated an hour back except the one being written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from . import scenario as sc
from .conftest import SETTLE_600, Published, age_all, copy_of
from .landing import FileStyle, Landing
from .pipeline import RunResult, query, run_pipeline, scorecard

pytestmark = pytest.mark.slow

JAN = sc.AS_OF["2023-01"]


@dataclass
class State:
    run: RunResult
    relief: dict[str, dict]
    batches: list[dict]
    raw_months: dict[str, int]
    card: dict


def _capture(wh: Path, run: RunResult) -> State:
    if not wh.exists():
        return State(run, {}, [], {}, {})
    relief = {r["project_id"]: r for r in query(wh, "select * from marts.fct_relief_wage_ratio")}
    months = {r["m"]: r["n"] for r in query(
        wh, "select cast(as_of_month as varchar) m, count(*) n from raw.monitoring_members group by 1")}
    return State(run, relief, query(wh, "select * from meta.load_batches"), months, scorecard(wh))


def _restated() -> list[dict[str, str]]:
    rows = [dict(next(r for r in sc.RELIEF_2023_06 if r["项目编号"] == "YGDZ-2023-002")),
            dict(next(r for r in sc.RELIEF_2023_09 if r["项目编号"] == "YGDZ-2023-004"))]
    rows[0]["劳务报酬发放金额（万元）"] = "70"   # 002: 50 -> 70 (70 / 200 = 0.35 >= 0.30)
    rows[1]["劳务报酬发放金额（万元）"] = "30"   # 004: 20.125 -> 30 (30 / 80.5 = 0.3727 >= 0.20)
    return rows


@pytest.fixture(scope="module")
def states(january_with_hr: Published, tmp_path_factory: pytest.TempPathFactory) -> dict[int, State]:
    """Run 1 is the session's ``january_with_hr`` (conftest; also run 1 of test_cli_errors' HR case): read
    from a copy that runs 2 and 3 go on with."""
    scenario, landing = copy_of(january_with_hr.scenario.root, tmp_path_factory.mktemp("faults"), **SETTLE_600)
    wh = scenario.warehouse
    out: dict[int, State] = {}
    out[1] = _capture(wh, january_with_hr.run)
    if out[1].run.returncode != 0:
        return out
    landing.write_relief(2023, "2023-10", sc.RELIEF_2023_09, FileStyle(drop_columns=("项目编号",)))
    landing.write_relief(2023, "2023-11", _restated())
    (landing.root / "relief" / "2023" / "~$2023-11.xlsx").write_bytes(b"\x00lock")
    landing.write_members("2023-03", sc.members_rows("2023-03"))
    Landing(landing.root / "xlsx_copy").write_members("2023-03", sc.members_rows("2023-03"),
                                                      FileStyle(fmt="xlsx")).rename(
        landing.month_dir("2023-03") / "members.xlsx")
    landing.write_households("2023-03", sc.households_rows("2023-03"))
    landing.write_members("2022-12", sc.members_rows("2022-12"))
    copying = landing.write_households("2022-12", sc.households_rows("2022-12"))
    landing.write_members("2021-9", sc.members_rows("2022-03"))
    age_all(landing.root, except_=(copying,))
    out[2] = _capture(wh, run_pipeline(scenario))
    (landing.month_dir("2023-03") / "members.xlsx").unlink()
    age_all(landing.root)
    out[3] = _capture(wh, run_pipeline(scenario))
    return out


def _state(states: dict[int, State], n: int) -> State:
    if n not in states:
        pytest.fail(f"run {n} never happened: run 1 exited {states[1].run.returncode}:\n{states[1].run.tail()}")
    return states[n]


def test_run1_baseline(states: dict[int, State]) -> None:
    s = _state(states, 1)
    assert s.run.returncode == 0, s.run.tail()
    assert float(s.relief["YGDZ-2023-004"]["labor_remuneration_wan"]) == pytest.approx(20.125)
    assert s.relief["YGDZ-2023-002"]["is_compliant"] is False


def test_run2_restatement_wins_although_another_ledger_was_rejected(states: dict[int, State]) -> None:
    """#5: the latest accepted state of every project is what the marts show."""
    s = _state(states, 2)
    assert s.run.returncode == 1, s.run.tail()
    p4, p2 = s.relief["YGDZ-2023-004"], s.relief["YGDZ-2023-002"]
    assert float(p4["labor_remuneration_wan"]) == pytest.approx(30)
    assert float(p4["remuneration_ratio"]) == pytest.approx(30 / 80.5)
    assert p4["is_compliant"] is True
    assert float(p2["labor_remuneration_wan"]) == pytest.approx(70)
    assert float(p2["remuneration_ratio"]) == pytest.approx(0.35) and p2["is_compliant"] is True
    # 001 and 003 keep their 2023-06 / 2023-09 state (30/100, 12/50): the rejected 2023-10 file changed nothing
    assert float(s.relief["YGDZ-2023-001"]["labor_remuneration_wan"]) == pytest.approx(30)
    assert float(s.relief["YGDZ-2023-003"]["labor_remuneration_wan"]) == pytest.approx(12)
    # The scorecard of 2023-01 on paper: 中央预算内 (30 + 70) / (100 + 200); 衔接 (12 + 30) / (50 + 80.5);
    # compliant projects 001, 002, 003, 004 of 4.
    yn = {k: s.card[(JAN, sc.YN, k)] for k in ("relief_ratio_central_budget", "relief_ratio_bridging_funds",
                                              "relief_project_compliance")}
    assert (yn["relief_ratio_central_budget"]["numerator"], yn["relief_ratio_central_budget"]["denominator"]) \
        == (pytest.approx(100), pytest.approx(300))
    assert yn["relief_ratio_bridging_funds"]["actual_value"] == pytest.approx(42 / 130.5)
    assert yn["relief_project_compliance"]["actual_value"] == pytest.approx(1.0)
    (rejected,) = [b for b in s.batches if str(b["file_path"]).endswith("relief/2023/2023-10.csv")]
    assert rejected["status"] == "rejected" and "项目编号" in rejected["reason"], rejected
    assert rejected["rows_read"] == rejected["rows_loaded"] + rejected["rows_quarantined"] == 2, rejected
    assert not [b for b in s.batches if "~$" in str(b["file_path"])], "an Excel lock file was loaded"


def test_run2_two_members_files_fail_that_month_only(states: dict[int, State]) -> None:
    """#9: monitoring/2023-03 fails with its reason (exit 1, not 2); 2023-01 stays, nothing else stops."""
    s = _state(states, 2)
    assert s.run.returncode == 1, s.run.tail()
    assert "monitoring/2023-03: more than one members file (members.csv, members.xlsx)" in s.run.tail()
    assert "2023-03-01" not in s.raw_months
    assert s.raw_months.get(JAN) == 15
    assert any(k[0] == JAN for k in s.card), "the last good marts must stay"


def test_run2_file_still_being_written_waits_and_is_said(states: dict[int, State]) -> None:
    """#2: households.csv of 2022-12 was modified seconds ago: the month is not loaded, and the output
    says which file and why; #8: the 2021-9 folder and the lock file are reported, not silently ignored."""
    s = _state(states, 2)
    out = s.run.stdout + s.run.stderr
    assert "note: monitoring/2022-12/households.csv: still being written" in out, s.run.tail()
    assert "2022-12-01" not in s.raw_months
    assert not [b for b in s.batches if "/2022-12/" in str(b["file_path"])]
    assert "note: monitoring/2021-9: skipped: not a month folder (the name must be YYYY-MM, e.g. 2021-09)" in out
    assert "note: relief/2023/~$2023-11.xlsx: ignored: an Excel lock file" in out


def test_run3_the_waiting_and_the_fixed_month_load(states: dict[int, State]) -> None:
    s = _state(states, 3)
    assert s.run.returncode == 0, s.run.tail()
    assert s.raw_months.get("2022-12-01") == 16 and s.raw_months.get("2023-03-01") == 15
    assert float(s.relief["YGDZ-2023-004"]["labor_remuneration_wan"]) == pytest.approx(30)
    for b in s.batches:
        assert b["rows_read"] == b["rows_loaded"] + b["rows_quarantined"], b
