"""Known-answer tests of the early-warning worklist and the local-employment / rural-craftsmen KPIs
(SPEC §2.3), worked out on paper from scenario.py.

Population P: A1 A2 A3 (W 五华区), B1 B2 (L 禄劝县), C1 C2 (Z 镇雄县); A4 is 一般农户 (outside P).
Snapshots 2022-03, 2022-12, 2023-02, 2023-03: only 2023-03 has a previous snapshot (Y, M-1); the
previous snapshot *of the year* is 2022-03 for 2022-12, none for 2022-03 and 2023-02, 2023-02 for 2023-03.

Worklist, by snapshot (rule in int_early_warnings_listed):
  2022-03  nobody: no previous snapshot of 2022, and no jobseeker registered by 03-31 (J1 is 2022-10-01).
  2022-12  A3 unserved: J1 wants work, not employed, and no service at all in 2022 (V1.. are 2023).
           Nobody stalled (the previous snapshot of 2022 is 2022-03, not 2022-11); nobody returned
           (A1 省外 -> 省外, B1 县外省内 -> 县外省内).
  2023-02  B2 unserved: J3 (registered 2023-01-01) wants work, not employed in February, no service.
           A3 is served (V3 job referral on 02-10, inside 01-30..02-28); B1 works in February.
           No stalled / returned: 2023-02 is the first snapshot of 2023 here.
  2023-03  A2 stalled: 2 months in February, still 2 in March (县内).
           A1 returned: 省外 (深圳) in February, 县内 (五华) now; months 2 -> 3 (not stalled).
           B1 returned: 县外省内 (官渡) in February, not working now (months 1 -> 0); and
           B1 unserved: J2 wants work, services V6-V9 on 02-05..02-08 are outside 03-02..03-31, V10 is on
           04-01 (after the month end).
           Not flagged: A3 (served on 03-15 and on 03-31, the month end itself), B2 (employed now),
           C1 (2 -> 3), C2 (省外 -> 省外, 2 -> 3), A4 (官渡 -> 五华 like a returnee, but 一般农户).
"""

from __future__ import annotations

import pytest

from tests.knownanswer.pipeline import TEST_SALT, close, query, scorecard

from . import scenario as sc

W, L, Z, KM, ZT, YN = sc.W, sc.L, sc.Z, sc.KM, sc.ZT, sc.YN
GD = "530111"  # 官渡区: no member of P anywhere
N = None


def _ids(key: str) -> tuple[str, str]:
    hh, _name, _birth, seq, _relation = sc.PEOPLE[key]
    return sc.household_id(hh), f"{sc.household_id(hh)}{seq:03d}"


# (as_of_month, person, reason) -> (county, prefecture, months_worked, previous_months_worked,
#                                   work_region, previous_work_region)
WORKLIST = {
    ("2022-12", "A3", "unserved"): (W, KM, 0, 0, N, N),
    ("2023-02", "B2", "unserved"): (L, KM, 0, N, N, N),
    ("2023-03", "A2", "stalled"): (W, KM, 2, 2, "县内", "县内"),
    ("2023-03", "A1", "returned"): (W, KM, 3, 2, "县内", "省外"),
    ("2023-03", "B1", "returned"): (L, KM, 0, 1, N, "县外省内"),
    ("2023-03", "B1", "unserved"): (L, KM, 0, 1, N, "县外省内"),
}
LABELS = {"stalled": "断工", "returned": "返乡回流", "unserved": "有意愿未就业未服务"}
VILLAGES = {W: ("西翥街道", "沙朗村"), L: ("屏山街道", "崇德村"), Z: ("以勒镇", "以勒村")}


@pytest.fixture(scope="module")
def worklist(hr_run) -> list[dict]:
    hr_run.require_ok()
    return query(hr_run.warehouse, "select * from marts.fct_early_warning order by all")


