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

Only the changed months (issue 12): when serving/changes.py finds that the file last took the build
before this one, with the same catalog, the new file starts as a *copy* of the current one (a reflink
where the filesystem can share blocks — btrfs, XFS; else a plain copy), the rebuilt months' rows of the
month and year marts are deleted and inserted again from the warehouse, and the marts without months are
replaced whole. The copy is still O(file size) of sequential I/O when no reflink is possible, but it is
needed: DuckDB changes a file in place, and a BI tool holding the current file read-only both keeps
DuckDB from opening it for writing and must keep reading a consistent snapshot, so the live file is
never edited — the copy is edited and renamed over it, as in a whole publish. Sequential copying is
still much cheaper than re-reading and re-compressing every year's person-level rows from the
warehouse. Any doubt (no previous file, another file in its place, a mart's columns or types changed,
a missed or everything build) publishes whole, and the result is the same file content either way.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import glob
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project.serving.catalog import (
    MARTS_SCHEMA,
    MartTable,
    catalog_parts,
    check_personal_data,
    check_row_security,
    connect_warehouse,
    read_marts,
    zh_view_columns,
)
from dagster_project.serving.changes import (
    MODE_MONTHS,
    MODE_WHOLE,
    Changes,
    catalog_digest,
    partition_filter,
    whole_reason,
)
from dagster_project.settings import DEFAULT_DUCKDB_MEMORY_LIMIT

SERVING_FILE_NAME = "zengshou_serving.duckdb"
ZH_SCHEMA = "marts_zh"


@dataclass(frozen=True)
class ServingFilePublish:
    path: Path
    tables: dict[str, int]          # mart -> rows
    bytes: int
    seconds: float
    withheld: tuple[str, ...] = ()  # restricted person lists left out of the file (county_roles_only)
    mode: str = MODE_WHOLE          # months: only the changed months' rows replaced; whole: every row
    months: tuple[dt.date, ...] | None = None     # the months replaced (mode months)
    reason: str = ""                # why whole, or which build the months come from
    rows_written: dict[str, int] = field(default_factory=dict)   # mart -> rows inserted
    rows_deleted: dict[str, int] = field(default_factory=dict)   # mart -> rows deleted (mode months)
    catalog: str = ""               # serving/changes.catalog_digest of the published tables
    copy: str | None = None         # mode months: how the previous file was copied (reflink | copy)

    @property
    def mark(self) -> str | None:
        return file_mark(self.path)


def file_mark(path: Path) -> str | None:
    """What identifies the file a publish left (inode, size, mtime): another file in its place, or the
    same file written by something else, no longer matches, and the next publish is whole."""
    try:
        st = path.stat()
    except OSError:
        return None
    return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


FICLONE = 0x40049409  # linux/fs.h _IOW(0x94, 9, int): share the source's blocks (btrfs, XFS, …)


def copy_file(source: Path, dest: Path) -> str:
    """Copy ``source`` to a new ``dest``: a reflink (no data copied) where the filesystem can, else a
    plain copy (O(file size) of sequential I/O). Returns "reflink" or "copy"."""
    with open(source, "rb") as src, open(dest, "xb") as dst:
        try:
            fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
            return "reflink"
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.ENOTTY, errno.EXDEV, errno.EINVAL, errno.ENOSYS,
                                 errno.EPERM, errno.EBADF):
                raise
    shutil.copyfile(source, dest)   # sendfile(2) on Linux: kernel-side, sequential
    return "copy"


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


def _create_all(con: duckdb.DuckDBPyConnection, warehouse_db: str, tables: list[MartTable]) -> dict[str, int]:
    """A whole publish into the attached, empty file (the current database): every table, view, comment."""
    written = {}
    con.execute(f"CREATE SCHEMA {MARTS_SCHEMA}; CREATE SCHEMA {ZH_SCHEMA}")
    for t in tables:
        con.execute(f"CREATE TABLE {MARTS_SCHEMA}.{_q(t.name)} AS "
                    f"SELECT * FROM {_q(warehouse_db)}.{MARTS_SCHEMA}.{_q(t.name)}")
        written[t.name] = t.rows
        con.execute(_zh_view_sql(t))
        if t.description:
            con.execute(f"COMMENT ON TABLE {MARTS_SCHEMA}.{_q(t.name)} IS {_lit(t.description)}")
            con.execute(f"COMMENT ON VIEW {ZH_SCHEMA}.{_q(t.name)} IS {_lit(t.description)}")
        for c in t.columns:
            if c.description:
                note = _lit(c.description)
                con.execute(f"COMMENT ON COLUMN {MARTS_SCHEMA}.{_q(t.name)}.{_q(c.name)} IS {note}")
                con.execute(f"COMMENT ON COLUMN {ZH_SCHEMA}.{_q(t.name)}.{_q(c.label_zh)} IS {note}")
    return written


