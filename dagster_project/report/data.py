"""Read everything the report shows out of the warehouse in one short read-only session.

DuckDB allows a single writer per file, and `zengshou run` / the Dagster asset may want to write the
warehouse right after (or before) a report is built. So the report opens the file read-only, copies
the few thousand rows it needs into plain Python objects, and closes the connection before any HTML
is rendered. Nothing here knows about HTML.

Only the marts contract (SPEC §4) and the `reference.kpi_targets` seed are read: the KPI list comes
from the scorecard itself (whatever kpi_codes it holds, including ones added later), labelled from
the seed, so a new KPI family appears in the report without a code change here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from dagster_project.ingest.warehouse_lock import WarehouseBusy, open_read_only
from dagster_project.settings import DEFAULT_DUCKDB_MEMORY_LIMIT

TREND_KPIS: tuple[str, ...] = ("employment_vs_prior_year", "avg_employment_months", "wage_income_per_capita_growth")
# Early-warning reasons (SPEC §2.3) in report order, with the Chinese labels officials read.
WARNING_REASONS: dict[str, str] = {"stalled": "断工", "returned": "返乡回流", "unserved": "有意愿未就业未服务"}
# The local-employment quality rows (就地就近, SPEC §2.3) shown together in their own section.
LOCAL_KPIS: tuple[str, ...] = ("local_employment_count", "local_employment_share", "local_avg_employment_months",
                               "rural_craftsmen")
STATUSES: tuple[str, ...] = ("met", "not_met", "no_target", "no_data")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class ReportError(ValueError):
    """The report cannot be built (warehouse missing or locked, month absent …): a one-line reason."""


@dataclass(frozen=True)
class Kpi:
    """One KPI as the report labels it; `order` fixes its number (①, ②, …) across every section."""

    order: int
    code: str
    label_zh: str
    label_en: str
    family: str
    unit: str


@dataclass(frozen=True)
class Score:
    """One scorecard cell (region × KPI) of the reported month."""

    region_level: str
    region_code: str
    region_name: str
    parent_code: str | None
    kpi_code: str
    actual: float | None
    numerator: float | None
    denominator: float | None
    target: float | None
    comparator: str | None
    status: str
    # SPEC §2.1 pace, read from the mart (None when the warehouse predates it): the target pro-rated to
    # the month and on_track / behind / not_due / no_target / no_data.
    progress_target: float | None = None
    progress_status: str | None = None


@dataclass(frozen=True)
class TrendPoint:
    """Province value of one KPI in one month, with the spread across prefectures for context."""

    month: date
    province: float | None
    prefecture_min: float | None
    prefecture_max: float | None
    target: float | None
    # the province row's status as the mart decided it (met / not_met / no_target / no_data): the report
    # colours points by it and never compares a value with its target itself
    status: str | None = None


@dataclass(frozen=True)
class Project:
    """One 以工代赈 project of the reported year (fct_relief_wage_ratio), with its region names."""

    project_id: str
    project_name: str | None
    prefecture_name: str | None
    county_code: str | None
    county_name: str | None
    fund_source: str | None
    central_funds_wan: float | None
    labor_remuneration_wan: float | None
    remuneration_ratio: float | None
    required_ratio: float | None
    is_compliant: bool | None


@dataclass(frozen=True)
class WarningCount:
    """Persons on the early-warning worklist of one county for one reason (marts.fct_early_warning_counts):
    the report shows counts only, never the list (that is for county roles, SPEC §2.3)."""

    prefecture_code: str | None
    county_code: str
    county_name: str | None
    reason: str
    persons: int


@dataclass(frozen=True)
class ReportData:
    """Everything one report shows, detached from the warehouse."""

    warehouse: Path
    as_of_month: date
    months: list[date]
    kpis: list[Kpi]
    scores: list[Score]
    trends: dict[str, list[TrendPoint]]
    projects: list[Project]
    generated_at: datetime
    # None: the warehouse has no marts.fct_early_warning_counts (built before SPEC §2.3)
    warnings: list[WarningCount] | None = field(default=None)

    @property
    def year(self) -> int:
        return self.as_of_month.year

    @property
    def is_year_end(self) -> bool:
        """December: the annual verdict (status) is what the report leads with (SPEC §2.1)."""
        return self.as_of_month.month == 12

    @property
    def has_pace(self) -> bool:
        return any(s.progress_status is not None for s in self.scores)

    @property
    def leads_with_pace(self) -> bool:
        """Through the year officials see pace first; in December, or on a warehouse without pace, status."""
        return self.has_pace and not self.is_year_end

    def kpi(self, code: str) -> Kpi | None:
        return next((k for k in self.kpis if k.code == code), None)


def parse_month(value: str) -> date:
    """'YYYY-MM' → first day of that month; ReportError (not a traceback) for anything else."""
    m = _MONTH.match(value.strip())
    if not m:
        raise ReportError(f"month must be YYYY-MM, not {value!r}")
    return date(int(m.group(1)), int(m.group(2)), 1)


def connect_read_only(warehouse: Path, memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-only, turning 'missing' and 'locked by a writer' into one-line reasons;
    capped like every warehouse connection (ZENGSHOU_DUCKDB_MEMORY_LIMIT, passed down by the callers)."""
    if not warehouse.is_file():
        raise ReportError(f"warehouse {warehouse} does not exist: run `zengshou run` first")
    try:
        return open_read_only(warehouse, memory_limit, wait=0)  # never wait for a writer: say who holds it
    except WarehouseBusy as exc:  # its cause names who holds the file
        raise ReportError(f"cannot open warehouse {warehouse} read-only: {exc.cause}") from exc
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ReportError(f"cannot open warehouse {warehouse} read-only: {first}") from exc


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()
    return bool(row and row[0])


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # DECIMAL → float; the report only formats them


