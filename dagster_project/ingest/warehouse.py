"""Warehouse plumbing shared by every loader: connections, the meta/quarantine tables, the county
lookup used to resolve 市/县 names. Loaders never hold a connection across a GE validation, because
GE opens its own connection to the same file."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from dagster_project.settings import SEEDS_DIR, duckdb_memory_limit

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
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, creating its folder and the shared schemas on first use."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        con.execute(f"SET memory_limit = '{duckdb_memory_limit()}'")
        if not read_only:
            con.execute(DDL)
        yield con
    finally:
        con.close()


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
    from dagster_project.ingest.hr_platform import ensure_warehouse_tables

    for source in FILE_SOURCES:
        source.ensure_raw_table(con)
    ensure_warehouse_tables(con)
