"""Reading the HR platform database (SPEC §3.2): connect, check its schema, read what changed, find
what it deleted. Nothing here judges or publishes a row: the staged rows go to the one batch pipeline
(``ingest/batch_pipeline.py``), which flags them with ``quality.rules.hr_rules``, validates them with
the generated GE suite and publishes or rejects them, as it does for every exported file.

Why the reading is built this way:

* The platform is a live relational database that only grows and corrects rows, so each pull reads
  the rows with ``updated_at >= `` the stored watermark. ``>=`` (not ``>``) re-reads the rows on the
  boundary timestamp, so a row stamped with that timestamp whose transaction committed after the
  previous pull is not lost; the pipeline's upsert makes re-reading idempotent.
* SQLite and PostgreSQL are read Arrow-natively: the ADBC drivers (``adbc-driver-sqlite``,
  ``adbc-driver-postgresql``) hand the rows over as an Arrow stream that DuckDB inserts in bulk, with
  no Python object per value (``bench/hr_read.py`` measured it against the SQLAlchemy path and
  connectorx). SQLAlchemy still parses the URL, probes the schema and writes every SQL statement (the
  Arrow path sends the same Core selects, compiled with their values inlined), and it reads every other
  dialect (MySQL, 达梦 through its own dialect) with Core on the ``hr_schema`` tables (never reflection:
  a known trap on this stack), streaming with ``yield_per`` so millions of rows never sit in memory
  at once. Both paths land the same typed rows: DuckDB casts whatever the driver hands over to the
  column's type (``duckdb_type``).
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
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

from dagster_project import hr_schema

SOURCE_PREFIX = "hr_platform"
DEFAULT_CHUNK_ROWS = 50_000
CONNECT_TIMEOUT_SECONDS = 10
SQLITE_BUSY_TIMEOUT_MS = 5_000  # what Python's sqlite3 waits for a writer's lock by default

# How a table is read (``HrRead.reader``, the pull's metadata and log line): "auto" picks ADBC for a
# SQLite file or a PostgreSQL server and SQLAlchemy for everything else.
READER_SQLALCHEMY = "sqlalchemy"
READER_ADBC_SQLITE = "adbc-sqlite"
READER_ADBC_POSTGRESQL = "adbc-postgresql"
READER_CHOICES = ("auto", "sqlalchemy", "adbc")


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


def normalised_url(url: str | sa.URL) -> sa.URL:
    """The URL as SQLAlchemy can open it: ``postgres://`` (what Heroku-style tools and many users write,
    a name SQLAlchemy 2 no longer knows) means ``postgresql://``."""
    parsed = make_url(url)
    dialect, plus, driver = parsed.drivername.partition("+")
    if dialect == "postgres":
        parsed = parsed.set(drivername=f"postgresql{plus}{driver}")
    return parsed


def arrow_reader_of(url: str | sa.URL) -> str | None:
    """The ADBC reader for this URL (``READER_ADBC_*``), or None when only SQLAlchemy can read it.

    SQLite only as a plain file path: an in-memory database exists only inside SQLAlchemy's own
    connection, and a ``file:`` URI or another SQLite driver (an encrypted SQLCipher file, say) means
    options ADBC would not honour. PostgreSQL whatever driver the URL names: ADBC speaks libpq itself.
    """
    parsed = normalised_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return READER_ADBC_POSTGRESQL
    if backend == "sqlite" and parsed.get_driver_name() == "pysqlite":
        database = parsed.database or ""
        if database not in ("", ":memory:") and not database.startswith("file:") and "uri" not in parsed.query:
            return READER_ADBC_SQLITE
    return None


def libpq_uri(url: str | sa.URL) -> str:
    """A libpq URI for ADBC (``postgresql+psycopg2://…`` → ``postgresql://…``, password kept, percent-
    encoded), with the same connect timeout the SQLAlchemy engine gets unless the URL sets one."""
    parsed = normalised_url(url).set(drivername="postgresql")
    if "connect_timeout" not in parsed.query:
        parsed = parsed.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT_SECONDS)})
    return parsed.render_as_string(hide_password=False)


