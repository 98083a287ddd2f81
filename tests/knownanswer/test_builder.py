"""Fast checks of the hand-built landing dir and of the paper arithmetic (no pipeline needed)."""

from __future__ import annotations

import csv
import sqlite3
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest

from dagster_project.source_shapes import HR_TABLES, normalise_header

from . import scenario as sc
from .conftest import MIXED_STYLES
from .landing import (
    HOUSEHOLD_HEADERS,
    MEMBER_HEADERS,
    RELIEF_HEADERS,
    FileStyle,
    Landing,
    break_checksum,
    id_check_char,
    is_valid_id,
    make_id,
)

SEED = Path(__file__).resolve().parents[2] / "seeds" / "yunnan_counties.csv"


def test_gb11643_check_character() -> None:
    # The standard's own worked example: 11010519491231002X.
    assert id_check_char("11010519491231002") == "X"
    assert is_valid_id("11010519491231002X")
    assert not is_valid_id(break_checksum("11010519491231002X"))
    assert make_id("530102", "19800312", 11)[:6] == "530102"


def test_fixture_ids_valid_unique_and_county_coded() -> None:
    ids = [p.id_number for p in sc.PEOPLE.values()]
    assert len(set(ids)) == len(ids)
    for p in sc.PEOPLE.values():
        assert is_valid_id(p.id_number), p
        assert p.id_number[:6] == p.county
        assert int(p.id_number[16]) % 2 == (1 if p.sex == "男" else 0), p


def test_scenario_counties_exist_in_reference() -> None:
    ref = pd.read_csv(SEED, dtype=str).set_index("county_code")
    for code, (city, county, *_rest) in sc.COUNTIES.items():
        assert ref.loc[code, "county_name_zh"] == county
        assert ref.loc[code, "prefecture_name_zh"] == city
    assert ref.loc[sc.W, "prefecture_code"] == ref.loc[sc.P, "prefecture_code"] == sc.KM
    assert ref.loc[sc.Z, "prefecture_code"] == sc.ZT
    assert sc.GD in ref.index and ref.loc[sc.GD, "prefecture_code"] == sc.KM


def test_rows_follow_spec_rules() -> None:
    """务工所在地 filled iff months > 0; months within 0-12 and ≤ the month of the year; codes in lists."""
    from dagster_project.source_shapes import EMPLOYMENT_CHANNELS, LABOR_SKILLS

    for m in sc.MONTHS:
        rows = sc.members_rows(m)
        assert len({r["证件号码"] for r in rows}) == len(rows)
        for r in rows:
            months = int(r["务工时间（月）"])
            assert 0 <= months <= int(m[5:])
            assert bool(r["务工所在地"]) == (months > 0), r
            assert r["劳动技能"] in LABOR_SKILLS
            assert r["就业渠道"] in (*EMPLOYMENT_CHANNELS, "")
            assert r["是否国外务工"] in ("是", "否")
        hh = sc.households_rows(m)
        for h in hh:  # 家庭人口数 = member rows of the household that year
            n = sum(1 for r in rows if r["户编号"] == h["户编号"])
            assert int(h["家庭人口数"]) == n, h


def _read_back(path: Path, style: FileStyle) -> pd.DataFrame:
    if style.fmt == "xlsx":
        df = pd.read_excel(path, dtype=str, engine="openpyxl", keep_default_na=False)
    else:
        df = pd.read_csv(path, dtype=str, encoding=style.encoding, keep_default_na=False)
    df.columns = [normalise_header(c) for c in df.columns]
    return df


def _as_text(v: str) -> str:
    """xlsx numeric cells come back from pandas as '3' or '80.5'; normalise '3.0' -> '3'."""
    try:
        f = float(v)
    except ValueError:
        return v
    return str(int(f)) if f.is_integer() and "." in v else v


