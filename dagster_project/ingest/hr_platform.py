"""Reading the HR platform database (SPEC §3.2): connect, check its schema, read what changed, find
what it deleted. Nothing here judges or publishes a row: the staged rows go to the one batch pipeline
(``ingest/batch_pipeline.py``), which flags them with ``quality.rules.hr_rules``, validates them with
the generated GE suite and publishes or rejects them, as it does for every exported file.

Why the reading is built this way:

* The platform is a live relational database that only grows and corrects rows, so each pull reads
  the rows with ``updated_at >= `` the stored watermark. ``>=`` (not ``>``) re-reads the rows on the
  boundary timestamp, so a row stamped with that timestamp whose transaction committed after the
  previous pull is not lost; the pipeline's upsert makes re-reading idempotent.
* Reading goes through SQLAlchemy Core on the ``hr_schema`` tables (never reflection: the same code
  reads SQLite, PostgreSQL and MySQL, and reflection is a known trap on this stack) and streams with
  ``yield_per`` so millions of rows never sit in memory at once.
* Rows with a NULL ``updated_at`` cannot be placed on the watermark timeline, so every pull reads
  them (the pipeline quarantines them each time until fixed at the source).
* The watermark alone misses what the platform writes behind it: a correction stamped with an older
  ``updated_at`` (a clerk's back-dated fix, a client clock behind the server), a row whose transaction
  committed after a later row was pulled, and deletions. So each pull re-reads a look-back window
  (``updated_at >= watermark - lookback``, ZENGSHOU_HR_LOOKBACK_HOURS) and, every
  ZENGSHOU_HR_FULL_COMPARE_HOURS, reads every source key and its ``updated_at``: keys the warehouse
  lacks or holds with an older ``updated_at`` are fetched by key, and keys gone from the source are
  the deletions. A key comparison reads two columns, not the whole table. What it cannot see is an
  edit that leaves ``updated_at`` unchanged: SPEC §3.2 has every correction carry a newer one.
* Before anything is read, every table and column SPEC §3.2 names is probed (``SELECT … LIMIT 0``):
  a missing table or renamed column raises ``HrPlatformSchemaError`` naming them, which no retry can
  fix, unlike ``HrPlatformUnavailable``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

from dagster_project import hr_schema

SOURCE_PREFIX = "hr_platform"
DEFAULT_CHUNK_ROWS = 50_000
CONNECT_TIMEOUT_SECONDS = 10


class HrPlatformUnavailable(RuntimeError):
    """The HR platform database cannot be reached (or the connection dropped mid-pull).

    A distinct type so the orchestrator retries with backoff instead of treating it as bad data.
    Tables committed before the failure stay committed; the rest are read again next time.
    """


class HrPlatformSchemaError(RuntimeError):
    """A table or column SPEC §3.2 names is missing at the source (dropped, renamed, wrong database).

    Retrying cannot fix it, so the orchestrator fails at once with this one-line message.
    """


def duckdb_type(column: sa.Column) -> str:
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
    column's type in bulk (the typed INSERT in ``_fetch_into``).

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


def raw_table(table: str) -> str:
    """The warehouse table an HR table is published into (deletions are the keys it holds that the
    source no longer has)."""
    return f"raw.{_quote('hr_' + table)}"


def _redacted(url: str) -> str:
    """The URL for logs and meta.load_batches.file_path: never the password."""
    return make_url(url).render_as_string(hide_password=True)


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
    values in bulk instead (the typed INSERT in ``_fetch_into``), whatever the driver hands back:
    text from SQLite, datetime/Decimal objects from psycopg2.
    """
    if isinstance(column.type, (sa.DateTime, sa.Date, sa.Numeric)):
        return sa.type_coerce(column, sa.String).label(column.name)
    return column