def test_worklist_rows_are_the_paper_rows(worklist) -> None:
    by_ids = {_ids(k): k for k in sc.PEOPLE}
    got = {}
    for r in worklist:
        person = by_ids.get((r["household_no"], r["person_no"]))
        assert person is not None, f"unknown 户编号/人口编号 {r['household_no']}/{r['person_no']}"
        got[(str(r["as_of_month"])[:7], person, r["reason"])] = r
    assert set(got) == set(WORKLIST), f"extra {set(got) - set(WORKLIST)}, missing {set(WORKLIST) - set(got)}"
    bad = []
    for key, (county, prefecture, months, previous, region, previous_region) in WORKLIST.items():
        r = got[key]
        want = {"county_code": county, "prefecture_code": prefecture, "months_worked": months,
                "previous_months_worked": previous, "work_region": region,
                "previous_work_region": previous_region, "reason_label_zh": LABELS[key[2]],
                "year": int(key[0][:4]), "township_name": VILLAGES[county][0],
                "village_name": VILLAGES[county][1]}
        bad += [f"{key} {col}: {r[col]!r} != paper {v!r}" for col, v in want.items() if r[col] != v]
    assert not bad, "\n".join(bad)


def test_worklist_carries_no_personal_data(hr_run, worklist) -> None:
    """No 证件号码, 姓名, phone or the salt in any value of the list (the same check as
    tests/knownanswer/test_privacy_and_formats.py, on a worklist that is not empty), and no such column."""
    assert worklist
    columns = set(worklist[0])
    assert not columns & {"id_number", "name", "phone", "证件号码", "姓名", "户联系电话", "person_key"}
    secrets = {sc.id_of(k) for k in [*sc.PEOPLE, *sc.OUTSIDERS]} | {p[1] for p in sc.PEOPLE.values()}
    secrets |= {f"1388710{p[3]:04d}" for p in sc.PEOPLE.values()} | {TEST_SALT}
    hits = [f"{col}={v!r}" for r in worklist for col, v in r.items()
            if isinstance(v, str) and any(s in v for s in secrets)]
    assert not hits, hits


def test_counts_per_county_and_reason(hr_run) -> None:
    """Complete grid: 4 snapshots × 129 counties × 3 reasons; the paper counts, 0 elsewhere."""
    hr_run.require_ok()
    rows = query(hr_run.warehouse, "select * from marts.fct_early_warning_counts")
    assert len(rows) == 4 * 129 * 3
    want: dict[tuple, int] = {}
    for (month, _person, reason), (county, *_rest) in WORKLIST.items():
        want[(month, county, reason)] = want.get((month, county, reason), 0) + 1
    got = {(str(r["as_of_month"])[:7], r["county_code"], r["reason"]): r["persons"] for r in rows}
    assert {k: v for k, v in got.items() if v} == want
    labels = {(r["reason"], r["reason_label_zh"]) for r in rows}
    assert labels == set(LABELS.items())
    assert {r["county_name"] for r in rows if r["county_code"] == L} == {"禄劝彝族苗族自治县"}


