"""Warehouse plumbing shared by every loader: connections, the meta/quarantine tables, the county
lookup used to resolve 市/县 names. Loaders never hold a connection across a GE validation, because
GE opens its own connection to the same file."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import duckdb

from dagster_project import hr_schema
from dagster_project.ingest.hr_platform import duckdb_type
from dagster_project.ingest.hr_platform import raw_table as hr_raw_table
from dagster_project.ingest.warehouse_lock import FOREIGN_LOCK_WAIT_SECONDS, open_duckdb, warehouse_lock
from dagster_project.settings import (
    DEFAULT_DUCKDB_MEMORY_LIMIT,
    DEFAULT_WAREHOUSE_LOCK_TIMEOUT,
    SEEDS_DIR,
    ConfigError,
)
from dagster_project.source_shapes import HR_TABLES

DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS landing;
CREATE SCHEMA IF NOT EXISTS quarantine;
CREATE SCHEMA IF NOT EXISTS meta;
CREATE TABLE IF NOT EXISTS quarantine.rejected_rows (
    source VARCHAR NOT NULL,
    batch_id VARCHAR NOT NULL,
    source_row BIGINT,
    rule VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    original_values VARCHAR,
    quarantined_at TIMESTAMP NOT NULL DEFAULT current_localtimestamp()
);
CREATE TABLE IF NOT EXISTS meta.load_batches (
    batch_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    partition_key VARCHAR,
    file_path VARCHAR,
    file_sha256 VARCHAR,
    encoding VARCHAR,
    rows_read BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    status VARCHAR NOT NULL,
    reason VARCHAR,
    loaded_at TIMESTAMP NOT NULL DEFAULT current_localtimestamp()
);
-- How a file was read (file sources; NULL for HR pulls). Added after the first release: ALTER keeps
-- older warehouses working. rows_skipped_* are rows that are not data (fully blank; a ledger's 合计 row):
-- counted here, not in rows_read, so rows_read = rows_loaded + rows_quarantined still holds.
ALTER TABLE meta.load_batches ADD COLUMN IF NOT EXISTS header_row INTEGER;
ALTER TABLE meta.load_batches ADD COLUMN IF NOT EXISTS delimiter VARCHAR;
ALTER TABLE meta.load_batches ADD COLUMN IF NOT EXISTS rows_skipped_blank BIGINT;
ALTER TABLE meta.load_batches ADD COLUMN IF NOT EXISTS rows_skipped_total BIGINT;
CREATE TABLE IF NOT EXISTS meta.hr_watermarks (
    table_name VARCHAR PRIMARY KEY,
    max_updated_at TIMESTAMP
);
"""


@contextlib.contextmanager
def connect(path: Path, read_only: bool = False, *, memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT,
            lock_timeout: float = DEFAULT_WAREHOUSE_LOCK_TIMEOUT) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, creating its folder and the shared schemas on first use.

    ``memory_limit`` caps this DuckDB instance (ZENGSHOU_DUCKDB_MEMORY_LIMIT); writers hold the warehouse
    lock (``warehouse_lock``) while the connection is open, waiting at most ``lock_timeout`` seconds
    (ZENGSHOU_WAREHOUSE_LOCK_TIMEOUT) for another zengshou writer to finish rather than failing on
    DuckDB's lock. The defaults are the settings' defaults; the resources (``WarehouseResource.connect``)
    and the loaders pass the configured values — nothing here reads a setting."""
    wait = min(FOREIGN_LOCK_WAIT_SECONDS, lock_timeout)
    if read_only:
        con = open_duckdb(path, read_only=True, wait=wait)
        try:
            con.execute(f"SET memory_limit = '{memory_limit}'")
            yield con
        finally:
            con.close()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with warehouse_lock(path, timeout=lock_timeout, purpose="loading the warehouse"):
        con = open_duckdb(path, wait=wait)
        try:
            con.execute(f"SET memory_limit = '{memory_limit}'")
            con.execute(DDL)
            yield con
        finally:
            con.close()


@contextlib.contextmanager
def warehouse_reader(path: Path, timeout: float) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A short read-only look at the warehouse (None when it does not exist yet), under the shared
    warehouse lock: ``timeout`` 0 for callers that must never wait or disturb a run (the sensors:
    WarehouseBusy means "a run is writing, look next tick"), else the seconds to wait for a writer
    (the lock timeout of the settings)."""
    if not path.is_file():
        yield None
        return
    with warehouse_lock(path, exclusive=False, timeout=timeout, purpose="reading meta"):
        con = open_duckdb(path, read_only=True, wait=min(FOREIGN_LOCK_WAIT_SECONDS, timeout))
        try:
            yield con
        finally:
            con.close()


