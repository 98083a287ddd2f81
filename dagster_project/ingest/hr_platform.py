"""Incremental pull of the HR platform database (SPEC §3.2) into ``raw.hr_<table>`` of the warehouse.

Why it is built this way:

* The platform is a live relational database that only grows and corrects rows, so each pull reads
  the rows with ``updated_at >= `` the stored watermark. ``>=`` (not ``>``) re-reads the rows on the
  boundary timestamp, so a row stamped with that timestamp whose transaction committed after the
  previous pull is not lost; the upsert makes re-reading idempotent.
* Reading goes through SQLAlchemy Core on the ``hr_schema`` tables (never reflection: the same code
  reads SQLite, PostgreSQL and MySQL, and reflection is a known trap on this stack) and streams with
  ``yield_per`` so millions of rows never sit in memory at once.
* Each table is one DuckDB transaction: the chunks are staged in a temporary table, checked by the
  rules SPEC names, and only then applied. Either the rows, the quarantine, the batch log and the
  watermark all land together, or nothing does; a crash mid-pull leaves the last good state.
* A table whose quarantined share exceeds ``max_reject_rate`` is not applied (SPEC §5): its rejected
  rows and the batch log are still written so the engineer can see why, but raw and the watermark
  stay where they were, so the next pull reads the same rows again once the source is fixed.
* Rows with a NULL ``updated_at`` cannot be placed on the watermark timeline, so every pull reads
  them (they are quarantined each time until fixed at the source). A rejected row that is re-read
  unchanged (NULL ``updated_at``, or a bad row on the boundary timestamp) is quarantined again for
  the batch's own accounting, but does not count towards the reject rate: it was judged before, and
  counting it again would fail every no-change pull.
* The watermark alone misses what the platform writes behind it: a correction stamped with an older
  ``updated_at`` (a clerk's back-dated fix, a client clock behind the server), a row whose transaction
  committed after a later row was pulled, and deletions. So each pull re-reads a look-back window
  (``updated_at >= watermark - lookback``, ZENGSHOU_HR_LOOKBACK_HOURS) and, every
  ZENGSHOU_HR_FULL_COMPARE_HOURS, compares every source key and its ``updated_at`` with raw: keys the
  warehouse lacks or holds with an older ``updated_at`` are fetched by key, and keys gone from the
  source are deleted from raw (each recorded in ``meta.hr_deleted_rows``). A key comparison reads two
  columns, not the whole table. What it cannot see is an edit that leaves ``updated_at`` unchanged:
  SPEC §3.2 has every correction carry a newer one.
* Newest ``updated_at`` wins, both ways: a source row older than the warehouse's copy (the platform
  restored from a backup) is never applied, by the look-back or by the comparison.
* Before anything is read, every table and column SPEC §3.2 names is probed (``SELECT … LIMIT 0``):
  a missing table or renamed column raises ``HrPlatformSchemaError`` naming them, which no retry can
  fix, unlike ``HrPlatformUnavailable``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

from dagster_project import hr_schema
from dagster_project.ingest import warehouse
from dagster_project.source_shapes import HR_TABLES

log = logging.getLogger(__name__)

SOURCE_PREFIX = "hr_platform"
DEFAULT_CHUNK_ROWS = 50_000
DEFAULT_MAX_REJECT_RATE = 0.02
CONNECT_TIMEOUT_SECONDS = 10

SERVICE_TYPES = ("career_guidance", "job_referral", "training_referral")
TALENT_TYPES = ("wealth_leader", "rural_craftsman")
PERIOD_MONTH_PATTERN = "[0-9]{4}-(0[1-9]|1[0-2])"


class HrPlatformUnavailable(RuntimeError):
    """The HR platform database cannot be reached (or the connection dropped mid-pull).

    A distinct type so the orchestrator retries with backoff instead of treating it as bad data.
    Tables committed before the failure stay committed; the rest are read again next time.
    """


class HrPlatformSchemaError(RuntimeError):
    """A table or column SPEC §3.2 names is missing at the source (dropped, renamed, wrong database).

    Retrying cannot fix it, so the orchestrator fails at once with this one-line message.
    """


@dataclass(frozen=True)
class HrTablePull:
    """What one table's pull did; mirrors its ``meta.load_batches`` row.

    ``rows_upserted`` counts the rows that passed the rules (``rows_read = rows_upserted +
    rows_quarantined`` always); with status ``rejected`` none of them was applied to raw.
    """

    table: str
    rows_read: int
    rows_upserted: int
    rows_quarantined: int
    watermark_before: dt.datetime | None
    watermark_after: dt.datetime | None
    batch_id: str
    status: str  # published | rejected | unchanged (nothing new: no batch recorded)
    reason: str | None
    # What the pull changed in raw (all 0 when rejected or unchanged). inserted: keys new to the
    # warehouse at or after the previous watermark; late: new keys behind it (committed late, found by
    # the look-back or the key comparison); corrected: keys already held whose row changed; deleted:
    # keys gone from the source (key comparison only).
    rows_inserted: int = 0
    rows_late: int = 0
    rows_corrected: int = 0
    rows_deleted: int = 0
    full_compare: bool = False  # whether this pull compared every key with the source


@dataclass(frozen=True)
class _Rule:
    """A row rule SPEC names: the DuckDB condition that marks a row bad, and the Chinese reason."""

    name: str
    condition: str
    reason: str


# --------------------------------------------------------------------------------------------------
# Warehouse tables (docs/architecture.md; the shared meta/quarantine DDL lives in ingest.warehouse)
# --------------------------------------------------------------------------------------------------

def _duckdb_type(column: sa.Column) -> str:
    """DuckDB type of an hr_schema column: raw keeps the platform's native types (architecture.md)."""
    col_type = column.type
    if isinstance(col_type, sa.Boolean):
        return "BOOLEAN"
    if isinstance(col_type, sa.DateTime):
        return "TIMESTAMP"
    if isinstance(col_type, sa.Date):
        return "DATE"
    if isinstance(col_type, sa.Numeric):
        return f"DECIMAL({col_type.precision or 18},{col_type.scale or 0})"
    if isinstance(col_type, sa.String):
        return "VARCHAR"
    raise TypeError(f"no DuckDB type for {column.table.name}.{column.name} ({col_type!r})")


