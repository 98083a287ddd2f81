"""The serving DuckDB file: a copy of the marts that BI tools open read-only.

DuckDB allows one writer per file, and a BI tool holding the warehouse open would make the next run
fail to take its lock (or the run would lock the tool out). So after each successful run the marts
are copied into a *separate* file, built under a temporary name in the same folder and then renamed
over the previous one with ``os.replace`` (atomic on POSIX). A BI connection that has the old file
open keeps reading the old inode — a complete, consistent snapshot — until it reconnects; a new
connection opens the new file. Nothing a reader does can block or break the publish.

Contents: schema ``marts`` (every warehouse mart as a table, with the dbt descriptions as column
comments) and schema ``marts_zh`` (one view per mart with Chinese column names, codes shown as their Chinese
labels: 达标, 进度正常, 州市 …). Nothing from raw, staging, intermediate, quarantine or meta, and no
restricted person list (a mart with meta ``zengshou_publish: county_roles_only``): the file has no
row-level security, so such a list goes to the county roles of PostgreSQL only.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from dagster_project.serving.catalog import (
    MARTS_SCHEMA,
    MartTable,
    check_personal_data,
    check_row_security,
    connect_warehouse,
    read_marts,
    zh_view_columns,
)

SERVING_FILE_NAME = "zengshou_serving.duckdb"
ZH_SCHEMA = "marts_zh"


@dataclass(frozen=True)
class ServingFilePublish:
    path: Path
    tables: dict[str, int]          # mart -> rows
    bytes: int
    seconds: float
    withheld: tuple[str, ...] = ()  # restricted person lists left out of the file (county_roles_only)


def serving_file_path(warehouse: Path, configured: Path | None = None) -> Path:
    """``configured`` (the setting ZENGSHOU_SERVING_FILE, resources.PublishingResource) when set, else
    ``<warehouse dir>/zengshou_serving.duckdb``."""
    return Path(configured) if configured else warehouse.parent / SERVING_FILE_NAME


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _zh_value(name: str, labels: dict[str, str] | None) -> str:
    """A column as the Chinese view shows it: codes through their Chinese labels (SPEC §2.2)."""
    if not labels:
        return _q(name)
    whens = " ".join(f"WHEN {_lit(code)} THEN {_lit(label)}" for code, label in sorted(labels.items()))
    return f"CASE {_q(name)} {whens} ELSE {_q(name)} END"


def _zh_view_sql(table: MartTable) -> str:
    cols = ", ".join(f"{_zh_value(c.name, labels)} AS {_q(c.label_zh)}" for c, labels in zh_view_columns(table))
    return f"CREATE VIEW {ZH_SCHEMA}.{_q(table.name)} AS SELECT {cols} FROM {MARTS_SCHEMA}.{_q(table.name)}"


def publish_serving_file(warehouse: Path, target: Path | None = None) -> ServingFilePublish:
    """Copy every mart of ``warehouse`` into the serving file and swap it in atomically."""
    started = time.monotonic()
    target = target or serving_file_path(warehouse)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    con = connect_warehouse(warehouse)
    try:
        marts = read_marts(con)
        check_personal_data(con, marts)
        check_row_security(marts)
        tables = [t for t in marts if not t.restricted]
        withheld = tuple(t.name for t in marts if t.restricted)
        con.execute(f"ATTACH {_lit(str(tmp))} AS serving_next (READ_WRITE)")
        try:
            # Work inside the new file, so the views it stores name its own schemas, not the warehouse's.
            warehouse_db = con.execute("SELECT current_database()").fetchone()[0]
            con.execute("USE serving_next")
            con.execute(f"CREATE SCHEMA {MARTS_SCHEMA}; CREATE SCHEMA {ZH_SCHEMA}")
            for t in tables:
                con.execute(f"CREATE TABLE {MARTS_SCHEMA}.{_q(t.name)} AS "
                            f"SELECT * FROM {_q(warehouse_db)}.{MARTS_SCHEMA}.{_q(t.name)}")
                con.execute(_zh_view_sql(t))
                if t.description:
                    con.execute(f"COMMENT ON TABLE {MARTS_SCHEMA}.{_q(t.name)} IS {_lit(t.description)}")
                    con.execute(f"COMMENT ON VIEW {ZH_SCHEMA}.{_q(t.name)} IS {_lit(t.description)}")
                for c in t.columns:
                    if c.description:
                        note = _lit(c.description)
                        con.execute(f"COMMENT ON COLUMN {MARTS_SCHEMA}.{_q(t.name)}.{_q(c.name)} IS {note}")
                        con.execute(f"COMMENT ON COLUMN {ZH_SCHEMA}.{_q(t.name)}.{_q(c.label_zh)} IS {note}")
            con.execute("USE " + _q(warehouse_db))
            con.execute("CHECKPOINT serving_next")
            con.execute("DETACH serving_next")
        except BaseException:
            with contextlib.suppress(Exception):
                con.execute("DETACH serving_next")
            raise
    except BaseException:
        con.close()
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    con.close()
    with open(tmp, "rb") as f:  # the bytes are on disk before the name points at them
        os.fsync(f.fileno())
    os.replace(tmp, target)
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return ServingFilePublish(target, {t.name: t.rows for t in tables}, target.stat().st_size,
                              time.monotonic() - started, withheld)
