"""(c) The baseline: the same files and the same KPIs, written the way a team would start — pandas
``read_csv`` / ``read_excel``, Great Expectations through its pandas datasource, the row rules and
the KPIs in pandas.

It follows SPEC §2–§3 and the raw suites (expectations/gx/expectations/raw/*.json) as closely as
single-column and compound-column GE expectations can express them; the rules GE cannot express on a
DataFrame (the GB 11643 check digit, 务工所在地 iff 务工时间 > 0) are pandas filters. Rows breaking a
rule are dropped, a file whose dropped share exceeds ZENGSHOU_MAX_REJECT_RATE is not used, and the ten
KPIs of marts.kpi_scorecard are computed for every snapshot at province, prefecture and county level.

Run: ``python -m bench.baseline --landing DIR --out kpis.parquet [--json stats.json]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
sys.path.insert(0, str(REPO))

from dagster_project.ingest.readers import detect_encoding  # noqa: E402
from dagster_project.source_shapes import (  # noqa: E402  (the shapes: which header is which column)
    EMPLOYMENT_CHANNELS,
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_TYPES,
    LABOR_SKILLS,
    MEMBER_COLUMNS,
    MONITORING_CATEGORIES,
    RELIEF_COLUMNS,
    YES_NO,
    canonical_map,
    normalise_header,
)

KPI_CODES = (
    "employment_vs_prior_year", "q1_progress", "avg_employment_months", "wage_income_per_capita_growth",
    "out_of_province_share", "organized_outflow_share", "yulu_graduate_employment_rate",
    "relief_ratio_central_budget", "relief_ratio_bridging_funds", "relief_project_compliance",
)
PROVINCE = "530000"
WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
CHECK = np.array(list("10X98765432"))
AMOUNTS = ("wage_income_yuan", "business_income_yuan", "transfer_income_yuan", "property_income_yuan")
FUND_CENTRAL, FUND_BRIDGING = "中央预算内投资", "中央财政衔接推进乡村振兴补助资金"
ORGANISED = ("政府组织输出", "劳务中介")


# ------------------------------------------------------------------------------------------------
# reading
# ------------------------------------------------------------------------------------------------

def _cell(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def read_file(path: Path, shape: dict[str, str]) -> pd.DataFrame:
    """Every column as text (trimmed, empty -> missing), headers mapped to the raw column names."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        df = pd.read_excel(path, dtype=object)
        df = df.apply(lambda col: col.map(_cell)).astype("str")
    else:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=detect_encoding(path), on_bad_lines="skip")
    lookup = canonical_map(shape)
    rename, seen = {}, set()
    for col in df.columns:
        raw = lookup.get(normalise_header(col))
        if raw and raw not in seen:
            rename[col] = raw
            seen.add(raw)
    df = df[list(rename)].rename(columns=rename)
    for col in df.columns:
        s = df[col].str.strip()
        df[col] = s.where(s != "")
    df["source_row"] = np.arange(1, len(df) + 1)
    return df


# ------------------------------------------------------------------------------------------------
# Great Expectations, pandas datasource
# ------------------------------------------------------------------------------------------------