def _to_arrow(column: sa.Column, values: Sequence[Any]) -> pa.Array:
    """One column of a chunk as Arrow, in whatever type the driver produced; DuckDB casts it to the
    column's type in bulk (the typed SELECT in ``_pull_table``).

    Drivers differ: SQLite hands back timestamps and dates as text and decimals as floats, psycopg2
    datetime and Decimal objects. Text columns stay text. A column mixing types (SQLite is dynamically
    typed: a number in a text column) travels as text, as the source's own rendering of each value.
    """
    try:
        if isinstance(column.type, sa.String):
            return pa.array(values, type=pa.string())
        return pa.array(values)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([v if v is None or isinstance(v, str) else str(v) for v in values], type=pa.string())


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _raw_table(table: str) -> str:
    return f"raw.{_quote('hr_' + table)}"


HR_META_DDL = """
CREATE TABLE IF NOT EXISTS meta.hr_full_compares (
    table_name VARCHAR PRIMARY KEY,
    compared_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS meta.hr_deleted_rows (
    table_name VARCHAR NOT NULL,
    primary_key VARCHAR NOT NULL,
    updated_at TIMESTAMP,
    batch_id VARCHAR NOT NULL,
    deleted_at TIMESTAMP NOT NULL
);
"""


def ensure_warehouse_tables(con: duckdb.DuckDBPyConnection, tables: Iterable[str] = HR_TABLES) -> None:
    """Create the schemas and tables this loader writes, if missing (idempotent DDL).

    The meta/quarantine tables come from the one shared definition every loader uses, so a caller
    that did not open the warehouse through ``warehouse.connect`` still gets identical tables.
    """
    con.execute(warehouse.DDL)
    con.execute(HR_META_DDL)
    for table in tables:
        sa_table = hr_schema.metadata.tables[table]
        cols = ", ".join(f"{_quote(c.name)} {_duckdb_type(c)}" for c in sa_table.columns)
        pk = ", ".join(_quote(c.name) for c in sa_table.primary_key.columns)
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {_raw_table(table)} "
            f"({cols}, _loaded_at TIMESTAMP, PRIMARY KEY ({pk}))"
        )


# --------------------------------------------------------------------------------------------------
# Row rules (SPEC §3.2, brief of the HR loader)
# --------------------------------------------------------------------------------------------------


def _empty(column: str) -> str:
    return f"({_quote(column)} IS NULL OR trim({_quote(column)}) = '')"


def _not_in(column: str, allowed: Sequence[str]) -> str:
    values = ", ".join(f"'{v}'" for v in allowed)
    return f"({_quote(column)} IS NULL OR {_quote(column)} NOT IN ({values}))"