def _layout_differs(con: duckdb.DuckDBPyConnection, tables: list[MartTable]) -> str | None:
    """Why the copied file cannot take only the changed rows (its tables, columns, types or views are
    not those of ``tables``), or None. The catalog digest already says so; this looks at the file."""
    have = con.execute("SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE database_name ="
                       f" 'serving_next' AND schema_name = '{MARTS_SCHEMA}' ORDER BY table_name, column_index"
                       ).fetchall()
    want = [(t.name, c.name, c.duckdb_type) for t in sorted(tables, key=lambda t: t.name) for c in t.columns]
    if sorted(have) != sorted(want):
        return "the serving file's tables, columns or types differ from the marts"
    order = {}
    for table, column, _ in have:
        order.setdefault(table, []).append(column)
    if any(order.get(t.name) != [c.name for c in t.columns] for t in tables):
        return "the serving file's columns are in another order than the marts'"
    views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE database_name = 'serving_next'"
                                       f" AND schema_name = '{ZH_SCHEMA}'").fetchall()}
    if views != {t.name for t in tables}:
        return f"the serving file's {ZH_SCHEMA} views differ from the marts"
    return None


def _replace_months(con: duckdb.DuckDBPyConnection, warehouse_db: str, tables: list[MartTable],
                    months: tuple[dt.date, ...]) -> tuple[dict[str, int], dict[str, int]]:
    """In the attached copy (the current database): the rows of ``months`` of each partitioned mart
    deleted and inserted again from the warehouse, the marts without months replaced whole. Tables,
    views and comments stay as the last publish made them (the catalog is unchanged)."""
    written, deleted = {}, {}
    for t in tables:
        where = partition_filter(t.partition, months) if t.partition else "true"
        if where is None:   # a month mart, and no month changed
            written[t.name] = deleted[t.name] = 0
            continue
        cols = ", ".join(_q(c.name) for c in t.columns)
        deleted[t.name] = int(con.execute(f"DELETE FROM {MARTS_SCHEMA}.{_q(t.name)} WHERE {where}").fetchone()[0])
        written[t.name] = int(con.execute(
            f"INSERT INTO {MARTS_SCHEMA}.{_q(t.name)} ({cols}) SELECT {cols} "
            f"FROM {_q(warehouse_db)}.{MARTS_SCHEMA}.{_q(t.name)} WHERE {where}").fetchone()[0])
    return written, deleted


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:     # another user's process
        return True
    return True


def remove_leftovers(target: Path) -> list[Path]:
    """Remove what publishes killed mid-way left beside ``target`` — the file being built (as large as
    the serving file) and its WAL — when the process that made it is gone. Returns what was removed."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(\d+)\.[0-9a-f]{{8}}\.tmp(?:\.wal)?")
    removed = []
    for path in target.parent.glob(f".{glob.escape(target.name)}.*"):
        if (m := pattern.fullmatch(path.name)) and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def publish_serving_file(warehouse: Path, target: Path | None = None, changes: Changes | None = None,
                         memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT) -> ServingFilePublish:
    """Copy the marts of ``warehouse`` into the serving file and swap it in atomically: only the months
    of ``changes`` when that is exact (module docstring), else every mart whole (``changes`` None: whole)."""
    started = time.monotonic()
    target = target or serving_file_path(warehouse)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    remove_leftovers(target)
    con = connect_warehouse(warehouse, memory_limit=memory_limit)
    copied = None
    deleted: dict[str, int] = {}
    try:
        marts = read_marts(con)
        check_personal_data(con, marts)
        check_row_security(marts)
        tables = [t for t in marts if not t.restricted]
        withheld = tuple(t.name for t in marts if t.restricted)
        catalog = catalog_digest(catalog_parts(tables))
        reason = whole_reason(changes, catalog, file_mark(target))
        if reason is None:
            try:
                copied = copy_file(target, tmp)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                reason = f"the serving file could not be copied ({exc})"
        con.execute(f"ATTACH {_lit(str(tmp))} AS serving_next (READ_WRITE)")
        try:
            # Work inside the new file, so the views it stores name its own schemas, not the warehouse's.
            warehouse_db = con.execute("SELECT current_database()").fetchone()[0]
            if reason is None and (reason := _layout_differs(con, tables)) is not None:
                con.execute("DETACH serving_next")      # start again from an empty file
                tmp.unlink()
                copied = None
                con.execute(f"ATTACH {_lit(str(tmp))} AS serving_next (READ_WRITE)")
            con.execute("USE serving_next")
            if reason is None:
                assert changes is not None and changes.months is not None
                written, deleted = _replace_months(con, warehouse_db, tables, changes.months)
            else:
                written = _create_all(con, warehouse_db, tables)
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
    months = None if reason is not None or changes is None else changes.months
    return ServingFilePublish(target, {t.name: t.rows for t in tables}, target.stat().st_size,
                              time.monotonic() - started, withheld,
                              mode=MODE_WHOLE if months is None else MODE_MONTHS, months=months,
                              reason=reason if reason is not None else changes.reason if changes else "",
                              rows_written=written, rows_deleted=deleted, catalog=catalog, copy=copied)