def _ge_expectations(kind: str, year: str) -> list:
    from great_expectations import expectations as gxe

    columns = {"members": MEMBER_COLUMNS, "households": HOUSEHOLD_COLUMNS, "relief": RELIEF_COLUMNS}[kind]
    out = [gxe.ExpectTableRowCountToBeBetween(min_value=1)]
    out += [gxe.ExpectColumnToExist(column=c) for c in ["county_code", *columns.values()]]
    out += [gxe.ExpectColumnValuesToNotBeNull(column="county_code"),
            gxe.ExpectColumnValuesToBeInSet(column="year", value_set=[year]),
            gxe.ExpectColumnValuesToNotBeNull(column="year")]
    id_regex = "^[0-9]{17}[0-9Xx]$"
    if kind == "members":
        months = [str(i) for i in range(13)] + [f"0{i}" for i in range(10)]
        out += [gxe.ExpectColumnValuesToNotBeNull(column="id_number"),
                gxe.ExpectColumnValuesToMatchRegex(column="id_number", regex=id_regex),
                gxe.ExpectColumnValuesToNotBeNull(column="months_worked"),
                gxe.ExpectColumnValuesToBeInSet(column="months_worked", value_set=months),
                gxe.ExpectColumnValuesToNotBeNull(column="labor_skill"),
                gxe.ExpectColumnValuesToBeInSet(column="labor_skill", value_set=list(LABOR_SKILLS)),
                gxe.ExpectColumnValuesToBeInSet(column="employment_channel", value_set=list(EMPLOYMENT_CHANNELS)),
                gxe.ExpectColumnValuesToNotBeNull(column="is_abroad"),
                gxe.ExpectColumnValuesToBeInSet(column="is_abroad", value_set=list(YES_NO)),
                gxe.ExpectColumnValuesToMatchRegex(column="yulu_graduation_year", regex="^(19|20)[0-9]{2}$"),
                gxe.ExpectCompoundColumnsToBeUnique(column_list=["id_number", "year"])]
    elif kind == "households":
        amount = r"^-?[0-9]+(\.[0-9]+)?$"
        out += [gxe.ExpectColumnValuesToNotBeNull(column="head_id_number"),
                gxe.ExpectColumnValuesToMatchRegex(column="head_id_number", regex=id_regex),
                gxe.ExpectColumnValuesToNotBeNull(column="household_type"),
                gxe.ExpectColumnValuesToBeInSet(column="household_type", value_set=list(HOUSEHOLD_TYPES)),
                gxe.ExpectColumnValuesToBeInSet(column="monitoring_category", value_set=list(MONITORING_CATEGORIES)),
                gxe.ExpectColumnValuesToBeInSet(column="is_relocated", value_set=list(YES_NO)),
                gxe.ExpectColumnValuesToMatchRegex(column="household_size", regex="^[0-9]+$"),
                *[gxe.ExpectColumnValuesToMatchRegex(column=c, regex=amount) for c in AMOUNTS],
                gxe.ExpectCompoundColumnsToBeUnique(column_list=["county_code", "household_id", "year"])]
    else:
        amount = r"^[0-9]+(\.[0-9]+)?$"
        out += [gxe.ExpectColumnValuesToNotBeNull(column="project_id"),
                gxe.ExpectColumnValuesToMatchRegex(column="central_funds_wan", regex=amount),
                gxe.ExpectColumnValuesToMatchRegex(column="labor_remuneration_wan", regex=amount),
                gxe.ExpectColumnValuesToBeUnique(column="project_id")]
    return out


def ge_validate(df: pd.DataFrame, kind: str, year: str) -> dict:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    suite = gx.ExpectationSuite(name=f"baseline.{kind}")
    for expectation in _ge_expectations(kind, year):
        suite.add_expectation(expectation)
    suite = context.suites.add(suite)
    asset = context.data_sources.add_pandas("files").add_dataframe_asset(name=kind)
    batch = asset.add_batch_definition_whole_dataframe("whole").get_batch(batch_parameters={"dataframe": df})
    result = batch.validate(suite, result_format="SUMMARY")
    return {"success": bool(result.success), "evaluated": result.statistics["evaluated_expectations"],
            "successful": result.statistics["successful_expectations"]}


# ------------------------------------------------------------------------------------------------
# row rules (SPEC §3) in pandas
# ------------------------------------------------------------------------------------------------

def id_invalid(ids: pd.Series) -> np.ndarray:
    """GB 11643: 17 digits, then '10X98765432'[sum(d_i * w_i) mod 11] (X in either case)."""
    fmt = ids.str.fullmatch(r"[0-9]{17}[0-9Xx]").fillna(False).to_numpy(dtype=bool)
    ok = np.zeros(len(ids), dtype=bool)
    good = ids[fmt]
    if len(good):
        digits = np.frombuffer("".join(good.str.slice(0, 17).tolist()).encode("ascii"), dtype=np.uint8)
        sums = ((digits.reshape(-1, 17).astype(np.int64) - 48) @ WEIGHTS) % 11
        ok[fmt] = CHECK[sums] == good.str.slice(17, 18).str.upper().to_numpy(dtype=object)
    return ~ok


def _counties() -> pd.DataFrame:
    return pd.read_csv(SEEDS / "yunnan_counties.csv", dtype=str)


def resolve_county(df: pd.DataFrame, counties: pd.DataFrame) -> pd.DataFrame:
    lookup = counties[["county_name_zh", "prefecture_name_zh", "county_code", "prefecture_code"]].rename(
        columns={"county_name_zh": "county_name", "prefecture_name_zh": "prefecture_name"})
    return df.merge(lookup, on=["county_name", "prefecture_name"], how="left")


