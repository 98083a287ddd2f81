"""Spot values of the fact and dimension marts (SPEC §4), expected rows written out by hand."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from . import scenario as sc
from .checks import regions
from .conftest import Published
from .pipeline import close, query

pytestmark = pytest.mark.slow

W, P, Z = sc.W, sc.P, sc.Z
T, G = "脱贫户", "一般农户"

# fct_employment_duration, year 2023 = snapshot 2023-03 (the latest of the year):
# (county_code, household_type, months_worked, is_employed, work_region)
EMPLOYMENT_2023 = [
    (W, T, 3, True, "省外"),      # A1 广东省深圳市
    (W, T, 2, True, "县外省内"),  # A2 云南省昆明市盘龙区 (not her county 五华区)
    (W, T, 0, False, None),       # A3
    (W, T, 3, True, "国外"),      # A4 泰国曼谷, 是否国外务工 = 是
    (W, T, 0, False, None),       # A5
    (W, G, 3, True, "省外"),      # A6 一般农户, kept in the fact
    (W, G, 3, True, "县内"),      # A7 一般农户 云南省昆明市五华区
    (P, T, 3, True, "县内"),      # B1 云南省昆明市盘龙区
    (P, T, 2, True, "省外"),      # B2 上海市浦东新区
    (P, T, 0, False, None),       # B3
    (P, T, 3, True, "县外省内"),  # B4 云南省曲靖市麒麟区
    (P, T, 0, False, None),       # B5
    (Z, T, 3, True, "县内"),      # C1 昭通市镇雄县
    (Z, T, 0, False, None),       # C2
    (Z, T, 0, False, None),       # C3
]
# year 2022 = snapshot 2022-12
EMPLOYMENT_2022 = [
    (W, T, 11, True, "省外"),     # A1
    (W, T, 10, True, "县内"),     # A2 云南省昆明市五华区
    (W, T, 0, False, None),       # A3
    (W, T, 12, True, "省外"),     # A4 浙江省宁波市
    (W, T, 0, False, None),       # A5
    (W, G, 12, True, "省外"),     # A6
    (W, G, 0, False, None),       # A7
    (P, T, 12, True, "县内"),     # B1
    (P, T, 0, False, None),       # B2
    (P, T, 0, False, None),       # B3
    (P, T, 9, True, "县外省内"),  # B4
    (P, T, 8, True, "省外"),      # B5 四川省成都市
    (Z, T, 10, True, "县内"),     # C1
    (Z, T, 6, True, "县内"),      # C2
    (Z, T, 0, False, None),       # C3
    (Z, T, 0, False, None),       # C4 (only in 2022)
]

# fct_income_growth, year 2023 = snapshot 2023-03; prior year = the same as-of month of 2022 (2022-03),
# as the KPI wage_income_per_capita_growth defines it:
# (county_code, household_type, household_size, wage_income_yuan, prior_year_wage_income_yuan,
#  prior_year_household_size)
INCOME_2023 = [
    (W, T, 3, 7500, 6000, 3),     # H1
    (W, T, 2, 4400, 4000, 2),     # H2
    (W, G, 2, 20000, 9000, 2),    # H3 一般农户 (kept in the fact)
    (P, T, 3, 3600, 3000, 3),     # H4
    (P, T, 2, 1800, 2000, 2),     # H5
    (Z, T, 3, 3600, 2400, 4),     # H6 (4 members in 2022, 3 in 2023)
]
# year 2022 = snapshot 2022-12, no 2021 data -> prior NULL
INCOME_2022 = [
    (W, T, 3, 30000, None, None), (W, T, 2, 18000, None, None), (W, G, 2, 40000, None, None),
    (P, T, 3, 15000, None, None), (P, T, 2, 10000, None, None), (Z, T, 4, 12000, None, None),
]


@pytest.fixture(scope="module")
def wh(main_run: Published):
    main_run.require_ok()
    return main_run.warehouse


def _num(v: object) -> object:
    if v is None or isinstance(v, bool | str):
        return v
    f = float(v)
    return int(f) if f.is_integer() else f


def _multiset_diff(got: list[tuple], want: list[tuple]) -> str:
    g, w = Counter(got), Counter(want)
    return f"unexpected: {sorted((g - w).elements(), key=repr)}\nmissing: {sorted((w - g).elements(), key=repr)}"


@pytest.mark.parametrize(("year", "as_of", "want"), [
    (2023, "2023-03-01", EMPLOYMENT_2023), (2022, "2022-12-01", EMPLOYMENT_2022)])
def test_fct_employment_duration(wh, year: int, as_of: str, want: list[tuple]) -> None:
    rows = query(wh, "select * from marts.fct_employment_duration where year = ?", [year])
    assert {r["as_of_month"] for r in rows} == {as_of}, "grain: latest snapshot of the year"
    got = [(r["county_code"], r["household_type"], _num(r["months_worked"]), r["is_employed"],
            r["work_region"]) for r in rows]
    assert Counter(got) == Counter(want), _multiset_diff(got, want)
    keys = [r["person_key"] for r in rows]
    assert len(set(keys)) == len(want), "one row per person × year"
    assert all(isinstance(k, str) and re.fullmatch(r"[0-9a-fA-F]{64}", k) for k in keys), keys[:3]


def test_person_key_is_stable_across_years(wh) -> None:
    k22 = {r["person_key"] for r in query(wh, "select person_key from marts.fct_employment_duration "
                                              "where year = 2022")}
    k23 = {r["person_key"] for r in query(wh, "select person_key from marts.fct_employment_duration "
                                              "where year = 2023")}
    assert len(k23) == 15 and len(k22) == 16
    assert k23 <= k22, "the 15 people of 2023 must keep their 2022 person_key"


def test_employment_duration_types(wh) -> None:
    cols = {r["column_name"]: r["data_type"] for r in query(
        wh, "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'fct_employment_duration'")}
    assert cols.get("is_employed") == "BOOLEAN", cols
    assert cols.get("as_of_month") == "DATE", cols
    assert cols.get("months_worked") in ("INTEGER", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT"), cols


@pytest.mark.parametrize(("year", "as_of", "want"), [
    (2023, "2023-03-01", INCOME_2023), (2022, "2022-12-01", INCOME_2022)])
def test_fct_income_growth(wh, year: int, as_of: str, want: list[tuple]) -> None:
    rows = query(wh, "select * from marts.fct_income_growth where year = ?", [year])
    assert {r["as_of_month"] for r in rows} == {as_of}, "grain: latest snapshot of the year"
    got = [(r["county_code"], r["household_type"], _num(r["household_size"]), _num(r["wage_income_yuan"]),
            _num(r["prior_year_wage_income_yuan"]), _num(r["prior_year_household_size"])) for r in rows]
    assert Counter(got) == Counter(want), _multiset_diff(got, want)
    assert len({r["household_key"] for r in rows}) == len(want)


def test_fct_relief_wage_ratio(wh) -> None:
    rows = {r["project_id"]: r for r in query(wh, "select * from marts.fct_relief_wage_ratio")}
    assert set(rows) == set(sc.RELIEF_FACTS), "one row per project; the restated 003 only once"
    bad = []
    for pid, (county, fund, central, remun, ratio, required, compliant) in sc.RELIEF_FACTS.items():
        r = rows[pid]
        checks = {
            "year": (int(r["year"]) if r["year"] is not None else None, 2023),
            "county_code": (r["county_code"], county),
            "fund_source": (r["fund_source"], fund),
        }
        for col, (g, w) in checks.items():
            if g != w:
                bad.append(f"{pid} {col}: {g!r} != {w!r}")
        for col, w in (("central_funds_wan", central), ("labor_remuneration_wan", remun),
                       ("remuneration_ratio", ratio), ("required_ratio", required)):
            if not close(r[col], w):
                bad.append(f"{pid} {col}: {r[col]!r} != {w!r}")
        if r["is_compliant"] is not compliant:
            bad.append(f"{pid} is_compliant: {r['is_compliant']!r} != {compliant!r}")
    assert not bad, "\n".join(bad)


def test_dim_region(wh) -> None:
    rows = {r["region_code"]: r for r in query(wh, "select * from marts.dim_region")}
    assert set(rows) == set(regions())
    bad = [code for code, (level, name, parent) in regions().items()
           if (rows[code]["region_level"], rows[code]["region_name"], rows[code]["parent_code"])
           != (level, name, parent)]
    assert not bad, [(c, rows[c]) for c in bad[:5]]
    # reference/yunnan_county_flags.csv: 镇雄县 former poverty county and key assistance county; 五华区 not.
    assert rows[sc.Z]["is_former_poverty_county"] is True
    assert rows[sc.Z]["is_key_assistance_county"] is True
    assert rows[sc.W]["is_former_poverty_county"] is False


def test_no_quarantine_and_batches_balance(main_run: Published) -> None:
    """A clean landing dir: nothing quarantined; per batch rows_read = rows_loaded + rows_quarantined."""
    main_run.require_ok()
    wh = main_run.warehouse
    assert query(wh, "select source, rule, count(*) n from quarantine.rejected_rows group by all") == []
    batches = query(wh, "select * from meta.load_batches")
    assert batches
    for b in batches:
        assert b["rows_read"] == b["rows_loaded"] + b["rows_quarantined"], b
        assert b["status"] == "published", b
    members = [b for b in batches if str(b["file_path"]).replace("\\", "/").endswith("monitoring/2023-03/members.csv")]
    assert len(members) == 1 and members[0]["rows_read"] == 15 and members[0]["rows_loaded"] == 15, members
    relief = [b for b in batches if "relief" in str(b["file_path"]).replace("\\", "/").split("/")]
    assert sorted(b["rows_read"] for b in relief) == [2, 4], relief
