"""Which months a publishing target or a GE check must take: those the dbt builds changed since the
target last took the marts (issue 12 item 3).

The marts are rebuilt by snapshot month (dagster_project/month_plan.py): every successful dbt build is
numbered in ``meta.marts_builds``, and a whole build writes the months it rebuilt to
``meta.months_rebuilt`` (month NULL: every month). Each publishing target (the serving DuckDB file, a
PostgreSQL database) has a row in ``meta.serving_applied``: the last build it took, a digest of the
catalog it was published with (tables, columns, types, descriptions, Chinese labels, regions) and a mark
of what the publish left in the target (the file's identity; a token in PostgreSQL's schema comment).

A target replaces only the changed months' rows when all of this holds, and is published whole
otherwise (correctness first; a whole publish is what every publish did before):
  - it has a record, and exactly one build came after the build it took (two or more: a publish was
    missed in between; none: nothing monthly changed, so only the marts without months are replaced);
  - that build was a whole build that recorded its months, none of them NULL (an everything build:
    first build, --full-refresh, a changed configuration …);
  - the catalog digest is the one recorded (no mart added, dropped, or with other columns or types);
  - the target still carries the mark the last publish left (nobody replaced the file or republished
    the database from elsewhere).

Marts partitioned by month (``as_of_month``) replace those months' rows; the facts partitioned by year
(``year``: the latest snapshot of each year) replace the years of those months; marts without either
are small and are replaced whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

from dagster_project.marts import MONTH, YEAR
from dagster_project.month_plan import months_rebuilt

APPLIED_DDL = """
CREATE SCHEMA IF NOT EXISTS meta;
CREATE TABLE IF NOT EXISTS meta.serving_applied (
    target VARCHAR PRIMARY KEY,     -- serving_file:<path> | postgres:<url without password>|<role prefix>
    build_no BIGINT,                -- the last build of meta.marts_builds the target took (NULL: none)
    catalog VARCHAR NOT NULL,       -- catalog_digest() of what was published
    mark VARCHAR,                   -- the target after the publish: file identity / PostgreSQL token
    mode VARCHAR NOT NULL,          -- months | whole
    months VARCHAR,                 -- the months replaced (mode months), comma-separated YYYY-MM
    rows_written BIGINT NOT NULL,
    run_id VARCHAR,                 -- the Dagster run that published
    applied_at TIMESTAMP NOT NULL DEFAULT current_localtimestamp());