def _sqlite_uri(url: str | sa.URL) -> str:
    """A read-only SQLite URI for ADBC: the pull never writes the platform, and a read-only open can
    never create an empty file for a mistyped path."""
    path = Path(normalised_url(url).database or "").resolve()
    return f"file:{quote(str(path))}?mode=ro"


def _make_engine(url: str) -> Engine:
    """Engine for the platform, failing fast on a missing SQLite file or a dead server.

    SQLite would silently create an empty file for a mistyped path, which would look like "no rows"
    instead of "wrong database"; a PostgreSQL host that drops packets would hang without a timeout.
    """
    parsed = normalised_url(url)
    connect_args: dict[str, Any] = {}
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        is_file_db = database not in ("", ":memory:") and not database.startswith("file:")
        if is_file_db and not Path(database).is_file():
            raise HrPlatformUnavailable(f"HR platform SQLite file not found: {database}")
    elif (backend, parsed.get_driver_name()) in _TIMEOUT_DRIVERS:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    return sa.create_engine(parsed, connect_args=connect_args)


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


# --------------------------------------------------------------------------------------------------
# The Arrow path (ADBC)
# --------------------------------------------------------------------------------------------------

_SENTINEL = "_sentinel"


def _arrow_column(column: sa.Column, sqlite: bool) -> sa.ColumnElement:
    """A column as the ADBC path selects it.

    SQLite: as text, every column. SQLite is dynamically typed, and the ADBC driver fixes each
    column's Arrow type from the first batch it reads, then fails on a later value of another type (a
    number in a text column, a real after integers in a NUMERIC column); text is what every value can
    be rendered as, and it is what the SQLAlchemy path hands DuckDB for SQLite's timestamps and dates
    already. A REAL is rendered with 17 significant digits, which round-trips the double exactly, so
    DuckDB's cast to DECIMAL sees the value the SQLAlchemy path's float carries.
    PostgreSQL: native types (binary COPY), except NUMERIC, which the driver hands over as an opaque
    extension type; its text is exact.
    """
    if sqlite:
        if isinstance(column.type, sa.Numeric):
            rendered = sa.case((sa.func.typeof(column) == "real", sa.func.printf("%.17g", column)),
                               else_=sa.cast(column, sa.Text))
            return rendered.label(column.name)
        return sa.cast(column, sa.Text).label(column.name)
    if isinstance(column.type, sa.Numeric):
        return sa.cast(column, sa.Text).label(column.name)
    return column


def _literal_dialect(sqlite: bool) -> sa.Dialect:
    """The dialect the Arrow path's SQL is compiled with (values inlined: ADBC gets plain SQL text)."""
    if sqlite:
        from sqlalchemy.dialects.sqlite import pysqlite

        return pysqlite.dialect()
    from sqlalchemy.dialects.postgresql import psycopg2

    dialect = psycopg2.dialect()
    # The ADBC connection sets standard_conforming_strings on: a backslash in a key is a backslash.
    dialect._backslash_escapes = False
    return dialect


def _arrow_sql(stmt: sa.Select, sqlite: bool) -> str:
    """SQL text of a Core select for ADBC. For SQLite a first row of empty strings (``_sentinel`` = 1,
    dropped on arrival) makes every column text in the driver's type inference, even when the first
    batch holds nothing but NULLs in a column (which it would otherwise take for integers)."""
    sql = str(stmt.compile(dialect=_literal_dialect(sqlite), compile_kwargs={"literal_binds": True}))
    if not sqlite:
        return sql
    names = [c.name for c in stmt.selected_columns]
    sentinel = ", ".join(["1 AS " + _quote(_SENTINEL), *(f"'' AS {_quote(n)}" for n in names)])
    return f"SELECT {sentinel} UNION ALL SELECT 0, * FROM ({sql})"


def _arrow_select(table: sa.Table, since: dt.datetime | None, sqlite: bool) -> sa.Select:
    """``_select`` for the ADBC path: the same rows, the columns as ``_arrow_column`` renders them."""
    stmt = sa.select(*(_arrow_column(c, sqlite) for c in table.columns))
    if since is not None:
        stmt = stmt.where(sa.or_(table.c.updated_at >= since, table.c.updated_at.is_(None)))
    return stmt