def available_months(con: duckdb.DuckDBPyConnection) -> list[date]:
    """Every as_of_month of the scorecard, oldest first."""
    if not _table_exists(con, "marts", "kpi_scorecard"):
        raise ReportError("marts.kpi_scorecard is missing: run `zengshou run` first")
    return [r[0] for r in con.execute("select distinct as_of_month from marts.kpi_scorecard order by 1").fetchall()]


def resolve_month(months: list[date], as_of_month: str | None) -> date:
    """The requested month if the scorecard has it, else the latest one; ReportError when neither exists."""
    if not months:
        raise ReportError("marts.kpi_scorecard is empty: no snapshot has been loaded yet")
    if as_of_month is None:
        return months[-1]
    wanted = parse_month(as_of_month)
    if wanted not in months:
        have = ", ".join(m.strftime("%Y-%m") for m in months)
        raise ReportError(f"no scorecard for {wanted:%Y-%m}; available months: {have}")
    return wanted


def _kpis(con: duckdb.DuckDBPyConnection, month: date) -> list[Kpi]:
    """KPIs present in the scorecard for the month, in seed order; unknown codes keep their code as label."""
    has_seed = _table_exists(con, "reference", "kpi_targets")
    seed = (
        "select kpi_code, kpi_label_zh, kpi_label_en, kpi_family, unit, row_number() over () as seed_order "
        "from reference.kpi_targets"
        if has_seed
        else "select null::varchar as kpi_code, null::varchar as kpi_label_zh, null::varchar as kpi_label_en, "
        "null::varchar as kpi_family, null::varchar as unit, null::bigint as seed_order where false"
    )
    rows = con.execute(
        f"""
        with present as (select distinct kpi_code from marts.kpi_scorecard where as_of_month = ?),
             seed as ({seed})
        select p.kpi_code, s.kpi_label_zh, s.kpi_label_en, s.kpi_family, s.unit
        from present p left join seed s using (kpi_code)
        order by s.seed_order nulls last, p.kpi_code
        """,
        [month],
    ).fetchall()
    return [
        Kpi(order=i, code=code, label_zh=zh or code, label_en=en or "", family=family or "other", unit=unit or "ratio")
        for i, (code, zh, en, family, unit) in enumerate(rows, start=1)
    ]