_DUCKDB_MAGIC = b"DUCK"


def check_warehouse_path(path: Path) -> None:
    """Fail before any work, with the setting's name and the fix, when ZENGSHOU_WAREHOUSE cannot be a
    warehouse: a directory, a file that is not a DuckDB database, or a folder zengshou cannot write."""
    if path.is_dir():
        raise ConfigError(f"ZENGSHOU_WAREHOUSE {path} is a directory: set it to a file such as "
                          f"{path / 'zengshou.duckdb'}")
    if path.exists():
        with path.open("rb") as fh:
            header = fh.read(16)
        if header[8:12] != _DUCKDB_MAGIC:
            raise ConfigError(f"ZENGSHOU_WAREHOUSE {path} is not a DuckDB database file: point it to the warehouse "
                              "file, or to a new path to start an empty warehouse")
        folder = path.parent
    else:
        folder = next((p for p in path.parents if p.exists()), path.parent)
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"ZENGSHOU_WAREHOUSE {path}: the folder {folder} is not writable by this user: "
                          "fix its permissions or choose another path")


def ensure_counties(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)load meta.counties from the dbt seed file: the loaders resolve names with the same data."""
    con.execute(
        "CREATE OR REPLACE TABLE meta.counties AS SELECT county_code, county_name_zh, prefecture_code,"
        " prefecture_name_zh FROM read_csv(?, header = true, all_varchar = true)",
        [str(SEEDS_DIR / "yunnan_counties.csv")],
    )


def last_batch(con: duckdb.DuckDBPyConnection, source: str, partition_key: str) -> tuple | None:
    """(file_sha256, status, reason) of the latest attempt for a source partition, if any."""
    return con.execute(
        "SELECT file_sha256, status, reason FROM meta.load_batches WHERE source = ? AND partition_key = ?"
        " ORDER BY loaded_at DESC LIMIT 1",
        [source, partition_key],
    ).fetchone()


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every raw table that has not been loaded yet (empty), so dbt's sources always exist."""
    from dagster_project.ingest.file_sources import FILE_SOURCES

    for source in FILE_SOURCES:
        source.ensure_raw_table(con)
    ensure_hr_tables(con)


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


def ensure_hr_tables(con: duckdb.DuckDBPyConnection, tables: Iterable[str] = HR_TABLES) -> None:
    """Create the schemas and the tables an HR pull writes, if missing (idempotent DDL): the shared
    meta/quarantine tables, the HR bookkeeping, and raw.hr_<table> in the platform's native types
    with its primary key (the upsert needs it). Also for a connection not opened through ``connect``."""
    con.execute(DDL)
    con.execute(HR_META_DDL)
    for table in tables:
        sa_table = hr_schema.metadata.tables[table]
        cols = ", ".join(f'"{c.name}" {duckdb_type(c)}' for c in sa_table.columns)
        pk = ", ".join(f'"{c.name}"' for c in sa_table.primary_key.columns)
        con.execute(f"CREATE TABLE IF NOT EXISTS {hr_raw_table(table)} "
                    f"({cols}, _loaded_at TIMESTAMP, PRIMARY KEY ({pk}))")
