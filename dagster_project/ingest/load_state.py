"""What the warehouse has already loaded and what its marts were last built and published from.

One notion of "already loaded" for every path that starts work (`zengshou run`, `make demo`, the
landing sensors): the latest attempt per source partition in ``meta.load_batches``, with the sha256 of
the file it read. A file whose content matches its latest attempt — published *or* rejected for a data
reason — is not loaded again until it changes; a load that died before recording its batch (killed,
disk full, the warehouse busy) left no attempt, so it is still to do and is retried.

The marts are tracked the same way: ``raw_state`` is a digest of the set of published batches (every
published file batch and every HR pull that changed rows), recorded in ``meta.marts_state`` by the dbt
step when its build succeeded (``dbt``) and by the publishing step when the serving copies were
replaced (``serving``). Whenever the two differ — a run was killed during dbt, the disk filled, a
transform failed — the next run or sensor tick rebuilds and republishes, instead of believing the
marts are current because nothing new landed.

``meta.file_hashes`` keeps the sha256 of every landed file under its stamp (readers.FileStamp), written
by `zengshou run` at its end, so the next run's planner reads only files that are new or changed: the
planner compares every landed file with its latest attempt, and reading years of exports each month
would make month 60 cost far more than month 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import astuple
from pathlib import Path

import duckdb

from dagster_project.ingest.readers import FileStamp, HashedFile

MARTS_STATE_DDL = """
CREATE TABLE IF NOT EXISTS meta.marts_state (
    step VARCHAR PRIMARY KEY,       -- 'dbt' (marts built) or 'serving' (serving file / PostgreSQL replaced)
    raw_state VARCHAR NOT NULL,     -- raw_state() the step's input had
    recorded_at TIMESTAMP NOT NULL DEFAULT current_localtimestamp()
);
"""
DBT_STEP, SERVING_STEP = "dbt", "serving"
FILE_HASHES_DDL = """
CREATE TABLE IF NOT EXISTS meta.file_hashes (
    file_path VARCHAR NOT NULL,     -- one row per path, as the planner lists it (landing dir + relative path)
    size BIGINT NOT NULL,           -- the stamp (readers.FileStamp) the file had when it was read …
    mtime_ns BIGINT NOT NULL,
    ctime_ns BIGINT NOT NULL,
    inode BIGINT NOT NULL,
    device BIGINT NOT NULL,
    sha256 VARCHAR NOT NULL,        -- … and its content's hash
    recorded_at TIMESTAMP NOT NULL DEFAULT current_localtimestamp()
);
"""


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                            [schema, table]).fetchone()[0])


def loaded_shas(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str | None]:
    """(source, partition_key) → sha256 of the file its latest attempt read (published or rejected)."""
    if not _has_table(con, "meta", "load_batches"):
        return {}
    rows = con.execute(
        "SELECT source, partition_key, arg_max(file_sha256, loaded_at) FROM meta.load_batches"
        " WHERE partition_key IS NOT NULL GROUP BY source, partition_key"
    ).fetchall()
    return {(source, key): sha for source, key, sha in rows}


def raw_state(con: duckdb.DuckDBPyConnection) -> str:
    """Digest of every published batch: changes exactly when a load changed a raw table."""
    if not _has_table(con, "meta", "load_batches"):
        return "empty"
    row = con.execute(
        "SELECT count(*), coalesce(md5(string_agg(batch_id, ',' ORDER BY batch_id)), '')"
        " FROM meta.load_batches WHERE status = 'published'"
    ).fetchone()
    return f"{row[0]}:{row[1][:16]}" if row[0] else "empty"


def recorded_state(con: duckdb.DuckDBPyConnection, step: str) -> str | None:
    if not _has_table(con, "meta", "marts_state"):
        return None
    row = con.execute("SELECT raw_state FROM meta.marts_state WHERE step = ?", [step]).fetchone()
    return row[0] if row else None


def record_state(con: duckdb.DuckDBPyConnection, step: str, state: str) -> None:
    con.execute(MARTS_STATE_DDL)
    con.execute(
        "INSERT INTO meta.marts_state (step, raw_state, recorded_at) VALUES (?, ?, current_localtimestamp())"
        " ON CONFLICT (step) DO UPDATE SET raw_state = excluded.raw_state, recorded_at = excluded.recorded_at",
        [step, state],
    )


def marts_outdated(con: duckdb.DuckDBPyConnection) -> str | None:
    """Why the marts and their serving copies must be rebuilt, or None when they match the raw tables."""
    current = raw_state(con)
    served = recorded_state(con, SERVING_STEP)
    if served == current:
        return None
    if served is None:
        return "the marts have not been built and published from this warehouse yet"
    return f"raw tables changed since the marts were last published (raw {current}, published from {served})"


def file_hashes(con: duckdb.DuckDBPyConnection) -> dict[Path, HashedFile]:
    """Every landed file's hash under the stamp it had (``meta.file_hashes``), by path."""
    if not _has_table(con, "meta", "file_hashes"):
        return {}
    rows = con.execute("SELECT file_path, size, mtime_ns, ctime_ns, inode, device, sha256 FROM meta.file_hashes"
                       ).fetchall()
    return {Path(r[0]): HashedFile(FileStamp(*r[1:6]), r[6]) for r in rows}


def remember_file_hashes(con: duckdb.DuckDBPyConnection, hashed: Mapping[Path, HashedFile]) -> int:
    """Replace ``meta.file_hashes`` with ``hashed`` (a plan's files; those that changed while read have
    no stamp and are left out, so they are read again). Returns the rows written."""
    rows = [(str(path), *astuple(h.stamp), h.sha256) for path, h in sorted(hashed.items()) if h.stamp is not None]
    con.execute(FILE_HASHES_DDL)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM meta.file_hashes")
        if rows:
            con.executemany("INSERT INTO meta.file_hashes (file_path, size, mtime_ns, ctime_ns, inode, device, sha256)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return len(rows)