# Rules of single tables, beyond the key and updated_at rules every table has.
_TABLE_RULES: dict[str, list[_Rule]] = {
    "employment_service": [_Rule(
        "service_type_invalid", _not_in("service_type", SERVICE_TYPES),
        "服务类型（service_type）不是 career_guidance、job_referral、training_referral 之一",
    )],
    "rural_talent": [_Rule(
        "talent_type_invalid", _not_in("talent_type", TALENT_TYPES),
        "人才类型（talent_type）不是 wealth_leader、rural_craftsman 之一",
    )],
    "subsidy_payment": [_Rule(
        "period_month_format",
        f"(period_month IS NULL OR NOT regexp_full_match(period_month, '{PERIOD_MONTH_PATTERN}'))",
        "补贴所属月份（period_month）不是 YYYY-MM 格式的有效月份",
    )],
}
_UPDATED_AT_NULL = _Rule(
    "updated_at_null", "updated_at IS NULL", "更新时间（updated_at）为空，无法判断新旧、无法增量同步"
)


def _rules(table: str) -> list[_Rule]:
    """The rules of one table, in the order they are tried; a row gets the first rule it breaks.

    The person key (id_number; assignment_id for subsidy_payment, which reaches the person through
    the post) is what every KPI joins on, so a row without it can never count anywhere.
    """
    pk = hr_schema.metadata.tables[table].primary_key.columns.keys()[0]
    rules = [_Rule("primary_key_empty", _empty(pk), f"主键（{pk}）为空，无法按主键更新")]
    if table == "subsidy_payment":
        rules.append(_Rule("assignment_id_empty", _empty("assignment_id"),
                           "岗位分配编号（assignment_id）为空，无法关联到公益性岗位和人员"))
    else:
        rules.append(_Rule("id_number_empty", _empty("id_number"),
                           "证件号码（id_number）为空，无法匹配到人员"))
    return [*rules, *_TABLE_RULES.get(table, []), _UPDATED_AT_NULL]


def table_rules(table: str) -> list[_Rule]:
    """The row rules of one HR table (the GE suites of raw.hr_* are generated from them)."""
    return _rules(table)


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --------------------------------------------------------------------------------------------------
# Source side
# --------------------------------------------------------------------------------------------------


def _redacted(url: str) -> str:
    """The URL for logs and meta.load_batches.file_path: never the password."""
    return make_url(url).render_as_string(hide_password=True)


# Drivers that take ``connect_timeout`` (seconds): libpq's for both psycopg versions, PyMySQL's own.
_TIMEOUT_DRIVERS = {("postgresql", "psycopg2"), ("postgresql", "psycopg"), ("mysql", "pymysql"),
                    ("mariadb", "pymysql")}


def _make_engine(url: str) -> Engine:
    """Engine for the platform, failing fast on a missing SQLite file or a dead server.

    SQLite would silently create an empty file for a mistyped path, which would look like "no rows"
    instead of "wrong database"; a PostgreSQL host that drops packets would hang without a timeout.
    """
    parsed = make_url(url)
    connect_args: dict[str, Any] = {}
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        is_file_db = database not in ("", ":memory:") and not database.startswith("file:")
        if is_file_db and not Path(database).is_file():
            raise HrPlatformUnavailable(f"HR platform SQLite file not found: {database}")
    elif (backend, parsed.get_driver_name()) in _TIMEOUT_DRIVERS:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    return sa.create_engine(url, connect_args=connect_args)


def _unprocessed(column: sa.Column) -> sa.ColumnElement:
    """The column as the driver returns it, without SQLAlchemy's per-value result processing.

    SQLite keeps timestamps as text and decimals as floats; SQLAlchemy's DateTime/Numeric processors
    parse every value in Python (about half of the pull's time at province scale). DuckDB casts the
    values in bulk instead (the typed SELECT in ``_pull_table``), whatever the driver hands back:
    text from SQLite, datetime/Decimal objects from psycopg2.
    """
    if isinstance(column.type, (sa.DateTime, sa.Date, sa.Numeric)):
        return sa.type_coerce(column, sa.String).label(column.name)
    return column


def _select(table: sa.Table, since: dt.datetime | None) -> sa.Select:
    """Rows changed since ``since`` (the watermark less the look-back; inclusive), plus rows whose
    updated_at is NULL.

    Unordered on purpose: an ORDER BY made SQLite sort millions of rows through temp files (most of
    the pull's time at province scale); DuckDB numbers the rows afterwards (``_number_rows``).
    """
    stmt = sa.select(*(_unprocessed(c) for c in table.columns))
    if since is not None:
        stmt = stmt.where(sa.or_(table.c.updated_at >= since, table.c.updated_at.is_(None)))
    return stmt


