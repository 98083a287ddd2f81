"""Which snapshot months the dbt build must recompute, and why (issue 12).

The marts are incremental by snapshot month (dbt/macros/rebuild_months.sql): a build recomputes the
months written to ``meta.dbt_rebuild_request`` (``request_build``) and keeps the others. This module
works that list out, once, for every path that builds the marts (the transform asset, whether `zengshou
run` or the ``marts_after_loads`` sensor started it), by comparing what the raw tables hold (the file
batches recorded in meta.load_batches, the HR rows themselves) with what the marts were last built from
(recorded in ``meta`` after every successful whole build):

  directly changed months
    a monitoring month whose members or households batch is new or different (a new month, a month
    re-exported, an older month arriving after newer ones)
    every month from the earliest date of an HR row inserted, corrected or deleted (an HR row counts in
    every snapshot whose month end is on or after its dates; the old and the new version both count)
    every month of a year whose 以工代赈 ledger changed (the latest ledger state of the year)
  months that compare with a directly changed monitoring month M
    every month of the next year, when M is (or was, or displaced) its year's latest snapshot (prior year-end)
    M + 12 months (the same month a year before: income growth, labour brands)
    the later months of M's year when M is March (q1_progress)
    the next snapshot of M's year (the early-warning list compares with the previous snapshot)

Everything is rebuilt (``months`` None, dbt ``--full-refresh``) when asked (`zengshou run
--full-refresh`), when nothing was recorded yet, when a month disappeared, when an HR row without any
date changed, or when the build configuration changed (dbt models, macros or seeds, the HMAC key, the
reconciliation tolerance): none of these is bounded by month.

The months of every build are written to ``meta.months_rebuilt`` (run id, month, reason; month NULL
for an everything build): the interface the serving / PostgreSQL publish and the GE checks can read to
replace and validate only the months a run changed (issue 12 item 3). Every successful build, whole or a
subset of the models, is also numbered in ``meta.marts_builds`` (``record_build``): a whole build that
rebuilt no month leaves no row in months_rebuilt, and a subset build changes marts without recording its
months, so the followers need the list of builds to tell "nothing changed" from "something changed that
nobody recorded" (serving/changes.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project import hr_schema
from dagster_project.source_shapes import HR_TABLES

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_INPUTS = [REPO_ROOT / "dbt" / "models", REPO_ROOT / "dbt" / "macros", REPO_ROOT / "dbt" / "dbt_project.yml",
                REPO_ROOT / "seeds"]

STATE_DDL = """
CREATE SCHEMA IF NOT EXISTS meta;
CREATE TABLE IF NOT EXISTS meta.built_monitoring_months (
    as_of_month DATE PRIMARY KEY, members_batches VARCHAR, households_batches VARCHAR);
CREATE TABLE IF NOT EXISTS meta.built_hr_rows (
    table_name VARCHAR NOT NULL, primary_key VARCHAR NOT NULL, row_md5 VARCHAR NOT NULL, affects_from DATE);
CREATE TABLE IF NOT EXISTS meta.built_relief_years (report_year VARCHAR PRIMARY KEY, batches VARCHAR);
CREATE TABLE IF NOT EXISTS meta.built_config (config_digest VARCHAR);
CREATE TABLE IF NOT EXISTS meta.months_rebuilt (
    run_id VARCHAR NOT NULL, as_of_month DATE, reason VARCHAR NOT NULL,
    rebuilt_at TIMESTAMP NOT NULL DEFAULT current_localtimestamp());
"""


BUILDS_DDL = """
CREATE SCHEMA IF NOT EXISTS meta;
CREATE SEQUENCE IF NOT EXISTS meta.marts_build_no;
CREATE TABLE IF NOT EXISTS meta.marts_builds (
    build_no BIGINT PRIMARY KEY DEFAULT nextval('meta.marts_build_no'), run_id VARCHAR NOT NULL,
    whole BOOLEAN NOT NULL, built_at TIMESTAMP NOT NULL DEFAULT current_localtimestamp());