def _select(table: sa.Table, since: dt.datetime | None) -> sa.Select:
    """Rows changed since ``since`` (the watermark less the look-back; inclusive), plus rows whose
    updated_at is NULL.

    Unordered on purpose: an ORDER BY made SQLite sort millions of rows through temp files (most of
    the pull's time at province scale); the pipeline numbers the rows afterwards.
    """
    stmt = sa.select(*(_unprocessed(c) for c in table.columns))
    if since is not None:
        stmt = stmt.where(sa.or_(table.c.updated_at >= since, table.c.updated_at.is_(None)))
    return stmt


def _chunk_to_arrow(rows: Sequence[sa.Row], columns: Sequence[sa.Column], first_row: int) -> pa.Table:
    """Turn a chunk of source rows into an Arrow table DuckDB can scan without copying row by row."""
    arrays: dict[str, pa.Array] = {}
    values_by_column = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    for column, values in zip(columns, values_by_column, strict=True):
        arrays[column.name] = _to_arrow(column, values)
    arrays["_source_row"] = pa.array(range(first_row, first_row + len(rows)), type=pa.int64())
    return pa.table(arrays)


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



@dataclass(frozen=True)
class HrRead:
    """One table's rows as read, in the landing schema of the warehouse, for the pipeline to judge."""

    table: str
    read_table: str          # typed source columns + _source_row (fetch order)
    keys_table: str | None   # every (pk, updated_at) of the source, when this pull compared keys
    rows_read: int


class HrPlatformReader:
    """An open connection to the platform whose schema has been checked (``open_hr_platform``)."""

    def __init__(self, source: Connection, shown_url: str, chunk_rows: int) -> None:
        self._source = source
        self.shown_url = shown_url  # the URL without its password: what logs and meta.load_batches show
        self.chunk_rows = chunk_rows

    def read(
        self,
        con: duckdb.DuckDBPyConnection,
        table: str,
        since: dt.datetime | None,
        full_compare: bool,
        landing: str,
    ) -> HrRead:
        """Read the rows changed since ``since`` (None: all) into ``{landing}__read``; with
        ``full_compare``, every source key into ``{landing}__keys`` and the rows of keys the warehouse
        lacks or holds older (behind the window) too. The caller owns the DuckDB transaction."""
        try:
            return self._read(con, table, since, full_compare, landing)
        except sa.exc.DBAPIError as exc:
            if exc.connection_invalidated:
                raise HrPlatformUnavailable(
                    f"lost the connection to the HR platform while reading {table}: {_first_line(exc.orig)}"
                ) from exc
            raise

    def _read(self, con: duckdb.DuckDBPyConnection, table: str, since: dt.datetime | None,
              full_compare: bool, landing: str) -> HrRead:
        sa_table = hr_schema.metadata.tables[table]
        columns = list(sa_table.columns)
        pk = next(iter(sa_table.primary_key.columns)).name  # every HR table has a one-column key
        read_table, keys_table = f"{landing}__read", f"{landing}__keys"
        typed = ", ".join(f"CAST({_quote(c.name)} AS {duckdb_type(c)}) AS {_quote(c.name)}" for c in columns)
        con.execute(f"CREATE OR REPLACE TABLE {read_table} ("
                    + ", ".join(f"{_quote(c.name)} {duckdb_type(c)}" for c in columns) + ", _source_row BIGINT)")
        chunked = self._source.execution_options(yield_per=self.chunk_rows)
        rows_read = _fetch_into(con, chunked.execute(_select(sa_table, since)), columns, read_table, 1, typed)
        if not full_compare:
            return HrRead(table, read_table, None, rows_read)
        if since is None:  # everything was just read: the rows read are the source's keys
            con.execute(f"CREATE OR REPLACE TABLE {keys_table} AS "
                        f"SELECT CAST({_quote(pk)} AS VARCHAR) AS pk, updated_at FROM {read_table}")
            return HrRead(table, read_table, keys_table, rows_read)
        _read_source_keys(self._source, con, sa_table, pk, self.chunk_rows)
        con.execute(f"CREATE OR REPLACE TABLE {keys_table} AS SELECT * FROM hr_source_keys")
        con.execute("DROP TABLE hr_source_keys")
        # Keys the warehouse lacks or holds older, and that the window did not already read.
        wanted = [r[0] for r in con.execute(
            f"SELECT k.pk FROM {keys_table} k LEFT JOIN {raw_table(table)} r ON r.{_quote(pk)} = k.pk "
            f"WHERE k.pk IS NOT NULL AND k.updated_at IS NOT NULL "
            f"AND (r.{_quote(pk)} IS NULL OR k.updated_at > r.updated_at) "
            f"AND k.pk NOT IN (SELECT {_quote(pk)} FROM {read_table} WHERE {_quote(pk)} IS NOT NULL) "
            f"ORDER BY k.pk"
        ).fetchall()]
        for i in range(0, len(wanted), KEY_FETCH_BATCH):
            stmt = sa.select(*(_unprocessed(c) for c in columns)).where(
                sa_table.c[pk].in_(wanted[i:i + KEY_FETCH_BATCH]))
            rows_read += _fetch_into(con, self._source.execute(stmt), columns, read_table, rows_read + 1, typed)
        return HrRead(table, read_table, keys_table, rows_read)

    def end_table(self) -> None:
        """End the read transaction so the next table reads a fresh snapshot; on a dead connection
        this may fail too, and must not hide the error being raised."""
        with contextlib.suppress(sa.exc.DBAPIError):
            self._source.rollback()