def _number_rows(con: duckdb.DuckDBPyConnection, fetched: str, stage: str, pk_names: Sequence[str]) -> None:
    """Stage the fetched rows numbered in a reproducible order: updated_at (NULLs last), then the key.

    ``_source_row`` is what the quarantine reports as the row of the pull, so it must not depend on
    the order a backend happens to return rows in; fetch order only breaks ties between copies of a
    key with the same updated_at (a source without an enforced key).
    """
    order = ", ".join(["updated_at ASC NULLS LAST", *(_quote(c) for c in pk_names), "_source_row"])
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {stage} AS "
        f"SELECT * REPLACE (row_number() OVER (ORDER BY {order}) AS _source_row) FROM {fetched}"
    )
    con.execute(f"DROP TABLE {fetched}")


def _chunk_to_arrow(rows: Sequence[sa.Row], columns: Sequence[sa.Column], first_row: int) -> pa.Table:
    """Turn a chunk of source rows into an Arrow table DuckDB can scan without copying row by row."""
    arrays: dict[str, pa.Array] = {}
    values_by_column = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    for column, values in zip(columns, values_by_column, strict=True):
        arrays[column.name] = _to_arrow(column, values)
    arrays["_source_row"] = pa.array(range(first_row, first_row + len(rows)), type=pa.int64())
    return pa.table(arrays)


# --------------------------------------------------------------------------------------------------
# The pull
# --------------------------------------------------------------------------------------------------


def pull_hr_platform(
    url: str,
    con: duckdb.DuckDBPyConnection,
    tables: Iterable[str] | None = None,
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    lookback: dt.timedelta = dt.timedelta(0),
    full_compare_every: dt.timedelta | None = None,
) -> dict[str, HrTablePull]:
    """Pull every (or the named) HR platform table incrementally into the warehouse.

    ``lookback`` re-reads that much behind the watermark; ``full_compare_every`` compares every key
    with the source when the table's last comparison is at least that old (``timedelta(0)``: on every
    pull; None: never). The defaults are the plain watermark pull; ``zengshou`` passes the settings.

    Returns one ``HrTablePull`` per table, in SPEC order. Raises ``HrPlatformUnavailable`` when the
    database cannot be reached, ``HrPlatformSchemaError`` when a table or column is missing at the
    source (before anything is written), ``ValueError`` for an unknown table name. Each table commits
    on its own, so a failure on a later table keeps the earlier tables' progress.
    """
    names = list(HR_TABLES) if tables is None else list(tables)
    unknown = [t for t in names if t not in HR_TABLES]
    if unknown:
        raise ValueError(f"unknown HR platform table(s): {', '.join(unknown)}; known: {', '.join(HR_TABLES)}")
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    if lookback < dt.timedelta(0):
        raise ValueError("lookback must not be negative")

    engine = _make_engine(url)
    results: dict[str, HrTablePull] = {}
    try:
        try:
            source = engine.connect()
        except sa.exc.DBAPIError as exc:
            raise HrPlatformUnavailable(
                f"cannot connect to the HR platform at {_redacted(url)}: {_first_line(exc.orig)}"
            ) from exc
        with source:
            _check_source_schema(source, names, _redacted(url))
            # Only once the source answers: an outage leaves the warehouse exactly as it was.
            ensure_warehouse_tables(con, names)
            for name in names:
                try:
                    results[name] = _pull_table(
                        source, con, name, max_reject_rate, _redacted(url), chunk_rows,
                        lookback, full_compare_every,
                    )
                except sa.exc.DBAPIError as exc:
                    if exc.connection_invalidated:
                        raise HrPlatformUnavailable(
                            f"lost the connection to the HR platform while reading {name}: {_first_line(exc.orig)}"
                        ) from exc
                    raise
                finally:
                    # End the read transaction so the next table reads a fresh snapshot; on a dead
                    # connection this may fail too, and must not hide the error being raised.
                    with contextlib.suppress(sa.exc.DBAPIError):
                        source.rollback()
    finally:
        engine.dispose()
    return results


def _first_line(error: object) -> str:
    lines = str(error).strip().splitlines()
    return lines[0].strip() if lines else type(error).__name__


def _probe(source: Connection, stmt: sa.Select) -> str | None:
    """Run a zero-row query; the driver's first error line if it fails (the transaction is reset, as
    PostgreSQL refuses every statement after an error until then)."""
    try:
        source.execute(stmt).close()
        return None
    except sa.exc.DBAPIError as exc:
        if exc.connection_invalidated:
            raise HrPlatformUnavailable(f"lost the connection to the HR platform: {_first_line(exc.orig)}") from exc
        with contextlib.suppress(sa.exc.DBAPIError):
            source.rollback()
        return _first_line(exc.orig)