"""


@dataclass(frozen=True)
class MonthRebuild:
    month: dt.date
    reason: str

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} ({self.reason})"


@dataclass
class RebuildPlan:
    """``months`` to recompute with their reasons, or None: everything (``everything`` says why)."""

    months: list[MonthRebuild] | None
    everything: str | None = None
    current: dict[str, list[tuple]] = field(default_factory=dict)  # the inputs to record after the build

    @property
    def full_refresh(self) -> bool:
        return self.months is None

    def dbt_args(self) -> list[str]:
        """--full-refresh for everything; the months themselves go through a table (``request_build``)."""
        return ["--full-refresh"] if self.months is None else []

    def summary(self) -> str:
        if self.months is None:
            return f"rebuilt every month ({self.everything})"
        if not self.months:
            return "rebuilt no snapshot month (nothing monthly changed)"
        return "rebuilt " + ", ".join(str(m) for m in self.months)


# The months of the build go to dbt through a warehouse table, not as the value of a var: dbt's
# partial-parse state check hashes the CLI vars, so a var that changed every build made every build
# parse the whole project (≈ 4 s of CPU). The var below never changes; it only tells
# dbt/macros/rebuild_months.sql where to read the months (with run_query, at execution).
REBUILD_REQUEST_TABLE = "meta.dbt_rebuild_request"
REBUILD_REQUEST_VARS = ["--vars", f'{{"rebuild_months_from": "{REBUILD_REQUEST_TABLE}"}}']


def request_build(con: duckdb.DuckDBPyConnection, rebuild: RebuildPlan) -> list[str]:
    """Write the plan's months to meta.dbt_rebuild_request (replaced whole: one row per month, no row =
    no month; empty for an everything build, which reads no month) and return what `dbt build` /
    `dbt run` gets: the constant var, plus --full-refresh for everything. Called under the writer lock
    right before dbt runs (the transform asset, tests/incremental_build.py): the one definition of a
    build's request. A run killed afterwards leaves the table behind; only a build given the var reads
    it, and every build that passes the var wrote it first."""
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    con.execute(f"CREATE OR REPLACE TABLE {REBUILD_REQUEST_TABLE} (month DATE NOT NULL PRIMARY KEY)")
    if rebuild.months:
        con.executemany(f"INSERT INTO {REBUILD_REQUEST_TABLE} VALUES (?)", [(m.month,) for m in rebuild.months])
    return [*rebuild.dbt_args(), *REBUILD_REQUEST_VARS]


def config_digest(pii_salt: str, reconciliation_tolerance: object) -> str:
    """Digest of what every month of the marts depends on besides the data: the dbt project's models,
    macros and seeds, the HMAC key (only an HMAC of a constant under it: nothing of the key is
    revealed) and the reconciliation tolerance."""
    h = hashlib.sha256()
    for root in BUILD_INPUTS:
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for p in files:
            if p.exists():
                h.update(str(p.relative_to(REPO_ROOT)).encode() + b"\0" + p.read_bytes() + b"\0")
    h.update(hmac.new(pii_salt.encode(), b"zengshou-build-config", hashlib.sha256).digest())
    h.update(str(reconciliation_tolerance).encode())
    return h.hexdigest()


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                            [schema, table]).fetchone()[0])


def _hr_rows_sql(table: str) -> str:
    """(table_name, primary_key, row_md5, affects_from) of every row of raw.hr_<table>: affects_from is the
    earliest of the row's dates (subsidy payments: the period month; a post: also its payments' periods)."""
    sa = hr_schema.metadata.tables[table]
    pk = " || '|' || ".join(f"coalesce(cast(t.\"{c.name}\" as varchar), '')" for c in sa.primary_key.columns)
    row = ", ".join(f't."{c.name}"' for c in sa.columns)
    dates = [f't."{c.name}"' for c in sa.columns if c.type.python_type is dt.date]
    if table == "subsidy_payment":
        dates.append("try_cast(t.period_month || '-01' as date)")
    if table == "public_welfare_post" and "subsidy_payment" in HR_TABLES:
        dates.append("(select min(try_cast(p.period_month || '-01' as date)) from raw.hr_subsidy_payment as p"
                     " where p.assignment_id = t.assignment_id)")
    least = f"least({', '.join(dates)})" if len(dates) > 1 else (dates[0] if dates else "cast(null as date)")
    return (f"SELECT '{table}' AS table_name, {pk} AS primary_key, md5(cast(row({row}) as varchar)) AS row_md5,"
            f" cast({least} as date) AS affects_from FROM raw.hr_{table} AS t")


# The batch each file partition's raw rows come from: the latest published batch of the partition (a
# published file batch replaces its partition in the same transaction that records it), unless it left
# no row (then the partition has none in raw). Read from meta.load_batches, which grows by one row per
# file loaded, instead of scanning raw.monitoring_* (every member row of every month) on each run.
_PUBLISHED = ("SELECT source, partition_key, batch_id FROM meta.load_batches"
              " WHERE status = 'published' AND partition_key IS NOT NULL"
              " QUALIFY row_number() OVER (PARTITION BY source, partition_key ORDER BY loaded_at DESC, rowid DESC) = 1"
              " AND rows_loaded > 0")


def _current_inputs(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Per snapshot month its members and households batch, per ledger year its ledger files' batches
    (each list as the raw tables hold them), from meta.load_batches."""
    if not _has(con, "meta", "load_batches"):
        return {"months": [], "relief": []}

    def batches(source: str) -> str:
        return (f"SELECT cast(partition_key || '-01' as date) AS m, batch_id AS b FROM ({_PUBLISHED})"
                f" WHERE source = '{source}'")

    months = con.execute(
        f"SELECT coalesce(m.m, h.m), m.b, h.b FROM ({batches('monitoring.members')}) AS m"
        f" FULL OUTER JOIN ({batches('monitoring.households')}) AS h ON h.m = m.m ORDER BY 1").fetchall()
    relief = con.execute(f"SELECT split_part(partition_key, '/', 1),"
                         f" string_agg(DISTINCT batch_id, ',' ORDER BY batch_id)"
                         f" FROM ({_PUBLISHED}) WHERE source = 'relief.projects' GROUP BY 1").fetchall()
    return {"months": months, "relief": relief}