def _dup(df: pd.DataFrame, keys: list[str]) -> pd.Series:
    usable = df[keys].notna().all(axis=1)
    return usable & df[keys].duplicated(keep=False)


def member_bad(df: pd.DataFrame, year: str) -> pd.Series:
    mw = df["months_worked"]
    months_ok = (mw.notna() & (mw.str.len() <= 2) & mw.str.fullmatch("[0-9]+").fillna(False)
                 & (pd.to_numeric(mw, errors="coerce") <= 12)).fillna(False)
    months = pd.to_numeric(mw.where(months_ok), errors="coerce")
    yulu = df["yulu_graduation_year"]
    bad = pd.Series(id_invalid(df["id_number"]), index=df.index)
    bad |= df["county_code"].isna()
    bad |= df["year"].ne(year) | df["year"].isna()
    bad |= ~months_ok
    bad |= months_ok & ((months > 0) != df["work_location"].notna())
    bad |= (df["labor_skill"].isna() | ~df["labor_skill"].isin(LABOR_SKILLS)
            | (df["employment_channel"].notna() & ~df["employment_channel"].isin(EMPLOYMENT_CHANNELS))
            | df["is_abroad"].isna() | ~df["is_abroad"].isin(YES_NO)
            | (yulu.notna() & ~yulu.str.fullmatch("(19|20)[0-9][0-9]").fillna(False)))
    keyed = df.assign(_id=df["id_number"].str.upper())
    bad |= _dup(keyed, ["_id", "year"])
    return bad


def household_bad(df: pd.DataFrame, year: str) -> pd.Series:
    size = df["household_size"]
    size_ok = (size.str.fullmatch("[0-9]+").fillna(False)
               & pd.to_numeric(size, errors="coerce").between(1, 99)).fillna(False)
    bad = pd.Series(id_invalid(df["head_id_number"]), index=df.index)
    bad |= df["county_code"].isna()
    bad |= df["year"].ne(year) | df["year"].isna()
    bad |= (df["household_type"].isna() | ~df["household_type"].isin(HOUSEHOLD_TYPES)
            | (df["monitoring_category"].notna() & ~df["monitoring_category"].isin(MONITORING_CATEGORIES))
            | (df["is_relocated"].notna() & ~df["is_relocated"].isin(YES_NO)))
    bad |= ~size_ok
    for col in AMOUNTS:
        bad |= df[col].notna() & pd.to_numeric(df[col], errors="coerce").isna()
    bad |= _dup(df, ["county_code", "household_id", "year"])
    return bad


def relief_bad(df: pd.DataFrame, year: str) -> pd.Series:
    bad = df["project_id"].isna() | df["county_code"].isna() | df["year"].ne(year) | df["year"].isna()
    for col in ("central_funds_wan", "labor_remuneration_wan"):
        value = pd.to_numeric(df[col], errors="coerce")
        bad |= value.isna() | (value < 0)
    bad |= _dup(df, ["project_id"])
    return bad


# ------------------------------------------------------------------------------------------------
# KPIs (SPEC §2) in pandas
# ------------------------------------------------------------------------------------------------

def work_regions(members: pd.DataFrame, counties: pd.DataFrame) -> pd.Series:
    """国外 / 省外 / 县内 / 县外省内 of every member row (used for the employed only)."""
    provinces = pd.read_csv(SEEDS / "province_level_names.csv", dtype=str)
    others = provinces[provinces["short_name"] != "云南"]
    prefixes = tuple(p for p in [*others["short_name"].dropna(), *others["full_name"].dropna()])
    names = dict(zip(counties["county_code"], counties["county_name_zh"], strict=True))
    shadows = {code: [o for o in names.values() if o != name and name in o] for code, name in names.items()}
    pairs = members[["county_code", "work_location"]].dropna().drop_duplicates()

    def place(code: str, loc: str) -> str:
        if loc.startswith(prefixes):
            return "省外"
        own = names.get(code)
        if own and own in loc and not any(s in loc for s in shadows.get(code, [])):
            return "县内"
        return "县外省内"

    pairs["place"] = [place(c, loc) for c, loc in zip(pairs["county_code"], pairs["work_location"], strict=True)]
    placed = members[["county_code", "work_location"]].merge(pairs, on=["county_code", "work_location"], how="left")
    region = placed["place"].fillna("县外省内").to_numpy(dtype=object)
    region[(members["is_abroad"] == "是").to_numpy()] = "国外"
    return pd.Series(region, index=members.index)