def _check_source_schema(source: Connection, names: Sequence[str], shown_url: str) -> None:
    """Every table and column SPEC §3.2 names must be readable; one message naming all that are not.

    Zero-row SELECTs, not reflection: they run the same on SQLite, PostgreSQL and MySQL and need no
    catalogue privileges. The column-by-column probe runs only for a table whose full probe failed.
    """
    problems: list[str] = []
    fixes: list[str] = []
    for name in names:
        table = hr_schema.metadata.tables[name]
        if _probe(source, sa.select(*table.columns).limit(0)) is None:
            continue
        table_error = _probe(source, sa.select(sa.literal(1)).select_from(table).limit(0))
        if table_error is not None:
            problems.append(f"table {name} is missing ({table_error})")
            fix = "point ZENGSHOU_HR_DB_URL at the HR platform database or have the table restored"
        else:
            missing = [c.name for c in table.columns if _probe(source, sa.select(c).limit(0)) is not None]
            problems.append(f"table {name} has no column {', '.join(missing)}")
            fix = "have the column renamed back, or exposed under its SPEC §3.2 name through a view"
        if fix not in fixes:
            fixes.append(fix)
    with contextlib.suppress(sa.exc.DBAPIError):
        source.rollback()
    if problems:
        raise HrPlatformSchemaError(
            f"HR platform {shown_url}: {'; '.join(problems)} — {'; '.join(fixes)} (nothing was pulled)"
        )


def _fetch_into(
    con: duckdb.DuckDBPyConnection,
    result: sa.CursorResult,
    columns: Sequence[sa.Column],
    fetched: str,
    first_row: int,
    typed: str,
    rule_case: str,
    json_fields: str,
) -> int:
    """Stream a source result into the fetched table, judging each row by the rules; rows read."""
    rows_read = 0
    for part in result.partitions():
        chunk = _chunk_to_arrow(part, columns, first_row + rows_read)
        rows_read += len(part)
        con.register("hr_chunk", chunk)
        try:
            con.execute(
                f"INSERT INTO {fetched} SELECT *, "
                f"CASE WHEN _rule IS NULL THEN NULL ELSE CAST(to_json({{{json_fields}}}) AS VARCHAR) END "
                f"FROM (SELECT *, {rule_case} AS _rule FROM (SELECT {typed}, _source_row FROM hr_chunk))"
            )
        finally:
            con.unregister("hr_chunk")
    return rows_read


def _read_source_keys(
    source: Connection, con: duckdb.DuckDBPyConnection, sa_table: sa.Table, pk: str, chunk_rows: int
) -> None:
    """Every (primary key, updated_at) of the source table into the temp table ``hr_source_keys``."""
    con.execute("CREATE OR REPLACE TEMP TABLE hr_source_keys (pk VARCHAR, updated_at TIMESTAMP)")
    stmt = sa.select(sa_table.c[pk], _unprocessed(sa_table.c.updated_at))
    result = source.execution_options(yield_per=chunk_rows).execute(stmt)
    for part in result.partitions():
        keys, stamps = (list(v) for v in zip(*part, strict=True)) if part else ([], [])
        chunk = pa.table({"pk": _to_arrow(sa_table.c[pk], keys),
                          "updated_at": _to_arrow(sa_table.c.updated_at, stamps)})
        con.register("hr_key_chunk", chunk)
        try:
            con.execute("INSERT INTO hr_source_keys SELECT CAST(pk AS VARCHAR), CAST(updated_at AS TIMESTAMP) "
                        "FROM hr_key_chunk")
        finally:
            con.unregister("hr_key_chunk")


KEY_FETCH_BATCH = 500  # keys per ``WHERE pk IN (…)``: far below every backend's parameter limit