# ---------------------------------------------------------------------------------------------------
# Local employment (就地就近 = 县内 + 县外省内 employed members of P) and rural craftsmen.
#   2022-12  employed P: A1 12 省外, A2 10 县内, B1 11 县外省内, C1 12 县内, C2 6 省外
#   2023-02  employed P: A1 2 省外, A2 2 县内, B1 1 县外省内, C1 2 县内, C2 2 省外
#   2023-03  employed P: A1 3 县内, A2 2 县内, B2 3 省外, C1 3 县内, C2 3 省外
#   rural_craftsmen: X1 (L, certified 2021-01-01), counted in the record's county, 脱贫人口 or not (X1 is
#   not in the export). The month-end boundary (on / after) is a dbt unit test (rural_craftsmen_dates).
# kpi -> (month, region) -> (actual, numerator, denominator, status)
# ---------------------------------------------------------------------------------------------------
LOCAL_PAPER: dict[str, dict[tuple[str, str], tuple]] = {
    "local_employment_count": {
        ("2022-12", W): (1, 1, N, "no_target"),     # A2
        ("2022-12", L): (1, 1, N, "no_target"),     # B1
        ("2022-12", YN): (3, 3, N, "no_target"),    # A2 B1 C1
        ("2023-02", YN): (3, 3, N, "no_target"),    # A2 B1 C1
        ("2023-03", W): (2, 2, N, "no_target"),     # A1 (back home) A2
        ("2023-03", L): (0, 0, N, "no_target"),     # B2 works 省外
        ("2023-03", Z): (1, 1, N, "no_target"),     # C1
        ("2023-03", KM): (2, 2, N, "no_target"),
        ("2023-03", YN): (3, 3, N, "no_target"),
        ("2023-03", GD): (N, 0, N, "no_data"),      # no member of P
    },
    "local_avg_employment_months": {
        ("2022-12", W): (10.0, 10, 1, "met"),       # A2 10 >= 8.5
        ("2022-12", L): (11.0, 11, 1, "met"),       # B1 11
        ("2022-12", KM): (10.5, 21, 2, "met"),
        ("2022-12", YN): (11.0, 33, 3, "met"),      # 10 + 11 + 12
        ("2023-02", L): (1.0, 1, 1, "not_met"),     # B1
        ("2023-02", YN): (5 / 3, 5, 3, "not_met"),  # 2 + 1 + 2
        ("2023-03", W): (2.5, 5, 2, "not_met"),     # A1 3 + A2 2
        ("2023-03", L): (N, 0, 0, "no_data"),       # nobody local
        ("2023-03", Z): (3.0, 3, 1, "not_met"),
        ("2023-03", YN): (8 / 3, 8, 3, "not_met"),
    },
    "local_employment_share": {
        ("2022-12", W): (0.5, 1, 2, "no_target"),   # A2 of A1 A2
        ("2022-12", L): (1.0, 1, 1, "no_target"),
        ("2022-12", YN): (0.6, 3, 5, "no_target"),
        ("2023-02", ZT): (0.5, 1, 2, "no_target"),  # C1 of C1 C2
        ("2023-03", W): (1.0, 2, 2, "no_target"),
        ("2023-03", L): (0.0, 0, 1, "no_target"),
        ("2023-03", KM): (2 / 3, 2, 3, "no_target"),
        ("2023-03", YN): (0.6, 3, 5, "no_target"),
    },
    "rural_craftsmen": {
        ("2022-03", L): (1, 1, N, "no_target"),     # X1
        ("2022-03", YN): (1, 1, N, "no_target"),
        ("2023-02", Z): (0, 0, N, "no_target"),     # people of P, no craftsman: 0, not no_data
        ("2023-02", YN): (1, 1, N, "no_target"),
        ("2023-03", W): (0, 0, N, "no_target"),
        ("2023-03", L): (1, 1, N, "no_target"),     # X1
        ("2023-03", KM): (1, 1, N, "no_target"),
        ("2023-03", ZT): (0, 0, N, "no_target"),
        ("2023-03", YN): (1, 1, N, "no_target"),
        ("2023-03", GD): (N, 0, N, "no_data"),      # no member of P
    },
}
TARGETS = {"local_avg_employment_months": 8.5}


@pytest.fixture(scope="module")
def card(hr_run) -> dict:
    hr_run.require_ok()
    return scorecard(hr_run.warehouse)


@pytest.mark.parametrize("kpi", list(LOCAL_PAPER))
def test_local_employment_and_craftsmen_kpis(card: dict, kpi: str) -> None:
    bad = []
    for (month, region), (actual, num, den, status) in LOCAL_PAPER[kpi].items():
        row = card.get((sc.AS_OF[month], region, kpi))
        if row is None:
            bad.append(f"{month} {region}: row missing")
            continue
        for col, value in (("actual_value", actual), ("numerator", num), ("denominator", den),
                           ("target_value", TARGETS.get(kpi))):
            if not close(row[col], value):
                bad.append(f"{month} {region} {col} {row[col]!r} != paper {value!r}")
        if row["status"] != status:
            bad.append(f"{month} {region} status {row['status']!r} != paper {status!r}")
    assert not bad, f"{kpi}:\n" + "\n".join(bad)
    assert len([k for k in card if k[2] == kpi]) == 146 * len(sc.MONTHS)


def test_new_kpis_have_chinese_labels(hr_run) -> None:
    hr_run.require_ok()
    rows = query(hr_run.warehouse, "select kpi_code, kpi_label_zh from reference.kpi_targets "
                                   "where kpi_code in ('local_employment_count', 'local_avg_employment_months', "
                                   "'local_employment_share', 'rural_craftsmen')")
    assert {r["kpi_code"]: r["kpi_label_zh"] for r in rows} == {
        "local_employment_count": "就地就近务工脱贫人口数",
        "local_avg_employment_months": "就地就近务工人均务工时长（月）",
        "local_employment_share": "就地就近务工占比",
        "rural_craftsmen": "乡村工匠人数",
    }