def _ancestors(counties: pd.DataFrame) -> pd.DataFrame:
    c = counties[["county_code", "prefecture_code"]]
    return pd.concat([
        pd.DataFrame({"county_code": c["county_code"], "region_code": c["county_code"]}),
        pd.DataFrame({"county_code": c["county_code"], "region_code": c["prefecture_code"]}),
        pd.DataFrame({"county_code": c["county_code"], "region_code": PROVINCE}),
    ], ignore_index=True)


def _regions(counties: pd.DataFrame) -> pd.DataFrame:
    pref = counties[["prefecture_code"]].drop_duplicates()
    return pd.concat([
        pd.DataFrame({"region_code": [PROVINCE], "region_level": ["province"]}),
        pd.DataFrame({"region_code": pref["prefecture_code"], "region_level": "prefecture"}),
        pd.DataFrame({"region_code": counties["county_code"], "region_level": "county"}),
    ], ignore_index=True)


def _safe(num: pd.Series, den: pd.Series) -> pd.Series:
    num, den = num.astype("float64"), den.astype("float64")
    return (num / den).where(den.notna() & (den != 0))


def compute_kpis(members: pd.DataFrame, households: pd.DataFrame, relief: pd.DataFrame,
                 counties: pd.DataFrame) -> pd.DataFrame:
    ancestors = _ancestors(counties)

    # -- members: population P, employment, work region
    hh = households[["as_of_month", "county_code", "household_id", "household_type"]]
    cols = ["as_of_month", "county_code", "household_id", "months_worked", "is_abroad", "work_location",
            "employment_channel", "yulu_graduation_year"]
    m = members[cols].merge(hh, on=["as_of_month", "county_code", "household_id"], how="left")
    m = m[m["household_type"] == "脱贫户"].copy()
    m["months"] = pd.to_numeric(m["months_worked"]).astype("int64")
    m["employed"] = m["months"] > 0
    region = work_regions(m, counties)
    m["out_of_province"] = m["employed"] & region.isin(["省外", "国外"])
    m["out_of_county"] = m["employed"] & region.isin(["县外省内", "省外", "国外"])
    m["organised_out"] = m["out_of_county"] & m["employment_channel"].isin(ORGANISED)
    m["yulu"] = pd.to_numeric(m["yulu_graduation_year"]) == m["as_of_month"].str.slice(0, 4).astype(int)
    m["yulu_employed"] = m["yulu"] & m["employed"]
    m["employed_months"] = m["months"].where(m["employed"], 0)
    flags = ["employed", "employed_months", "out_of_province", "out_of_county", "organised_out", "yulu",
             "yulu_employed"]
    per_county = m.groupby(["as_of_month", "county_code"])[flags].sum().reset_index()
    emp = per_county.merge(ancestors, on="county_code").groupby(["as_of_month", "region_code"])[flags].sum()

    # -- households: per-capita wage income of 脱贫户
    h = households[households["household_type"] == "脱贫户"].copy()
    h["wage"] = pd.to_numeric(h["wage_income_yuan"])
    h["size"] = pd.to_numeric(h["household_size"])
    inc_c = h.groupby(["as_of_month", "county_code"])[["wage", "size"]].sum(min_count=1).reset_index()
    inc = inc_c.merge(ancestors, on="county_code").groupby(["as_of_month", "region_code"])[["wage", "size"]].sum(
        min_count=1)
    inc["pc"] = _safe(inc["wage"], inc["size"])

    # -- relief: latest ledger state per year × project
    r = relief.sort_values(["report_year", "project_id", "report_file", "source_row"])
    r = r.drop_duplicates(["report_year", "project_id"], keep="last").copy()
    r["central"] = pd.to_numeric(r["central_funds_wan"])
    r["pay"] = pd.to_numeric(r["labor_remuneration_wan"])
    r["required"] = r["fund_source"].map({FUND_CENTRAL: 0.30, FUND_BRIDGING: 0.20})
    ratio = _safe(r["pay"], r["central"])
    r["ruled"] = r["required"].notna() & ratio.notna()
    r["compliant"] = r["ruled"] & (ratio >= r["required"])
    is_cb, is_br = r["fund_source"] == FUND_CENTRAL, r["fund_source"] == FUND_BRIDGING
    r["cb_pay"], r["cb_funds"] = r["pay"].where(is_cb, 0.0), r["central"].where(is_cb, 0.0)
    r["br_pay"], r["br_funds"] = r["pay"].where(is_br, 0.0), r["central"].where(is_br, 0.0)
    sums = ["cb_pay", "cb_funds", "br_pay", "br_funds", "ruled", "compliant"]
    rel = (r.groupby(["report_year", "county_code"])[sums].sum().reset_index().merge(ancestors, on="county_code")
           .groupby(["report_year", "region_code"])[sums].sum())

    # -- spine: snapshot × region, with the snapshots each KPI compares against
    snaps = pd.DataFrame({"as_of_month": sorted(members["as_of_month"].unique())})
    snaps["year"] = snaps["as_of_month"].str.slice(0, 4).astype(int)
    snaps["month"] = snaps["as_of_month"].str.slice(5, 7).astype(int)
    year_end = snaps.groupby("year")["as_of_month"].max()
    known = set(snaps["as_of_month"])
    snaps["prior_end"] = snaps["year"].map(lambda y: year_end.get(y - 1))
    snaps["same_prior"] = [f"{y - 1:04d}-{mo:02d}-01" if f"{y - 1:04d}-{mo:02d}-01" in known else None
                           for y, mo in zip(snaps["year"], snaps["month"], strict=True)]
    snaps["march"] = [f"{y:04d}-03-01" if mo >= 3 and f"{y:04d}-03-01" in known else None
                      for y, mo in zip(snaps["year"], snaps["month"], strict=True)]
    spine = snaps.merge(_regions(counties), how="cross")

    def lookup(table: pd.DataFrame, month_col: str, col: str) -> pd.Series:
        keys = pd.MultiIndex.from_arrays([spine[month_col], spine["region_code"]])
        return pd.Series(table[col].reindex(keys).to_numpy(), index=spine.index)

    def measure(month_col: str, col: str) -> pd.Series:  # 0 where the compared snapshot exists
        return lookup(emp, month_col, col).astype("float64").fillna(0).where(spine[month_col].notna())

    cur = {f: measure("as_of_month", f) for f in flags}
    prior_end = measure("prior_end", "employed")
    march = measure("march", "employed")
    pc_cur, pc_prior = lookup(inc, "as_of_month", "pc"), lookup(inc, "same_prior", "pc")
    rel_keys = pd.MultiIndex.from_arrays([spine["year"], spine["region_code"]])
    relv = {c: pd.Series(rel[c].reindex(rel_keys).to_numpy(), index=spine.index).astype("float64").fillna(0)
            for c in sums}

    def kpi(code: str, num: pd.Series, den: pd.Series, actual: pd.Series | None = None) -> pd.DataFrame:
        if actual is None:
            actual = _safe(num, den).where(num.notna())
        return pd.DataFrame({"as_of_month": spine["as_of_month"], "region_code": spine["region_code"],
                             "region_level": spine["region_level"], "kpi_code": code,
                             "numerator": num.astype("float64"), "denominator": den.astype("float64"),
                             "actual_value": actual.astype("float64")})

    growth = (_safe(pc_cur, pc_prior) - 1).where(pc_cur.notna())
    out = pd.concat([
        kpi("employment_vs_prior_year", cur["employed"], prior_end),
        kpi("q1_progress", march, prior_end.where(march.notna())),
        kpi("avg_employment_months", cur["employed_months"], cur["employed"]),
        kpi("wage_income_per_capita_growth", pc_cur, pc_prior, growth),
        kpi("out_of_province_share", cur["out_of_province"], cur["employed"]),
        kpi("organized_outflow_share", cur["organised_out"], cur["out_of_county"]),
        kpi("yulu_graduate_employment_rate", cur["yulu_employed"], cur["yulu"]),
        kpi("relief_ratio_central_budget", relv["cb_pay"], relv["cb_funds"], _safe(relv["cb_pay"], relv["cb_funds"])),
        kpi("relief_ratio_bridging_funds", relv["br_pay"], relv["br_funds"], _safe(relv["br_pay"], relv["br_funds"])),
        kpi("relief_project_compliance", relv["compliant"], relv["ruled"], _safe(relv["compliant"], relv["ruled"])),
    ], ignore_index=True)

    targets = pd.read_csv(SEEDS / "kpi_targets.csv", dtype={"kpi_code": str})
    out = out.merge(targets[["kpi_code", "target_value", "comparator", "target_scope"]], on="kpi_code", how="left")
    applies = (out["target_scope"] == "all") | (out["target_scope"] == out["region_level"])
    out["target_value"] = out["target_value"].where(applies)
    out["comparator"] = out["comparator"].where(applies)
    met = np.select(
        [out["comparator"] == ">=", out["comparator"] == ">", out["comparator"] == "<=", out["comparator"] == "<",
         out["comparator"] == "="],
        [out["actual_value"] >= out["target_value"], out["actual_value"] > out["target_value"],
         out["actual_value"] <= out["target_value"], out["actual_value"] < out["target_value"],
         out["actual_value"] == out["target_value"]], False)
    out["status"] = np.where(out["actual_value"].isna(), "no_data",
                             np.where(out["target_value"].isna() | out["comparator"].isna(), "no_target",
                                      np.where(met, "met", "not_met")))
    return out.drop(columns=["target_scope"])


