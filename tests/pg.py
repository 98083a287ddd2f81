"""A real, throw-away PostgreSQL database on the machine's local cluster, for tests.

Why not a mock or a container: SPEC §3.2 says production reads PostgreSQL, and the loader's risky
parts (server-side cursors, timestamp comparison, NUMERIC round trips, connection errors) only show
on the real server. The image ships PostgreSQL 15 (cluster ``main``, stopped), so tests start it,
create a database and a password role for it (TCP + scram, the way a real client connects), and
drop both afterwards. Administration runs as the ``postgres`` OS user over the local socket (peer
authentication), so no superuser password is needed or stored.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_VERSION = "15"
PG_CLUSTER = "main"
PG_BIN = Path(f"/usr/lib/postgresql/{PG_VERSION}/bin")


class PostgresUnavailable(RuntimeError):
    """PostgreSQL binaries are not installed on this machine."""


@dataclass(frozen=True)
class Cluster:
    port: int
    started_here: bool


def binaries_present() -> bool:
    """True when the server and the Debian cluster tools are installed."""
    return (PG_BIN / "postgres").exists() and shutil.which("pg_ctlcluster") is not None


def _as_postgres(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command as the postgres OS user (root uses runuser; postgres runs it directly)."""
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *args]
    elif os.environ.get("USER") == "postgres" or os.getuid() == _postgres_uid():
        cmd = args
    else:
        cmd = ["sudo", "-n", "-u", "postgres", *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=True, timeout=60)


def _postgres_uid() -> int:
    import pwd

    try:
        return pwd.getpwnam("postgres").pw_uid
    except KeyError:
        return -1


def _cluster_line() -> list[str] | None:
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if fields[:2] == [PG_VERSION, PG_CLUSTER]:
            return fields
    return None


def ensure_cluster() -> Cluster:
    """Start cluster 15/main (creating it if missing) and wait until it accepts connections.

    Under a machine-wide lock: the test workers (pytest -n 2) and other sessions on the machine start
    their sessions at the same moment, and a second `pg_ctlcluster start` fails while the first runs.
    """
    if not binaries_present():
        raise PostgresUnavailable(f"PostgreSQL {PG_VERSION} binaries not found under {PG_BIN}")
    with open(Path(tempfile.gettempdir()) / "zengshou-tests-pg.lock", "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            return _start_cluster()
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _start_cluster() -> Cluster:
    fields = _cluster_line()
    if fields is None:
        subprocess.run(["pg_createcluster", PG_VERSION, PG_CLUSTER], capture_output=True, text=True,
                       check=True, timeout=120)
        fields = _cluster_line()
        assert fields is not None, "pg_createcluster did not create the cluster"
    started = False
    if fields[3] != "online":
        subprocess.run(["pg_ctlcluster", PG_VERSION, PG_CLUSTER, "start"], capture_output=True, text=True,
                       check=True, timeout=120)
        started = True
    port = int(fields[2])
    deadline = time.monotonic() + 30
    while True:
        ready = subprocess.run([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                               capture_output=True, text=True)
        if ready.returncode == 0:
            return Cluster(port=port, started_here=started)
        if time.monotonic() > deadline:
            raise RuntimeError(f"PostgreSQL {PG_VERSION}/{PG_CLUSTER} did not accept connections: {ready.stdout}")
        time.sleep(0.2)


def stop_cluster() -> None:
    subprocess.run(["pg_ctlcluster", PG_VERSION, PG_CLUSTER, "stop"], capture_output=True, text=True,
                   check=False, timeout=120)


def psql(sql: str, port: int, database: str = "postgres") -> str:
    """Run SQL as the postgres superuser over the local socket (peer authentication)."""
    result = _as_postgres(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-p", str(port), "-d", database,
                           "-tA", "-f", "-"], stdin=sql)
    return result.stdout


@contextmanager
def throwaway_database(port: int) -> Iterator[str]:
    """Create a role with a random password and a database it owns; yield its SQLAlchemy URL."""
    name = f"zs_test_{secrets.token_hex(4)}"
    password = secrets.token_hex(16)
    psql(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'; CREATE DATABASE {name} OWNER {name};", port)
    try:
        yield f"postgresql+psycopg2://{name}:{password}@127.0.0.1:{port}/{name}"
    finally:
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE); DROP ROLE IF EXISTS {name};", port)