def _hr_state_sql() -> str:
    """Every HR row's digest and earliest date, in SQL (HR tables can hold millions of rows: compared
    and recorded inside DuckDB, never fetched)."""
    return " UNION ALL ".join(_hr_rows_sql(t) for t in HR_TABLES)


def plan_rebuild(con: duckdb.DuckDBPyConnection, digest: str, *, full_refresh: bool = False) -> RebuildPlan:
    """The months the next build must recompute (see the module docstring), from the raw tables and
    what ``record_rebuild`` wrote after the last successful whole build. Reads only."""
    current = _current_inputs(con)
    current["config"] = [(digest,)]
    if full_refresh:
        return RebuildPlan(None, "asked for: --full-refresh", current)
    if not _has(con, "meta", "built_config") or not _has(con, "marts", "kpi_scorecard"):
        return RebuildPlan(None, "no record of an earlier incremental build", current)
    built_digest = con.execute("SELECT max(config_digest) FROM meta.built_config").fetchone()[0]
    if built_digest != digest:
        return RebuildPlan(None, "the build configuration changed (dbt models, macros, seeds, HMAC key or "
                                 "reconciliation tolerance)", current)

    built_months = {r[0]: (r[1], r[2]) for r in con.execute("SELECT * FROM meta.built_monitoring_months").fetchall()}
    now_months = {r[0]: (r[1], r[2]) for r in current["months"]}
    if gone := sorted(set(built_months) - set(now_months)):
        return RebuildPlan(None, f"snapshot {gone[0]:%Y-%m} is no longer in the raw tables", current)
    snapshots = sorted(now_months)
    latest_built = max(built_months) if built_months else None

    direct: dict[dt.date, str] = {}
    changed_monitoring: list[dt.date] = []
    for m in snapshots:
        if m not in built_months:
            late = latest_built is not None and m < latest_built
            direct[m] = "arrived after later months" if late else "new month"
            changed_monitoring.append(m)
        elif built_months[m] != now_months[m]:
            direct[m] = "re-exported"
            changed_monitoring.append(m)

    # HR: rows inserted, corrected or deleted since the last build; each counts from its earliest date
    con.execute(f"CREATE OR REPLACE TEMP TABLE _hr_now AS {_hr_state_sql()}")
    hr_from, undated = con.execute(
        "SELECT min(least(n.affects_from, b.affects_from)),"
        " count(*) FILTER (WHERE n.affects_from IS NULL AND b.affects_from IS NULL)"
        " FROM _hr_now AS n FULL OUTER JOIN meta.built_hr_rows AS b"
        " ON b.table_name = n.table_name AND b.primary_key = n.primary_key"
        " WHERE n.row_md5 IS DISTINCT FROM b.row_md5").fetchone()
    con.execute("DROP TABLE _hr_now")
    if undated:
        return RebuildPlan(None, f"{undated} HR row(s) without any date changed", current)
    if hr_from is not None:
        start = hr_from.replace(day=1)
        for m in snapshots:
            if m >= start:
                direct.setdefault(m, f"HR rows dated from {start:%Y-%m} changed")

    built_relief = dict(con.execute("SELECT * FROM meta.built_relief_years").fetchall())
    now_relief = dict(current["relief"])
    for year in sorted(set(built_relief) | set(now_relief)):
        if built_relief.get(year) != now_relief.get(year):
            for m in snapshots:
                if str(m.year) == str(year).strip()[:4]:
                    direct.setdefault(m, f"以工代赈 ledger {year} changed")

    reasons = dict(direct)

    def depends(month: dt.date, why: str) -> None:
        reasons.setdefault(month, why)

    built_year_end = {}
    for m in built_months:
        built_year_end[m.year] = max(built_year_end.get(m.year, m), m)
    for m in changed_monitoring:
        of_year = [s for s in snapshots if s.year == m.year]
        if m == max(of_year) or built_year_end.get(m.year) not in (None, max(of_year)):
            for s in snapshots:
                if s.year == m.year + 1:
                    depends(s, f"compares with {m:%Y-%m} (prior year-end)")
        a_year_on = m.replace(year=m.year + 1)
        if a_year_on in now_months:
            depends(a_year_on, f"compares with {m:%Y-%m} (same month a year before)")
        if m.month == 3:
            for s in of_year:
                if s.month > 3:
                    depends(s, f"compares with {m:%Y-%m} (Q1 progress)")
        later = [s for s in of_year if s > m]
        if later:
            depends(later[0], f"compares with {m:%Y-%m} (previous snapshot, early warnings)")
    return RebuildPlan([MonthRebuild(m, reasons[m]) for m in sorted(reasons)], None, current)