def _scores(con: duckdb.DuckDBPyConnection, month: date) -> list[Score]:
    cols = {r[0] for r in con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'marts' and table_name = 'kpi_scorecard'").fetchall()}
    pace = ("s.progress_target_value, s.progress_status" if {"progress_target_value", "progress_status"} <= cols
            else "null::double, null::varchar")
    rows = con.execute(
        f"""
        select s.region_level, s.region_code, coalesce(s.region_name, r.region_name, s.region_code), r.parent_code,
               s.kpi_code, s.actual_value, s.numerator, s.denominator, s.target_value, s.comparator,
               coalesce(s.status, 'no_data'), {pace}
        from marts.kpi_scorecard s
        left join marts.dim_region r using (region_code)
        where s.as_of_month = ?
        order by s.region_code, s.kpi_code
        """,
        [month],
    ).fetchall()
    return [
        Score(level, code, name, parent, kpi, _float(a), _float(n), _float(d), _float(t), comp, status,
              _float(pt), ps)
        for level, code, name, parent, kpi, a, n, d, t, comp, status, pt, ps in rows
    ]


def _trends(con: duckdb.DuckDBPyConnection, month: date) -> dict[str, list[TrendPoint]]:
    """Month series of the trend KPIs over the reported year up to the reported month.

    Only year Y is drawn: these KPIs are year-to-date or year-over-year definitions, so a line that
    ran on across a year boundary would suggest a continuity the numbers do not have.
    """
    rows = con.execute(
        """
        select kpi_code, as_of_month,
               max(case when region_level = 'province' then actual_value end),
               min(case when region_level = 'prefecture' then actual_value end),
               max(case when region_level = 'prefecture' then actual_value end),
               max(case when region_level = 'province' then target_value end),
               max(case when region_level = 'province' then status end)
        from marts.kpi_scorecard
        where kpi_code in (select unnest(?::varchar[]))
          and as_of_month <= ? and year = ?
        group by kpi_code, as_of_month
        order by kpi_code, as_of_month
        """,
        [list(TREND_KPIS), month, month.year],
    ).fetchall()
    out: dict[str, list[TrendPoint]] = {code: [] for code in TREND_KPIS}
    for code, m, prov, lo, hi, target, status in rows:
        out[code].append(TrendPoint(m, _float(prov), _float(lo), _float(hi), _float(target), status))
    return out


def _project_names_sql(con: duckdb.DuckDBPyConnection) -> str:
    """Where project names come from. fct_relief_wage_ratio (SPEC §4) carries no 项目名称, but officials
    read projects by name; the intermediate model behind the mart has it at the same grain
    (year × project_id). Read it when it is there, otherwise show the ID alone."""
    cols = {r[0] for r in con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'intermediate' and table_name = 'int_relief_projects_evaluated'").fetchall()}
    if {"year", "project_id", "project_name"} <= cols:
        return "select year, project_id, any_value(project_name) as project_name " \
               "from intermediate.int_relief_projects_evaluated group by all"
    return "select null::integer as year, null::varchar as project_id, null::varchar as project_name where false"


def _projects(con: duckdb.DuckDBPyConnection, year: int) -> list[Project]:
    """Projects of the reported year: non-compliant first, then those without a rule, then compliant;
    within a group the furthest below its rule first, so the list reads as a to-do list."""
    if not _table_exists(con, "marts", "fct_relief_wage_ratio"):
        return []
    rows = con.execute(
        f"""
        with names as ({_project_names_sql(con)})
        select f.project_id, n.project_name, p.region_name, f.county_code, c.region_name, f.fund_source,
               f.central_funds_wan, f.labor_remuneration_wan, f.remuneration_ratio, f.required_ratio, f.is_compliant
        from marts.fct_relief_wage_ratio f
        left join names n on n.year = f.year and n.project_id = f.project_id
        left join marts.dim_region c on c.region_code = f.county_code
        left join marts.dim_region p on p.region_code = c.parent_code
        where f.year = ?
        order by case when f.is_compliant = false then 0 when f.is_compliant is null then 1 else 2 end,
                 f.remuneration_ratio - f.required_ratio nulls last, f.county_code, f.project_id
        """,
        [year],
    ).fetchall()
    return [
        Project(pid, name, pref, cc, cn, fund, _float(cf), _float(lr), _float(ratio), _float(req),
                None if ok is None else bool(ok))
        for pid, name, pref, cc, cn, fund, cf, lr, ratio, req, ok in rows
    ]


def _warnings(con: duckdb.DuckDBPyConnection, month: date) -> list[WarningCount] | None:
    """Early-warning counts of the reported month, counties with at least one person flagged."""
    if not _table_exists(con, "marts", "fct_early_warning_counts"):
        return None
    rows = con.execute(
        """
        select w.prefecture_code, w.county_code, coalesce(w.county_name, r.region_name), w.reason, w.persons
        from marts.fct_early_warning_counts w
        left join marts.dim_region r on r.region_code = w.county_code
        where w.as_of_month = ? and w.persons > 0
        order by w.county_code, w.reason
        """,
        [month],
    ).fetchall()
    return [WarningCount(pref, county, name, reason, int(n)) for pref, county, name, reason, n in rows]


def load_report_data(warehouse: Path, as_of_month: str | None = None,
                     memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT) -> ReportData:
    """Copy what the report needs out of the warehouse; the connection is closed before this returns."""
    con = connect_read_only(warehouse, memory_limit)
    try:
        months = available_months(con)
        month = resolve_month(months, as_of_month)
        if not _table_exists(con, "marts", "dim_region"):
            raise ReportError("marts.dim_region is missing: run `zengshou run` first")
        return ReportData(
            warehouse=warehouse,
            as_of_month=month,
            months=months,
            kpis=_kpis(con, month),
            scores=_scores(con, month),
            trends=_trends(con, month),
            projects=_projects(con, month.year),
            generated_at=datetime.now().astimezone(),
            warnings=_warnings(con, month),
        )
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ReportError(f"cannot read the marts from {warehouse}: {first}") from exc
    finally:
        con.close()