def arrow_select_sql(table: sa.Table, since: dt.datetime | None, sqlite: bool) -> str:
    """The window query as the ADBC path sends it (``bench/hr_read.py`` sends it through connectorx)."""
    return _arrow_sql(_arrow_select(table, since, sqlite), sqlite)


def _numbered_batches(stream: pa.RecordBatchReader, first_row: int) -> Iterator[pa.Table]:
    """The stream's batches without the sentinel row, each with ``_source_row`` numbered in fetch
    order from ``first_row``."""
    next_row = first_row
    for batch in stream:
        if _SENTINEL in batch.schema.names:
            batch = batch.filter(pc.equal(batch.column(_SENTINEL), 0)).drop_columns([_SENTINEL])
        if batch.num_rows == 0:
            continue
        numbered = pa.Table.from_batches([batch]).append_column(
            "_source_row", pa.array(np.arange(next_row, next_row + batch.num_rows, dtype=np.int64)))
        next_row += batch.num_rows
        yield numbered


class _ArrowSource:
    """An ADBC connection to the platform, in autocommit: like the SQLAlchemy path, every statement
    reads a fresh committed state and no transaction stays open between tables."""

    def __init__(self, url: sa.URL, reader: str, chunk_rows: int) -> None:
        self.sqlite = reader == READER_ADBC_SQLITE
        self.chunk_rows = chunk_rows
        if self.sqlite:
            import adbc_driver_sqlite.dbapi as driver

            self._conn = driver.connect(_sqlite_uri(url), autocommit=True)
            self._run("PRAGMA busy_timeout = " + str(SQLITE_BUSY_TIMEOUT_MS))
        else:
            import adbc_driver_postgresql.dbapi as driver

            self._conn = driver.connect(libpq_uri(url), autocommit=True)
            self._run("SET standard_conforming_strings = on")

    def _run(self, sql: str) -> None:
        with contextlib.closing(self._conn.cursor()) as cur:
            cur.execute(sql)

    def batches(self, stmt: sa.Select, first_row: int = 1) -> Iterator[pa.Table]:
        """Run the select; its rows in Arrow batches, numbered from ``first_row``."""
        with contextlib.closing(self._conn.cursor()) as cur:
            if self.sqlite:
                cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(self.chunk_rows)})
            cur.execute(_arrow_sql(stmt, self.sqlite))
            yield from _numbered_batches(cur.fetch_record_batch(), first_row)

    def alive(self) -> bool:
        try:
            self._run("SELECT 1")
            return True
        except Exception:
            return False

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._conn.close()


def _insert_batches(con: duckdb.DuckDBPyConnection, batches: Iterator[pa.Table], target: str, select: str) -> int:
    """Insert the Arrow batches into ``target`` through ``select`` (over the view ``hr_chunk``) in one
    streaming INSERT; rows inserted. One statement, not one per batch: DuckDB pulls the batches as it
    goes (memory stays one batch deep) and pays its per-statement cost once. An error of the source
    driver mid-stream reaches DuckDB as its own error; it is re-raised as the driver's."""
    first = next(batches, None)
    if first is None:
        return 0
    rows, failure = [0], []

    def record_batches() -> Iterator[pa.RecordBatch]:
        try:
            for table in itertools.chain([first], batches):
                rows[0] += table.num_rows
                yield from table.to_batches()
        except Exception as exc:
            failure.append(exc)
            raise

    con.register("hr_chunk", pa.RecordBatchReader.from_batches(first.schema, record_batches()))
    try:
        con.execute(f"INSERT INTO {target} {select}")
    except duckdb.Error as exc:
        if failure:
            raise failure[0] from exc
        raise
    finally:
        con.unregister("hr_chunk")
    return rows[0]


# --------------------------------------------------------------------------------------------------
# The reader
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HrRead:
    """One table's rows as read, in the landing schema of the warehouse, for the pipeline to judge."""

    table: str
    read_table: str          # typed source columns + _source_row (fetch order)
    keys_table: str | None   # every (pk, updated_at) of the source, when this pull compared keys
    rows_read: int
    reader: str = READER_SQLALCHEMY  # which path read it: READER_SQLALCHEMY or READER_ADBC_*