@pytest.mark.parametrize("styles", [sc.ALL_UTF8, MIXED_STYLES], ids=["utf8", "mixed"])
def test_builder_round_trip(tmp_path: Path, styles: sc.Styles) -> None:
    landing = sc.build(Landing(tmp_path / "landing"), styles=styles)
    for m in sc.MONTHS:
        for kind, headers, rows, style in (
            ("members", MEMBER_HEADERS, sc.members_rows(m), styles.members[m]),
            ("households", HOUSEHOLD_HEADERS, sc.households_rows(m), styles.households[m]),
        ):
            path = landing.month_dir(m) / f"{kind}{style.suffix}"
            assert path.exists(), path
            assert len(list(landing.month_dir(m).glob(f"{kind}.*"))) == 1
            df = _read_back(path, style)
            assert set(headers) <= set(df.columns), (path, set(headers) - set(df.columns))
            assert set(df.columns) - set(headers) == set(style.extra_columns)
            if style.order == "canonical":
                assert list(df.columns[: len(headers)]) == list(headers)
            got = [{h: _as_text(str(rec[h])) for h in headers} for rec in df.to_dict("records")]
            assert got == [{h: r[h] for h in headers} for r in rows], path
    for name, rows, style in (("2023-06", sc.RELIEF_2023_06, styles.relief_06),
                              ("2023-09", sc.RELIEF_2023_09, styles.relief_09)):
        path = landing.root / "relief" / "2023" / f"{name}{style.suffix}"
        df = _read_back(path, style)
        got = [{h: _as_text(str(rec[h])) for h in RELIEF_HEADERS} for rec in df.to_dict("records")]
        assert got == rows
    # The HR database: every SPEC table, empty.
    con = sqlite3.connect(landing.hr_db_path)
    try:
        tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
        assert set(HR_TABLES) <= tables
        for t in HR_TABLES:
            cols = tuple(r[1] for r in con.execute(f"pragma table_info({t})"))
            assert cols == HR_TABLES[t]
            assert con.execute(f"select count(*) from {t}").fetchone()[0] == 0
    finally:
        con.close()


