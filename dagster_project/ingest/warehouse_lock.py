"""One writer at a time per warehouse, across every process that runs zengshou code.

DuckDB lets one process open a file read-write, and a second process that tries fails at once
("Could not set lock on file … Conflicting lock is held"). Runs can start from several places — a
`zengshou run` in a shell or cron, runs the Dagster daemon launches, the sensors peeking at ``meta`` —
so without coordination the loser of that race fails with an error that reads like a data problem.

This module puts an advisory ``flock`` on ``<warehouse>.lock`` around every use of the warehouse:
writers take it exclusively (and *wait* for it, so a step queued behind a sensor's 20 ms read or
behind another run simply starts later), readers that must not disturb a run (the sensors) take it
shared and without waiting. The lock is re-entrant inside a process: `zengshou run` holds it for the
whole run while its steps take it again. The holder writes who it is into the file, so a process that
gives up can say in one line who holds the warehouse.

DuckDB's own lock still guards against programs outside zengshou (a DuckDB CLI or BI tool opened on
the warehouse itself): :func:`duckdb_lock_holder` turns that error into the same kind of one line.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

_POLL_SECONDS = 0.25


class WarehouseBusy(RuntimeError):
    """The warehouse is held by another writer; the message is the one line to show.

    ``cause`` is the part after the file name ("the warehouse file is held open by process N (...)…"),
    for a caller that words its own first half (the report says "cannot open … read-only")."""

    def __init__(self, message: str, cause: str = "") -> None:
        super().__init__(message)
        self.cause = cause or message


@dataclass
class _Held:
    fd: int
    exclusive: bool
    depth: int


_held: dict[str, _Held] = {}
_guard = threading.RLock()


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def holder(warehouse: Path) -> str:
    """Who holds (or last held) the warehouse lock, as written by the holder: 'pid N, what, since T'."""
    try:
        text = lock_path(warehouse).read_text(encoding="utf-8").strip()
    except OSError:
        return ""
    return text or ""


def busy_message(warehouse: Path, waited: float | None = None) -> str:
    who = holder(warehouse)
    after = f" after waiting {waited:.0f} s" if waited else ""
    return (f"warehouse {warehouse} is in use by another zengshou run ({who or 'holder unknown'}){after}: "
            f"wait for it to finish, then start again")


def _try_lock(fd: int, exclusive: bool) -> bool:
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


@contextlib.contextmanager
def warehouse_lock(warehouse: Path, *, exclusive: bool = True, timeout: float | None = 0.0,
                   purpose: str = "zengshou") -> Iterator[None]:
    """Hold the warehouse lock. ``timeout`` 0 = do not wait, None = wait for ever, else seconds to wait;
    raises WarehouseBusy when it cannot be had in time. Re-entrant within the process."""
    key = str(warehouse.resolve())
    with _guard:
        held = _held.get(key)
        if held is not None and (held.exclusive or not exclusive):
            held.depth += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _guard:
                held.depth -= 1
        return

    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = held.fd if held is not None else os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    started = time.monotonic()
    while not _try_lock(fd, exclusive):
        waited = time.monotonic() - started
        if timeout is not None and waited >= timeout:
            if held is None:
                os.close(fd)
            raise WarehouseBusy(busy_message(warehouse, waited if timeout else None))
        time.sleep(_POLL_SECONDS)
    if exclusive:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, {purpose}, since {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode(), 0)
    upgraded_from = held
    with _guard:
        _held[key] = _Held(fd, exclusive, 1)
    try:
        yield
    finally:
        with _guard:
            if upgraded_from is not None:  # back to the shared lock the caller held before
                fcntl.flock(fd, fcntl.LOCK_SH)
                _held[key] = upgraded_from
            else:
                del _held[key]
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)


# DuckDB's own lock is held by a program outside zengshou (a DuckDB CLI, a BI tool on the warehouse):
# wait this long (or the lock timeout, ZENGSHOU_WAREHOUSE_LOCK_TIMEOUT, when shorter) for it to let go
# before giving up with a one-line reason.
FOREIGN_LOCK_WAIT_SECONDS = 30.0

_DUCKDB_PID = re.compile(r"\(PID (\d+)\)")


def duckdb_lock_holder(error: BaseException) -> str | None:
    """For DuckDB's 'Conflicting lock is held in <program> (PID n)' error: a one-line cause, else None."""
    text = str(error)
    if "lock" not in text.lower():
        return None
    pid = _DUCKDB_PID.search(text)
    program = ""
    if pid:
        with contextlib.suppress(OSError):
            raw = Path(f"/proc/{pid.group(1)}/cmdline").read_bytes().replace(b"\0", b" ")
            program = " ".join(raw.decode(errors="replace").split())[:120]  # one line, whatever argv held
    who = f"process {pid.group(1)}" + (f" ({program})" if program else "") if pid else "another process"
    return (f"the warehouse file is held open by {who}: close it (BI tools read the serving file "
            f"zengshou_serving.duckdb, never the warehouse), then start again")


def open_duckdb(path: Path, read_only: bool = False,
                wait: float = FOREIGN_LOCK_WAIT_SECONDS) -> duckdb.DuckDBPyConnection:
    """duckdb.connect, waiting up to ``wait`` s while a program outside zengshou holds the file, then
    WarehouseBusy with who holds it (instead of DuckDB's raw IOException)."""
    deadline = time.monotonic() + wait
    delay = 0.2
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            cause = duckdb_lock_holder(exc)
            if cause is None:
                raise
            if time.monotonic() >= deadline:
                raise WarehouseBusy(f"cannot open warehouse {path}: {cause}", cause) from exc
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def open_read_only(path: Path, memory_limit: str, wait: float = FOREIGN_LOCK_WAIT_SECONDS) -> duckdb.DuckDBPyConnection:
    """The capped read-only connection of the readers that run outside a writer's lock: publishing (the
    serving file is built inside it) and the report.

    The cap is SET after connecting, never passed as connect config: within a process DuckDB shares one
    instance per file and refuses a connect whose config differs from the open one ("different
    configuration"), which is what a test reading the file, or the resource's own connection, had open.
    A read-only connect to a file this process holds read-write is refused the same way; it then shares
    that read-write instance — the process's own, so no lock is taken that another process could meet.
    (Opening read-write on any other refusal took the writer lock of a warehouse other processes were
    reading: CI, 2026-12-02.)"""
    try:
        con = open_duckdb(path, read_only=True, wait=wait)
    except duckdb.ConnectionException as exc:
        if "different configuration" not in str(exc):
            raise
        con = duckdb.connect(str(path))
    try:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    except BaseException:
        con.close()
        raise
    return con