"""
MODE_MONTHS, MODE_WHOLE = "months", "whole"


@dataclass(frozen=True)
class Changes:
    """What a target must take: ``months`` None = everything (publish whole, ``reason`` says why);
    otherwise the rebuilt months (possibly none). ``catalog`` and ``mark`` are what the target's last
    publish recorded, for the publisher to compare with what it finds."""

    months: tuple[dt.date, ...] | None
    reason: str
    build_no: int | None = None       # the latest build: what the target has taken once published
    catalog: str | None = None
    mark: str | None = None
    previous_run: str | None = None   # run_changes: the Dagster run of the build before this run's

    @property
    def whole(self) -> bool:
        return self.months is None


def everything(reason: str, build_no: int | None = None) -> Changes:
    return Changes(None, reason, build_no)


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                            [schema, table]).fetchone()[0])


def _build_months(con: duckdb.DuckDBPyConnection, run_id: str, whole: bool) -> tuple[tuple[dt.date, ...] | None, str]:
    """The months one build rebuilt, or None with the reason everything must be taken."""
    if not whole:
        return None, f"run {run_id[:8]} built a subset of the models, whose months were not recorded"
    rows = months_rebuilt(con, run_id)
    if any(m is None for m, _ in rows):
        return None, next(why for m, why in rows if m is None)
    months = tuple(sorted({m for m, _ in rows}))
    return months, (f"run {run_id[:8]} rebuilt " + ", ".join(f"{m:%Y-%m}" for m in months) if months
                    else f"run {run_id[:8]} rebuilt no snapshot month")


def pending_changes(con: duckdb.DuckDBPyConnection, target: str) -> Changes:
    """What ``target`` must take now (module docstring): read from meta, nothing written."""
    if not _has(con, "meta", "marts_builds"):
        return everything("no dbt build is recorded in this warehouse")
    latest = con.execute("SELECT max(build_no) FROM meta.marts_builds").fetchone()[0]
    if latest is None:
        return everything("no dbt build is recorded in this warehouse")
    record = None
    if _has(con, "meta", "serving_applied"):
        record = con.execute("SELECT build_no, catalog, mark FROM meta.serving_applied WHERE target = ?",
                             [target]).fetchone()
    if record is None or record[0] is None:
        return everything("no earlier publish of this target is recorded", latest)
    taken, catalog, mark = record
    if taken > latest:
        return everything(f"the target took build {taken}, later than the latest recorded ({latest})", latest)
    builds = con.execute("SELECT build_no, run_id, whole FROM meta.marts_builds WHERE build_no > ? ORDER BY build_no",
                         [taken]).fetchall()
    if not builds:
        return Changes((), "no dbt build since the last publish", latest, catalog, mark)
    if len(builds) > 1:
        return everything(f"{len(builds)} dbt builds since the last publish of this target (a publish was "
                          "missed)", latest)
    months, reason = _build_months(con, builds[0][1], builds[0][2])
    return Changes(months, reason, latest, catalog if months is not None else None, mark)


def run_changes(con: duckdb.DuckDBPyConnection, run_id: str) -> Changes:
    """The months the dbt build of Dagster run ``run_id`` rebuilt (what its GE checks validate);
    everything when the run built nothing recorded (a check run on its own) or a subset."""
    if not _has(con, "meta", "marts_builds"):
        return everything("no dbt build is recorded in this warehouse")
    build = con.execute("SELECT build_no, whole FROM meta.marts_builds WHERE run_id = ? ORDER BY build_no DESC LIMIT 1",
                        [run_id]).fetchone()
    if build is None:
        return everything("this run built no marts")
    months, reason = _build_months(con, run_id, build[1])
    previous = con.execute("SELECT run_id FROM meta.marts_builds WHERE build_no < ? ORDER BY build_no DESC LIMIT 1",
                           [build[0]]).fetchone()
    return Changes(months, reason, build[0], previous_run=previous[0] if previous else None)


def record_applied(con: duckdb.DuckDBPyConnection, target: str, *, build_no: int | None, catalog: str,
                   mark: str | None, mode: str, months: Iterable[dt.date] | None, rows_written: int,
                   run_id: str | None = None) -> None:
    """After a publish of ``target`` succeeded: what it now holds (the next pending_changes reads it)."""
    con.execute(APPLIED_DDL)
    con.execute(
        "INSERT OR REPLACE INTO meta.serving_applied (target, build_no, catalog, mark, mode, months, rows_written,"
        " run_id, applied_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, current_localtimestamp())",
        [target, build_no, catalog, mark, mode,
         None if months is None else ",".join(f"{m:%Y-%m}" for m in months), rows_written, run_id])


def published_in_run(con: duckdb.DuckDBPyConnection, run_id: str) -> list[tuple[str, str, str | None, int]]:
    """(target, mode, months, rows written) of every target the Dagster run ``run_id`` published (the
    serving file first)."""
    if not _has(con, "meta", "serving_applied"):
        return []
    return [tuple(r) for r in con.execute(
        "SELECT target, mode, months, rows_written FROM meta.serving_applied WHERE run_id = ? ORDER BY target DESC",
        [run_id]).fetchall()]


def whole_reason(changes: Changes | None, catalog: str, mark: str | None) -> str | None:
    """Why the target must be published whole, or None when replacing ``changes.months`` is exact."""
    if changes is None:
        return "a whole publish was asked for"
    if changes.months is None:
        return changes.reason
    if changes.catalog != catalog:
        return ("the set of marts, their columns, types, descriptions, labels or the regions changed since "
                "the last publish")
    if changes.mark is None or changes.mark != mark:
        return "the target is not what the last publish left there"
    return None


def catalog_digest(parts: object) -> str:
    """A digest of what a publish lays out besides the rows (a JSON-able description of it)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def partition_filter(partition: tuple[str, str], months: Iterable[dt.date]) -> str | None:
    """SQL condition (DuckDB and PostgreSQL alike) on a partitioned mart's column: its rows of
    ``months`` (a year mart: of those months' years); None when there are none."""
    column, kind = partition
    quoted = '"' + column.replace('"', '""') + '"'
    if kind == MONTH:
        values = [f"DATE '{m:%Y-%m}-01'" for m in sorted({m.replace(day=1) for m in months})]
    elif kind == YEAR:
        values = [str(y) for y in sorted({m.year for m in months})]
    else:
        raise ValueError(f"unknown partition kind {kind!r}")
    return f"{quoted} IN ({', '.join(values)})" if values else None


def month_labels(months: Iterable[dt.date] | None) -> list[str] | str:
    """The months for metadata: ['2023-06', …], or 'all'."""
    return "all" if months is None else [f"{m:%Y-%m}" for m in months]