class HrPlatformReader:
    """An open connection to the platform whose schema has been checked (``open_hr_platform``).

    ``reader`` names the path the rows travel: ``adbc-sqlite`` / ``adbc-postgresql`` (an ADBC
    connection beside the SQLAlchemy one, which only probed the schema) or ``sqlalchemy``."""

    def __init__(self, source: Connection, shown_url: str, chunk_rows: int,
                 arrow: _ArrowSource | None = None, reader: str = READER_SQLALCHEMY) -> None:
        self._source = source
        self._arrow = arrow
        self.reader = reader
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
        except Exception as exc:
            # An ADBC error on a connection that no longer answers is an outage (retried), like
            # SQLAlchemy's invalidated connection; any other error is raised as it is.
            if self._arrow is not None and _is_adbc_error(exc) and not self._arrow.alive():
                raise HrPlatformUnavailable(
                    f"lost the connection to the HR platform while reading {table}: {_first_line(exc)}"
                ) from exc
            raise

    def _window_into(self, con: duckdb.DuckDBPyConnection, sa_table: sa.Table, since: dt.datetime | None,
                     read_table: str, typed: str) -> int:
        if self._arrow is not None:
            stmt = _arrow_select(sa_table, since, self._arrow.sqlite)
            return _insert_batches(con, self._arrow.batches(stmt), read_table,
                                   f"SELECT {typed}, _source_row FROM hr_chunk")
        chunked = self._source.execution_options(yield_per=self.chunk_rows)
        return _fetch_into(con, chunked.execute(_select(sa_table, since)), list(sa_table.columns), read_table, 1, typed)

    def _keys_into(self, con: duckdb.DuckDBPyConnection, sa_table: sa.Table, pk: str, keys_table: str) -> None:
        """Every (primary key, updated_at) of the source table into ``keys_table``. The Arrow path
        writes it directly (one pass over millions of keys, not two)."""
        if self._arrow is None:
            _read_source_keys(self._source, con, sa_table, pk, self.chunk_rows)
            con.execute(f"CREATE OR REPLACE TABLE {keys_table} AS SELECT * FROM hr_source_keys")
            con.execute("DROP TABLE hr_source_keys")
            return
        con.execute(f"CREATE OR REPLACE TABLE {keys_table} (pk VARCHAR, updated_at TIMESTAMP)")
        sqlite = self._arrow.sqlite
        stmt = sa.select(_arrow_column(sa_table.c[pk], sqlite).label("pk"),
                         _arrow_column(sa_table.c.updated_at, sqlite).label("updated_at"))
        _insert_batches(con, self._arrow.batches(stmt), keys_table,
                        "SELECT CAST(pk AS VARCHAR), CAST(updated_at AS TIMESTAMP) FROM hr_chunk")

    def _by_keys_into(self, con: duckdb.DuckDBPyConnection, sa_table: sa.Table, pk: str, keys: list[str],
                      read_table: str, first_row: int, typed: str) -> int:
        if self._arrow is not None:
            stmt = _arrow_select(sa_table, None, self._arrow.sqlite).where(sa_table.c[pk].in_(keys))
            return _insert_batches(con, self._arrow.batches(stmt, first_row), read_table,
                                   f"SELECT {typed}, _source_row FROM hr_chunk")
        stmt = sa.select(*(_unprocessed(c) for c in sa_table.columns)).where(sa_table.c[pk].in_(keys))
        return _fetch_into(con, self._source.execute(stmt), list(sa_table.columns), read_table, first_row, typed)

    def _read(self, con: duckdb.DuckDBPyConnection, table: str, since: dt.datetime | None,
              full_compare: bool, landing: str) -> HrRead:
        sa_table = hr_schema.metadata.tables[table]
        columns = list(sa_table.columns)
        pk = next(iter(sa_table.primary_key.columns)).name  # every HR table has a one-column key
        read_table, keys_table = f"{landing}__read", f"{landing}__keys"
        typed = ", ".join(f"CAST({_quote(c.name)} AS {duckdb_type(c)}) AS {_quote(c.name)}" for c in columns)
        con.execute(f"CREATE OR REPLACE TABLE {read_table} ("
                    + ", ".join(f"{_quote(c.name)} {duckdb_type(c)}" for c in columns) + ", _source_row BIGINT)")
        rows_read = self._window_into(con, sa_table, since, read_table, typed)
        if not full_compare:
            return HrRead(table, read_table, None, rows_read, self.reader)
        if since is None:  # everything was just read: the rows read are the source's keys
            con.execute(f"CREATE OR REPLACE TABLE {keys_table} AS "
                        f"SELECT CAST({_quote(pk)} AS VARCHAR) AS pk, updated_at FROM {read_table}")
            return HrRead(table, read_table, keys_table, rows_read, self.reader)
        self._keys_into(con, sa_table, pk, keys_table)
        # Keys the warehouse lacks or holds older, and that the window did not already read.
        wanted = [r[0] for r in con.execute(
            f"SELECT k.pk FROM {keys_table} k LEFT JOIN {raw_table(table)} r ON r.{_quote(pk)} = k.pk "
            f"WHERE k.pk IS NOT NULL AND k.updated_at IS NOT NULL "
            f"AND (r.{_quote(pk)} IS NULL OR k.updated_at > r.updated_at) "
            f"AND k.pk NOT IN (SELECT {_quote(pk)} FROM {read_table} WHERE {_quote(pk)} IS NOT NULL) "
            f"ORDER BY k.pk"
        ).fetchall()]
        for i in range(0, len(wanted), KEY_FETCH_BATCH):
            rows_read += self._by_keys_into(con, sa_table, pk, wanted[i:i + KEY_FETCH_BATCH], read_table,
                                            rows_read + 1, typed)
        return HrRead(table, read_table, keys_table, rows_read, self.reader)

    def end_table(self) -> None:
        """End the read transaction so the next table reads a fresh snapshot; on a dead connection
        this may fail too, and must not hide the error being raised."""
        with contextlib.suppress(sa.exc.DBAPIError):
            self._source.rollback()