@contextlib.contextmanager
def open_hr_platform(url: str, tables: Sequence[str], chunk_rows: int = DEFAULT_CHUNK_ROWS
                     ) -> Iterator[HrPlatformReader]:
    """Connect to the platform and probe every table and column of ``tables`` before anything is read.

    Raises ``HrPlatformUnavailable`` when the database cannot be reached, ``HrPlatformSchemaError``
    when a table or column is missing."""
    engine = _make_engine(url)
    try:
        try:
            source = engine.connect()
        except sa.exc.DBAPIError as exc:
            raise HrPlatformUnavailable(
                f"cannot connect to the HR platform at {_redacted(url)}: {_first_line(exc.orig)}"
            ) from exc
        with source:
            _check_source_schema(source, tables, _redacted(url))
            yield HrPlatformReader(source, _redacted(url), chunk_rows)
    finally:
        engine.dispose()


def deleted_keys(con: duckdb.DuckDBPyConnection, read: HrRead) -> tuple[list[tuple[str, dt.datetime]], bool]:
    """(keys raw holds that the source no longer has, with their updated_at; whether the source table
    is empty while raw is not). Only after a key comparison (``read.keys_table``)."""
    if read.keys_table is None:
        return [], False
    pk = next(iter(hr_schema.metadata.tables[read.table].primary_key.columns)).name
    target = raw_table(read.table)
    deleted = con.execute(
        f"SELECT {_quote(pk)}, updated_at FROM {target} r WHERE NOT EXISTS "
        f"(SELECT 1 FROM {read.keys_table} k WHERE k.pk = r.{_quote(pk)}) ORDER BY 1"
    ).fetchall()
    held = con.execute(f"SELECT count(*) FROM {target}").fetchone()
    source_keys = con.execute(f"SELECT count(*) FROM {read.keys_table}").fetchone()
    emptied = bool(held and held[0]) and not (source_keys and source_keys[0])
    return deleted, emptied


def _fetch_into(
    con: duckdb.DuckDBPyConnection,
    result: sa.CursorResult,
    columns: Sequence[sa.Column],
    read_table: str,
    first_row: int,
    typed: str,
) -> int:
    """Stream a source result into ``read_table``, cast to the columns' types in bulk; rows read."""
    rows_read = 0
    for part in result.partitions():
        chunk = _chunk_to_arrow(part, columns, first_row + rows_read)
        rows_read += len(part)
        con.register("hr_chunk", chunk)
        try:
            con.execute(f"INSERT INTO {read_table} SELECT {typed}, _source_row FROM hr_chunk")
        finally:
            con.unregister("hr_chunk")
    return rows_read