def _pull_table(
    source: Connection,
    con: duckdb.DuckDBPyConnection,
    table: str,
    max_reject_rate: float,
    file_path: str,
    chunk_rows: int,
    lookback: dt.timedelta = dt.timedelta(0),
    full_compare_every: dt.timedelta | None = None,
) -> HrTablePull:
    """Pull one table in one DuckDB transaction (see the module docstring for the why)."""
    sa_table = hr_schema.metadata.tables[table]
    columns = list(sa_table.columns)
    col_names = [c.name for c in columns]
    pk_names = [c.name for c in sa_table.primary_key.columns]
    pk = pk_names[0]  # every HR table has a one-column key (hr_schema)
    target = _raw_table(table)
    src_name = f"{SOURCE_PREFIX}.{table}"
    # The warehouse's clock, as the shared DDL defaults use: one value for the whole table pull.
    now_row = con.execute("SELECT current_localtimestamp()").fetchone()
    assert now_row is not None
    now: dt.datetime = now_row[0]
    batch_id = f"{SOURCE_PREFIX}.{table}:{now:%Y%m%dT%H%M%S}:{uuid.uuid4().hex[:8]}"
    rules = _rules(table)

    row = con.execute(
        "SELECT max_updated_at FROM meta.hr_watermarks WHERE table_name = ?", [table]
    ).fetchone()
    watermark_before: dt.datetime | None = row[0] if row else None
    row = con.execute("SELECT compared_at FROM meta.hr_full_compares WHERE table_name = ?", [table]).fetchone()
    full_compare = full_compare_every is not None and (row is None or now - row[0] >= full_compare_every)

    fetched, stage = "hr_fetched", "hr_stage"
    typed = ", ".join(
        f"CAST({_quote(c.name)} AS {_duckdb_type(c)}) AS {_quote(c.name)}" for c in columns
    )
    rule_case = "CASE " + " ".join(f"WHEN {r.condition} THEN {_sql_str(r.name)}" for r in rules) + " END"
    reason_case = (
        "CASE _rule " + " ".join(f"WHEN {_sql_str(r.name)} THEN {_sql_str(r.reason)}" for r in rules) + " END"
    )
    # Original values as JSON with the platform's column names; decimals as text so 12.50 stays 12.50.
    json_fields = ", ".join(
        f"{_sql_str(c.name)}: "
        + (f"CAST({_quote(c.name)} AS VARCHAR)" if isinstance(c.type, sa.Numeric) else _quote(c.name))
        for c in columns
    )
    since = None if watermark_before is None else watermark_before - lookback

    con.begin()
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {fetched} ("
            + ", ".join(f"{_quote(c.name)} {_duckdb_type(c)}" for c in columns)
            + ", _source_row BIGINT, _rule VARCHAR, _original_values VARCHAR)"
        )
        fetch = (fetched, typed, rule_case, json_fields)
        result = source.execution_options(yield_per=chunk_rows).execute(_select(sa_table, since))
        rows_read = _fetch_into(con, result, columns, fetched, 1, *fetch[1:])
        if full_compare:
            if since is None:  # everything was just read: the fetched rows are the source's keys
                con.execute(f"CREATE OR REPLACE TEMP TABLE hr_source_keys AS "
                            f"SELECT CAST({_quote(pk)} AS VARCHAR) AS pk, updated_at FROM {fetched}")
            else:
                _read_source_keys(source, con, sa_table, pk, chunk_rows)
                # Keys the warehouse lacks or holds older, and that the window did not already read.
                wanted = [r[0] for r in con.execute(
                    f"SELECT k.pk FROM hr_source_keys k LEFT JOIN {target} r ON r.{_quote(pk)} = k.pk "
                    f"WHERE k.pk IS NOT NULL AND k.updated_at IS NOT NULL "
                    f"AND (r.{_quote(pk)} IS NULL OR k.updated_at > r.updated_at) "
                    f"AND k.pk NOT IN (SELECT {_quote(pk)} FROM {fetched} WHERE {_quote(pk)} IS NOT NULL) "
                    f"ORDER BY k.pk"
                ).fetchall()]
                for i in range(0, len(wanted), KEY_FETCH_BATCH):
                    stmt = sa.select(*(_unprocessed(c) for c in columns)).where(
                        sa_table.c[pk].in_(wanted[i:i + KEY_FETCH_BATCH]))
                    rows_read += _fetch_into(con, source.execute(stmt), columns, fetched, rows_read + 1,
                                             *fetch[1:])
        _number_rows(con, fetched, stage, pk_names)

        counts = con.execute(
            f"""
            SELECT count(*) FILTER (WHERE s._rule IS NOT NULL),
                   count(*) FILTER (WHERE s._rule IS NOT NULL AND EXISTS (
                       SELECT 1 FROM quarantine.rejected_rows q
                       WHERE q.source = ? AND q.rule = s._rule AND q.original_values = s._original_values)),
                   max(s.updated_at)
            FROM {stage} s
            """,
            [src_name],
        ).fetchone()
        assert counts is not None
        rows_quarantined, repeats, max_read = int(counts[0]), int(counts[1]), counts[2]
        rows_upserted = rows_read - rows_quarantined
        judged = rows_read - repeats
        reject_rate = (rows_quarantined - repeats) / judged if judged else 0.0

        deleted: list[tuple[str, dt.datetime]] = []
        emptied = False
        if full_compare:
            deleted = con.execute(
                f"SELECT {_quote(pk)}, updated_at FROM {target} r WHERE NOT EXISTS "
                f"(SELECT 1 FROM hr_source_keys k WHERE k.pk = r.{_quote(pk)}) ORDER BY 1"
            ).fetchall()
            held = con.execute(f"SELECT count(*) FROM {target}").fetchone()
            source_keys = con.execute("SELECT count(*) FROM hr_source_keys").fetchone()
            emptied = bool(held and held[0]) and not (source_keys and source_keys[0])

        kinds = {"inserted": 0, "late": 0, "corrected": 0}
        changed = 0  # rows inserted or updated in raw (stays 0 for a rejected pull)
        if reject_rate > max_reject_rate or emptied:
            status = "rejected"
            if emptied:
                reason = (
                    f"源表 {table} 已无任何行，而仓库中有 {len(deleted)} 行：疑为表被清空或连错了数据库，"
                    "本批未应用（含删除），水位线保持不变；若确为删除，请人工清理 raw 表"
                )
            else:
                reason = (
                    f"隔离 {rows_quarantined - repeats}/{judged} 行（{reject_rate:.1%}），超过上限 "
                    f"{max_reject_rate:.1%}：本批未写入 raw，水位线保持不变"
                )
            watermark_after = watermark_before
            deleted = []
        else:
            status = "published"
            reason = None
            if rows_quarantined:
                reason = f"隔离 {rows_quarantined} 行"
                if repeats:
                    reason += f"（其中 {repeats} 行此前已隔离）"
            kinds = _classify(con, table, stage, col_names, pk_names, watermark_before)
            changed = _upsert(con, table, stage, col_names, pk_names, now)
            assert changed == sum(kinds.values()), (changed, kinds)
            if deleted:
                _delete(con, table, pk, deleted, batch_id, now)
                note = f"源端已删除 {len(deleted)} 行，已从 raw 删除（记录于 meta.hr_deleted_rows）"
                reason = f"{reason}；{note}" if reason else note
            watermark_after = watermark_before
            if max_read is not None and (watermark_before is None or max_read > watermark_before):
                watermark_after = max_read
                con.execute(
                    "INSERT INTO meta.hr_watermarks VALUES (?, ?) "
                    "ON CONFLICT (table_name) DO UPDATE SET max_updated_at = excluded.max_updated_at",
                    [table, watermark_after],
                )
            if full_compare:
                con.execute(
                    "INSERT INTO meta.hr_full_compares VALUES (?, ?) "
                    "ON CONFLICT (table_name) DO UPDATE SET compared_at = excluded.compared_at",
                    [table, now],
                )

        nothing_new = (not changed and not deleted and rows_quarantined == repeats
                       and watermark_after == watermark_before)
        if status == "published" and nothing_new:
            # Nothing new: only boundary rows and already-quarantined rows were re-read. Record nothing,
            # so a pull over an unchanged platform leaves the warehouse exactly as it was.
            status, reason = "unchanged", None
            con.execute(f"DROP TABLE {stage}")
            con.commit()
            return HrTablePull(table, rows_read, 0, rows_quarantined, watermark_before, watermark_after,
                               batch_id, status, reason, full_compare=full_compare)
        con.execute(
            "INSERT INTO quarantine.rejected_rows (source, batch_id, source_row, rule, reason,"
            " original_values, quarantined_at) "
            f"SELECT ?, ?, _source_row, _rule, {reason_case}, _original_values, ? "
            f"FROM {stage} WHERE _rule IS NOT NULL ORDER BY _source_row",
            [src_name, batch_id, now],
        )
        con.execute(
            "INSERT INTO meta.load_batches (batch_id, source, file_path, rows_read, rows_loaded,"
            " rows_quarantined, status, reason, loaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [batch_id, src_name, file_path, rows_read, rows_upserted, rows_quarantined, status, reason, now],
        )
        con.execute(f"DROP TABLE {stage}")
        con.commit()
    except BaseException:
        con.rollback()
        raise

    pull = HrTablePull(
        table=table,
        rows_read=rows_read,
        rows_upserted=rows_upserted,
        rows_quarantined=rows_quarantined,
        watermark_before=watermark_before,
        watermark_after=watermark_after,
        batch_id=batch_id,
        status=status,
        reason=reason,
        rows_inserted=kinds["inserted"],
        rows_late=kinds["late"],
        rows_corrected=kinds["corrected"],
        rows_deleted=len(deleted),
        full_compare=full_compare,
    )
    log.info("HR pull %s: %s", table, pull)
    return pull