def _is_adbc_error(exc: BaseException) -> bool:
    try:
        import adbc_driver_manager
    except ImportError:
        return False
    return isinstance(exc, adbc_driver_manager.Error)


def _open_arrow(url: sa.URL, reader: str, chunk_rows: int) -> _ArrowSource:
    try:
        return _ArrowSource(url, reader, chunk_rows)
    except Exception as exc:
        if _is_adbc_error(exc):
            raise HrPlatformUnavailable(
                f"cannot connect to the HR platform at {_redacted(url)}: {_first_line(exc)}") from exc
        raise


@contextlib.contextmanager
def open_hr_platform(url: str, tables: Sequence[str], chunk_rows: int = DEFAULT_CHUNK_ROWS,
                     reader: str = "auto") -> Iterator[HrPlatformReader]:
    """Connect to the platform and probe every table and column of ``tables`` before anything is read.

    ``reader``: "auto" reads through ADBC where ``arrow_reader_of`` finds a driver (SQLite files,
    PostgreSQL) and through SQLAlchemy elsewhere; "sqlalchemy" or "adbc" force one path ("adbc" on a
    URL it cannot read is a ``ValueError``). Raises ``HrPlatformUnavailable`` when the database cannot
    be reached, ``HrPlatformSchemaError`` when a table or column is missing."""
    if reader not in READER_CHOICES:
        raise ValueError(f"reader must be one of {', '.join(READER_CHOICES)}, not {reader!r}")
    arrow_reader = None if reader == READER_SQLALCHEMY else arrow_reader_of(url)
    if reader == "adbc" and arrow_reader is None:
        raise ValueError(f"no ADBC reader for {_redacted(url)}: only SQLite files and PostgreSQL")
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
            arrow = _open_arrow(normalised_url(url), arrow_reader, chunk_rows) if arrow_reader else None
            try:
                yield HrPlatformReader(source, _redacted(url), chunk_rows, arrow, arrow_reader or READER_SQLALCHEMY)
            finally:
                if arrow is not None:
                    arrow.close()
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
