"""Shared fixtures: a real PostgreSQL database for the tests that need one."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests import pg


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a throw-away database on the local PostgreSQL 15 cluster, dropped after the session.

    Skips only when PostgreSQL is not installed and CI is not set: in CI a missing server is a broken
    build, not a reason to quietly test less. The cluster is left running afterwards: another test
    session on the same machine may be using it (stopping it there broke concurrent sessions).
    """
    if not pg.binaries_present():
        reason = f"PostgreSQL {pg.PG_VERSION} binaries not found under {pg.PG_BIN} (apt-get install postgresql-15)"
        if _in_ci():
            pytest.fail(f"CI is set but {reason}")
        pytest.skip(reason)
    cluster = pg.ensure_cluster()
    with pg.throwaway_database(cluster.port) as url:
        yield url