def _accepted(stage: str, pks: str) -> str:
    """The staged rows that would be applied: rule-clean, newest copy per key."""
    return (f"SELECT * FROM {stage} WHERE _rule IS NULL "
            f"QUALIFY row_number() OVER (PARTITION BY {pks} ORDER BY updated_at DESC, _source_row DESC) = 1")


def _classify(
    con: duckdb.DuckDBPyConnection,
    table: str,
    stage: str,
    col_names: list[str],
    pk_names: list[str],
    watermark_before: dt.datetime | None,
) -> dict[str, int]:
    """How many of the rows ``_upsert`` is about to apply are new keys (at/after the previous watermark,
    or late: behind it) and how many change a row already held; same conditions as ``_upsert``."""
    target = _raw_table(table)
    pks = ", ".join(_quote(c) for c in pk_names)
    on = " AND ".join(f"r.{_quote(c)} = a.{_quote(c)}" for c in pk_names)
    non_pk = [c for c in col_names if c not in pk_names]
    differs = " OR ".join(f"a.{_quote(c)} IS DISTINCT FROM r.{_quote(c)}" for c in non_pk)
    row = con.execute(
        f"""
        SELECT count(*) FILTER (WHERE r.{_quote(pk_names[0])} IS NULL AND (?::TIMESTAMP IS NULL
                                                                          OR a.updated_at >= ?::TIMESTAMP)),
               count(*) FILTER (WHERE r.{_quote(pk_names[0])} IS NULL AND a.updated_at < ?::TIMESTAMP),
               count(*) FILTER (WHERE r.{_quote(pk_names[0])} IS NOT NULL AND (a.updated_at > r.updated_at
                                OR (a.updated_at = r.updated_at AND ({differs}))))
        FROM ({_accepted(stage, pks)}) a LEFT JOIN {target} r ON {on}
        """,
        [watermark_before] * 3,
    ).fetchone()
    assert row is not None
    return {"inserted": int(row[0]), "late": int(row[1]), "corrected": int(row[2])}