def test_encodings_really_differ(tmp_path: Path) -> None:
    """GB18030 bytes are not UTF-8, the BOM is there, half-width headers are half-width."""
    landing = sc.build(Landing(tmp_path / "landing"), styles=MIXED_STYLES)
    gb = (landing.month_dir("2022-03") / "members.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        gb.decode("utf-8")
    header = next(csv.reader([gb.decode("gb18030").splitlines()[0]]))
    assert "务工时间(月)" in header and "证件号码" in header
    bom = (landing.month_dir("2022-12") / "members.csv").read_bytes()
    assert bom.startswith(b"\xef\xbb\xbf")


def test_hr_db_with_rows(tmp_path: Path) -> None:
    import datetime as dt

    landing = Landing(tmp_path)
    landing.write_hr_db({"jobseeker": [{
        "reg_id": "J1", "id_number": sc.PEOPLE["A5"].id_number, "name": "李五梅", "phone": "13887100002",
        "county_code": sc.W, "registered_on": dt.date(2023, 1, 5), "wants_employment": True,
        "updated_at": dt.datetime(2023, 1, 5, 9, 0)}]})
    con = sqlite3.connect(landing.hr_db_path)
    try:
        assert con.execute("select count(*) from jobseeker").fetchone()[0] == 1
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------------
# A second, independent reckoning of the paper values: a tiny reference implementation of SPEC §2
# over the scenario literals. It guards my hand arithmetic, it is not the pipeline.
# ---------------------------------------------------------------------------------------------------
OTHER_PROVINCES = ("北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏",
                   "浙江", "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南",
                   "重庆", "四川", "贵州", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆", "台湾", "香港",
                   "澳门")
ORGANISED = ("政府组织输出", "劳务中介")


def _region_of(county: str, region: str) -> bool:
    prefecture = {sc.W: sc.KM, sc.P: sc.KM, sc.Z: sc.ZT}[county]
    return region in (county, prefecture, sc.YN)


def _work_region(p: sc.Person, month: str) -> str | None:
    months, loc, abroad, _ = sc.work(p.key, month)
    if months == 0:
        return None
    if abroad == "是":
        return "国外"
    if loc.startswith(OTHER_PROVINCES):
        return "省外"
    if sc.COUNTIES[p.county][1] in loc:
        return "县内"
    return "县外省内"


def _pop(month: str, region: str) -> list[sc.Person]:
    year = int(month[:4])
    return [p for p in sc.PEOPLE.values() if year in p.years
            and sc.HOUSEHOLDS[p.hh].hh_type == "脱贫户" and _region_of(p.county, region)]


def _employed(month: str, region: str) -> list[sc.Person]:
    return [p for p in _pop(month, region) if sc.work(p.key, month)[0] > 0]


def _pc(month: str, region: str) -> Fraction | None:
    hhs = [h for h in sc.HOUSEHOLDS.values() if h.hh_type == "脱贫户" and _region_of(h.county, region)]
    if month not in sc.MONTHS or not hhs:
        return None
    size = sum(sc.HH_SIZE[h.key][int(month[:4])] for h in hhs)
    return Fraction(sum(sc.WAGES[h.key][month] for h in hhs), size)


def _reference(month: str, region: str, kpi: str) -> tuple[Fraction | None, str]:
    year = int(month[:4])
    prior_end = max((m for m in sc.MONTHS if int(m[:4]) == year - 1), default=None)
    emp = _employed(month, region)
    num: float
    den: float
    if kpi in ("employment_vs_prior_year", "q1_progress"):
        if kpi == "q1_progress" and month[5:] != "03":
            return None, "no_data"  # only the March snapshot (later months would need March of Y)
        num, den = len(emp), len(_employed(prior_end, region)) if prior_end else 0
    elif kpi == "avg_employment_months":
        num, den = sum(sc.work(p.key, month)[0] for p in emp), len(emp)
    elif kpi == "wage_income_per_capita_growth":
        now, prior = _pc(month, region), _pc(f"{year - 1}{month[4:]}", region)
        if now is None or not prior:
            return None, "no_data"
        actual = now / prior - 1
        return actual, "met" if actual >= Fraction(18, 100) else "not_met"
    elif kpi == "out_of_province_share":
        num, den = sum(_work_region(p, month) in ("省外", "国外") for p in emp), len(emp)
    elif kpi == "organized_outflow_share":
        out = [p for p in emp if _work_region(p, month) != "县内"]
        num, den = sum(sc.work(p.key, month)[3] in ORGANISED for p in out), len(out)
    elif kpi == "yulu_graduate_employment_rate":
        grads = [p for p in _pop(month, region) if p.yulu == str(year)]
        num, den = sum(sc.work(p.key, month)[0] > 0 for p in grads), len(grads)
    else:
        rows = {r["项目编号"]: r for r in [*sc.RELIEF_2023_06, *sc.RELIEF_2023_09]}  # later file wins
        county_of = {v[1]: k for k, v in sc.COUNTIES.items()}
        projects = [r for r in rows.values() if int(r["年度"]) == year
                    and _region_of(county_of[r["县"]], region)]
        rule = {sc.FUND_CB: Fraction(3, 10), sc.FUND_BR: Fraction(2, 10)}
        if kpi == "relief_project_compliance":
            ruled = [r for r in projects if r["资金来源"] in rule]
            num = sum(Fraction(r["劳务报酬发放金额（万元）"]) / Fraction(r["中央资金（万元）"])
                      >= rule[r["资金来源"]] for r in ruled)
            den = len(ruled)
        else:
            fund = sc.FUND_CB if kpi == "relief_ratio_central_budget" else sc.FUND_BR
            sel = [r for r in projects if r["资金来源"] == fund]
            num = sum(Fraction(r["劳务报酬发放金额（万元）"]) for r in sel)
            den = sum(Fraction(r["中央资金（万元）"]) for r in sel)
    if not den:
        return None, "no_data"
    actual = Fraction(num) / Fraction(den)
    return actual, "met" if actual >= Fraction(str(sc.TARGETS[kpi])) else "not_met"


@pytest.mark.parametrize("month", sc.MONTHS)
@pytest.mark.parametrize("kpi", sc.KPIS)
def test_paper_values_agree_with_reference_reckoning(month: str, kpi: str) -> None:
    for region in sc.DATA_REGIONS:
        exp = sc.expected(sc.AS_OF[month], region, kpi)
        actual, status = _reference(month, region, kpi)
        assert exp.status == status, (month, region, kpi, exp, actual)
        if actual is None:
            assert exp.actual is None
        else:
            assert exp.actual == pytest.approx(float(actual), rel=1e-12), (month, region, kpi)
        if exp.actual is not None and exp.num not in (sc.ANY, sc.ZERO_OR_NULL):
            assert Fraction(str(exp.num)) / Fraction(str(exp.den)) == actual


def test_paper_statuses_match_targets() -> None:
    for (_as_of, kpi), values in sc.PAPER.items():
        for region, exp in values.items():
            if exp.actual is None:
                assert exp.status == "no_data", (kpi, region)
            else:
                want = "met" if exp.actual >= sc.TARGETS[kpi] - 1e-12 else "not_met"
                assert exp.status == want, (kpi, region, exp)
    assert {k for _m, k in sc.PAPER} == set(sc.KPIS)
    assert {m for m, _k in sc.PAPER} == set(sc.AS_OF.values())