def record_rebuild(con: duckdb.DuckDBPyConnection, rebuild: RebuildPlan, run_id: str) -> None:
    """After a successful whole build: what it was built from (the next plan compares with it) and the
    months it rebuilt (meta.months_rebuilt)."""
    con.execute(STATE_DDL)
    con.execute("BEGIN TRANSACTION")
    try:
        # the HR rows as they are now: unchanged since the plan, the build held the warehouse lock
        con.execute("DELETE FROM meta.built_hr_rows")
        con.execute(f"INSERT INTO meta.built_hr_rows {_hr_state_sql()}")
        for table, rows in (("meta.built_monitoring_months", rebuild.current["months"]),
                            ("meta.built_relief_years", rebuild.current["relief"]),
                            ("meta.built_config", rebuild.current["config"])):
            con.execute(f"DELETE FROM {table}")
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        if rebuild.months is None:
            con.execute("INSERT INTO meta.months_rebuilt (run_id, as_of_month, reason) VALUES (?, NULL, ?)",
                        [run_id, f"every month: {rebuild.everything}"])
        elif rebuild.months:
            con.executemany("INSERT INTO meta.months_rebuilt (run_id, as_of_month, reason) VALUES (?, ?, ?)",
                            [(run_id, m.month, m.reason) for m in rebuild.months])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def record_build(con: duckdb.DuckDBPyConnection, run_id: str, *, whole: bool) -> int:
    """Number a successful dbt build (after ``record_rebuild`` for a whole one): ``whole`` False for a
    subset of the models, whose changed months nobody recorded. Returns the build's number."""
    con.execute(BUILDS_DDL)
    return int(con.execute("INSERT INTO meta.marts_builds (run_id, whole) VALUES (?, ?) RETURNING build_no",
                           [run_id, whole]).fetchone()[0])


def months_rebuilt(con: duckdb.DuckDBPyConnection, run_id: str | None = None) -> list[tuple[dt.date | None, str]]:
    """(month, reason) rebuilt by ``run_id`` (default: the latest build): month None = every month. The
    interface for steps that follow the build (publishing, validation) to act on the changed months only."""
    if not _has(con, "meta", "months_rebuilt"):
        return []
    if run_id is None:
        row = con.execute("SELECT arg_max(run_id, rebuilt_at) FROM meta.months_rebuilt").fetchone()
        run_id = row[0] if row else None
    return [(r[0], r[1]) for r in con.execute(
        "SELECT as_of_month, reason FROM meta.months_rebuilt WHERE run_id = ? ORDER BY as_of_month NULLS FIRST",
        [run_id]).fetchall()]