def _delete(
    con: duckdb.DuckDBPyConnection,
    table: str,
    pk: str,
    deleted: list[tuple[str, dt.datetime]],
    batch_id: str,
    now: dt.datetime,
) -> None:
    """Apply deletions found by the key comparison, keeping each deleted key in meta.hr_deleted_rows."""
    con.executemany(
        "INSERT INTO meta.hr_deleted_rows VALUES (?, ?, ?, ?, ?)",
        [[table, key, updated_at, batch_id, now] for key, updated_at in deleted],
    )
    con.execute(
        f"DELETE FROM {_raw_table(table)} WHERE {_quote(pk)} IN "
        f"(SELECT primary_key FROM meta.hr_deleted_rows WHERE batch_id = ?)",
        [batch_id],
    )


def _upsert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    stage: str,
    col_names: list[str],
    pk_names: list[str],
    loaded_at: dt.datetime,
) -> int:
    """Apply the accepted staged rows to raw: newer-or-equal updated_at wins, an older copy never does.
    Returns how many rows were inserted or changed.

    An identical re-read (boundary rows) is left untouched, ``_loaded_at`` included, so a no-change
    pull changes nothing. Duplicate keys inside one pull (a source without an enforced key) resolve
    to the newest copy, as separate pulls would.
    """
    target = _raw_table(table)
    cols = ", ".join(_quote(c) for c in col_names)
    pks = ", ".join(_quote(c) for c in pk_names)
    non_pk = [c for c in col_names if c not in pk_names]
    sets = ", ".join(f"{_quote(c)} = excluded.{_quote(c)}" for c in [*non_pk, "_loaded_at"])
    differs = " OR ".join(f"excluded.{_quote(c)} IS DISTINCT FROM {target}.{_quote(c)}" for c in non_pk)
    result = con.execute(
        f"""
        INSERT INTO {target} ({cols}, _loaded_at)
        SELECT {cols}, ? FROM ({_accepted(stage, pks)})
        ON CONFLICT ({pks}) DO UPDATE SET {sets}
        WHERE excluded.updated_at > {target}.updated_at
           OR (excluded.updated_at = {target}.updated_at AND ({differs}))
        """,
        [loaded_at],
    )
    return int(result.fetchone()[0])
