"""Runs over time on one landing dir + warehouse (SPEC §5 `zengshou run`, docs/architecture.md):

run 1  2022-03, 2022-12, 2023-01 + 2023 ledger                              -> exit 0
run 2  nothing changed                                                      -> exit 0, nothing changes
run 3  2023-03 arrives with 3/18 members and 1/7 households rejected (> 0.02) -> exit 1, blocked
run 4  2023-03 members re-exported without the 证件号码 column                -> exit 1, blocked
run 5  2023-03 fixed; 2023-01 members re-exported with B1 at 0 months        -> exit 0, both (re)loaded
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from . import scenario as sc
from .checks import mismatches, report
from .conftest import Published, copy_of
from .landing import FileStyle, break_checksum, make_id
from .pipeline import RunResult, query, run_pipeline, scorecard, scorecard_rows

pytestmark = pytest.mark.slow

MARCH = sc.AS_OF["2023-03"]
JAN = sc.AS_OF["2023-01"]


@dataclass
class State:
    run: RunResult
    scorecard_rows: list[tuple]
    card: dict
    batches: list[dict]
    raw_counts: dict[tuple[str, str], int]
    marts: dict[str, list[tuple]]
    fact_as_of: dict[tuple[str, int], set[str]]
    quarantine_rules: dict[tuple[str, str], int]  # (batch_id, rule) -> rows


def _marts_dump(wh: Path) -> dict[str, list[tuple]]:
    tables = [r["table_name"] for r in query(wh, "select table_name from information_schema.tables "
                                                 "where table_schema = 'marts' order by 1")]
    out = {}
    for t in tables:  # run timestamps (e.g. a published_at column) are not data: left out
        cols = [r["column_name"] for r in query(
            wh, "select column_name from information_schema.columns where table_schema = 'marts' "
                "and table_name = ? and data_type not like 'TIMESTAMP%' order by ordinal_position", [t])]
        rows = query(wh, f'select {", ".join(chr(34) + c + chr(34) for c in cols)} from marts."{t}"')
        out[t] = sorted((tuple(r.items()) for r in rows), key=repr)
    return out


def _capture(wh: Path, run: RunResult) -> State:
    if not wh.exists():
        return State(run, [], {}, [], {}, {}, {}, {})
    raw = {}
    for t in ("monitoring_members", "monitoring_households"):
        for r in query(wh, f"select cast(as_of_month as varchar) m, count(*) n from raw.{t} group by 1"):
            raw[(t, r["m"])] = r["n"]
    facts = {}
    for t in ("fct_employment_duration", "fct_income_growth"):
        for r in query(wh, f"select year, as_of_month from marts.{t} group by all"):
            facts.setdefault((t, int(r["year"])), set()).add(r["as_of_month"])
    rules = {(r["batch_id"], r["rule"]): r["n"] for r in query(
        wh, "select batch_id, rule, count(*) n from quarantine.rejected_rows group by all")}
    return State(run, scorecard_rows(wh), scorecard(wh), query(wh, "select * from meta.load_batches"), raw,
                 _marts_dump(wh), facts, rules)


def _bad_march_members() -> list[dict[str, str]]:
    a5 = sc.PEOPLE["A5"]
    bad = [sc.member_row(a5, "2023-03", 姓名=f"坏号{i}", 人口编号=f"bad-{i}",
                         证件号码=break_checksum(make_id(sc.W, "19910101", 51 + 2 * i))) for i in range(3)]
    return sc.members_rows("2023-03") + bad  # 3 / 18 = 16.7 % > 2 %


@pytest.fixture(scope="module")
def states(three_months: Published, tmp_path_factory: pytest.TempPathFactory) -> dict[int, State]:
    """Run 1 is the session's ``three_months`` (conftest: the same landing set and settings, also the
    start of test_recovery), read from a copy that runs 2–5 then go on with."""
    scenario, landing = copy_of(three_months.scenario.root, tmp_path_factory.mktemp("lifecycle"))
    wh = scenario.warehouse
    out: dict[int, State] = {}
    out[1] = _capture(wh, three_months.run)
    if out[1].run.returncode != 0:
        return out
    out[2] = _capture(wh, run_pipeline(scenario))
    landing.write_members("2023-03", _bad_march_members())
    landing.write_households("2023-03", [*sc.households_rows("2023-03"), sc.household_row(
        "H2", "2023-03", 户编号="5301020010019998", 户类型="贫困户")])  # 1 / 7 > 2 %
    out[3] = _capture(wh, run_pipeline(scenario))
    landing.write_members("2023-03", sc.members_rows("2023-03"), FileStyle(drop_columns=("证件号码",)))
    out[4] = _capture(wh, run_pipeline(scenario))
    landing.write_members("2023-03", sc.members_rows("2023-03"))
    landing.write_households("2023-03", sc.households_rows("2023-03"))
    jan = [sc.member_row(p, "2023-01") for p in sc.PEOPLE.values() if 2023 in p.years]
    for r in jan:
        if r["姓名"] == sc.PEOPLE["B1"].name:  # B1 did not work in January after all
            r.update({"务工时间（月）": "0", "务工所在地": "", "务工企业名称": "", "就业渠道": ""})
    landing.write_members("2023-01", jan)
    out[5] = _capture(wh, run_pipeline(scenario))
    return out


def _state(states: dict[int, State], n: int) -> State:
    if n not in states:
        pytest.fail(f"run {n} never happened: run 1 exited {states[1].run.returncode}:\n{states[1].run.tail()}")
    return states[n]


def _batches_for(state: State, rel: str) -> list[dict]:
    return sorted((b for b in state.batches if str(b["file_path"]).replace("\\", "/").endswith(rel)),
                  key=lambda b: str(b["loaded_at"]))


def _reason_line(run: RunResult, needle: str) -> bool:
    tails = [ln for part in (run.stdout, run.stderr) for ln in part.strip().splitlines()[-5:]]
    return any(needle in ln for ln in tails)


def test_run1_first_load(states: dict[int, State]) -> None:
    s = _state(states, 1)
    assert s.run.returncode == 0, s.run.tail()
    assert {k[0] for k in s.card} == {sc.AS_OF[m] for m in ("2022-03", "2022-12", "2023-01")}
    lines = [ln for m in ("2022-03", "2022-12", "2023-01") for k in sc.KPIS
             for ln in mismatches(s.card, sc.AS_OF[m], k)]
    assert not lines, report(lines)


def test_run2_no_change_changes_nothing(states: dict[int, State]) -> None:
    s1, s2 = _state(states, 1), _state(states, 2)
    assert s2.run.returncode == 0, s2.run.tail()
    assert sorted(b["batch_id"] for b in s2.batches) == sorted(b["batch_id"] for b in s1.batches), \
        "no new load batch when nothing changed"
    assert s2.scorecard_rows == s1.scorecard_rows
    assert s2.raw_counts == s1.raw_counts
    assert s2.marts == s1.marts


def test_run3_reject_rate_blocks_the_month(states: dict[int, State]) -> None:
    s1, s3 = _state(states, 1), _state(states, 3)
    assert s3.run.returncode == 1, s3.run.tail()
    assert ("monitoring_members", MARCH) not in s3.raw_counts, "blocked batch reached raw"
    assert ("monitoring_households", MARCH) not in s3.raw_counts, "blocked batch reached raw"
    assert not any(k[0] == MARCH for k in s3.card), "blocked month reached the scorecard"
    assert s3.marts == s1.marts, "previously published marts changed"
    assert s3.fact_as_of[("fct_employment_duration", 2023)] == {JAN}
    for kind, read, rule, bad in (("members", 18, "id_checksum", 3), ("households", 7, "invalid_code", 1)):
        (b,) = _batches_for(s3, f"monitoring/2023-03/{kind}.csv")
        assert b["status"] == "rejected" and b["reason"], b
        assert b["rows_read"] == read, b
        # Nothing lost: the good rows of a rejected batch are not in raw, so they are accounted for
        # (loaded or quarantined, e.g. as batch_rejected); the bad rows carry their own rule.
        assert b["rows_read"] == b["rows_loaded"] + b["rows_quarantined"], b
        assert s3.quarantine_rules.get((b["batch_id"], rule)) == bad, (b["batch_id"], s3.quarantine_rules)
        n_q = sum(n for (bid, _r), n in s3.quarantine_rules.items() if bid == b["batch_id"])
        assert n_q == b["rows_quarantined"], (b, s3.quarantine_rules)
    assert _reason_line(s3.run, "2023-03"), f"no one-line reason naming 2023-03 at the end:\n{s3.run.tail()}"


def test_run4_missing_id_column_blocks_the_month(states: dict[int, State]) -> None:
    s1, s4 = _state(states, 1), _state(states, 4)
    assert s4.run.returncode == 1, s4.run.tail()
    assert ("monitoring_members", MARCH) not in s4.raw_counts
    assert not any(k[0] == MARCH for k in s4.card)
    assert s4.marts == s1.marts, "previously published marts changed"
    latest = _batches_for(s4, "monitoring/2023-03/members.csv")[-1]
    assert latest["status"] == "rejected" and "证件号码" in (latest["reason"] or ""), latest
    assert latest["rows_read"] == latest["rows_loaded"] + latest["rows_quarantined"], latest
    assert _reason_line(s4.run, "2023-03"), f"no one-line reason naming 2023-03 at the end:\n{s4.run.tail()}"


def test_run5_fixed_month_published_and_changed_month_reloaded(states: dict[int, State]) -> None:
    s5 = _state(states, 5)
    assert s5.run.returncode == 0, s5.run.tail()
    assert s5.raw_counts.get(("monitoring_members", MARCH)) == 15
    assert s5.raw_counts.get(("monitoring_members", JAN)) == 15, "reloaded month must replace, not append"
    assert s5.fact_as_of[("fct_employment_duration", 2023)] == {MARCH}
    jan_batches = _batches_for(s5, "monitoring/2023-01/members.csv")
    assert len(jan_batches) >= 2, f"changed 2023-01 file was not reloaded: {jan_batches}"
    assert jan_batches[-1]["status"] == "published", jan_batches[-1]
    assert jan_batches[-1]["file_sha256"] != jan_batches[0]["file_sha256"], jan_batches
    # 2023-01 after B1 drops to 0 months (employed P: W {A1, A4}, P {B4}, Z {C1}):
    e = sc.E
    over = {
        (JAN, sc.P, "employment_vs_prior_year"): e(1, 3, "not_met"),   # {B4} / {B1, B4, B5}
        (JAN, sc.KM, "employment_vs_prior_year"): e(3, 6, "not_met"),  # 2 + 1 / 6
        (JAN, sc.YN, "employment_vs_prior_year"): e(4, 8, "not_met"),  # 3 + 1 / 8
        (JAN, sc.P, "avg_employment_months"): e(1, 1, "not_met"),      # B4 1
        (JAN, sc.KM, "avg_employment_months"): e(3, 3, "not_met"),     # A1 1 + A4 1 + B4 1
        (JAN, sc.YN, "avg_employment_months"): e(4, 4, "not_met"),
        (JAN, sc.P, "out_of_province_share"): e(0, 1, "not_met"),      # B4 县外省内
        (JAN, sc.KM, "out_of_province_share"): e(2, 3, "met"),         # A1 省外, A4 国外 / {A1, A4, B4}
        (JAN, sc.YN, "out_of_province_share"): e(2, 4, "met"),         # / {A1, A4, B4, C1}
    }
    lines = [ln for m in sc.AS_OF.values() for k in sc.KPIS for ln in mismatches(s5.card, m, k, over)]
    assert not lines, report(lines)


def test_warehouse_free_when_cli_exits(states: dict[int, State]) -> None:
    """When `zengshou run` returns, no child process (dbt) may still hold the warehouse."""
    waits = {n: s.run.locked_after_exit_s for n, s in states.items()}
    assert all(w <= 2 for w in waits.values()), f"seconds the warehouse stayed locked after exit, per run: {waits}"