# ------------------------------------------------------------------------------------------------
# the whole baseline
# ------------------------------------------------------------------------------------------------

_MONTH = re.compile(r"^\d{4}-\d{2}$")


def _monitoring_file(folder: Path, stem: str) -> Path | None:
    found = [p for p in folder.glob(f"{stem}.*") if p.suffix.lower() in (".csv", ".xlsx", ".xlsm")]
    return found[0] if found else None


def run_baseline(landing: Path, max_reject_rate: float = 0.02, validate: bool = True) -> tuple[pd.DataFrame, dict]:
    timings: dict[str, float] = {"read": 0.0, "ge": 0.0, "rules": 0.0, "kpis": 0.0}
    counties = _counties()
    stats: dict = {"files": {}}

    def load(path: Path, shape: dict[str, str], kind: str, year: str, constants: dict[str, object]):
        t = time.perf_counter()
        df = read_file(path, shape)
        if "county_name" in df and "prefecture_name" in df:
            df = resolve_county(df, counties)
        else:
            df["county_code"] = None
        for k, v in constants.items():
            df[k] = v
        timings["read"] += time.perf_counter() - t
        t = time.perf_counter()
        ge = ge_validate(df, kind, year) if validate else None
        timings["ge"] += time.perf_counter() - t
        t = time.perf_counter()
        bad = {"members": member_bad, "households": household_bad, "relief": relief_bad}[kind](df, year)
        rate = float(bad.mean()) if len(df) else 0.0
        kept = df[~bad.to_numpy()] if rate <= max_reject_rate else None
        timings["rules"] += time.perf_counter() - t
        stats["files"][str(path.relative_to(landing))] = {"rows": len(df), "rejected_rows": int(bad.sum()),
                                                          "published": kept is not None, "ge": ge}
        return kept

    members, households, relief = [], [], []
    root = landing / "monitoring"
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and _MONTH.match(p.name)):
        month = f"{folder.name}-01"
        for stem, shape, sink in (("members", MEMBER_COLUMNS, members), ("households", HOUSEHOLD_COLUMNS, households)):
            path = _monitoring_file(folder, stem)
            df = None if path is None else load(path, shape, stem, folder.name[:4], {"as_of_month": month})
            if df is not None:
                sink.append(df)
    for year_dir in sorted(p for p in (landing / "relief").iterdir() if p.is_dir()):
        for path in sorted(p for p in year_dir.iterdir() if p.suffix.lower() in (".csv", ".xlsx", ".xlsm")):
            constants = {"report_year": int(year_dir.name), "report_file": path.name}
            if (df := load(path, RELIEF_COLUMNS, "relief", year_dir.name, constants)) is not None:
                relief.append(df)
    t = time.perf_counter()
    kpis = compute_kpis(pd.concat(members, ignore_index=True), pd.concat(households, ignore_index=True),
                        pd.concat(relief, ignore_index=True), counties)
    timings["kpis"] += time.perf_counter() - t
    stats["seconds"] = {k: round(v, 3) for k, v in timings.items()}
    return kpis, stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="KPI table (parquet)")
    parser.add_argument("--json", type=Path, help="timings and per-file counts")
    parser.add_argument("--no-ge", action="store_true", help="skip the GE validation (for debugging only)")
    args = parser.parse_args(argv)
    kpis, stats = run_baseline(args.landing, float(os.environ.get("ZENGSHOU_MAX_REJECT_RATE") or 0.02),
                               validate=not args.no_ge)
    kpis.to_parquet(args.out, index=False)
    if args.json:
        args.json.write_text(json.dumps(stats, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
