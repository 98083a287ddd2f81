"""Shared fixtures: a real PostgreSQL database for the tests that need one."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import pg
from tests.hr_source import Source, build_source
from tests.once import built_once

# Tests write landing files and load them at once: no waiting for a file to settle (in-process runs;
# subprocess environments set it themselves). Tests of a file still being copied set it explicitly.
os.environ.setdefault("ZENGSHOU_LANDING_SETTLE_SECONDS", "0")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--snapshot-update", action="store_true", default=False,
                     help="rewrite tests/snapshots/*.json from the code instead of comparing with them "
                          "(tests/test_definitions.py)")


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


@pytest.fixture(scope="session")
def demo_pipeline(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """`zengshou simulate --scale demo` then `zengshou run`, once per test session (≈2–3 minutes), shared by
    the end-to-end tests and the report's real-warehouse test, also across xdist workers (tests/once.py).
    Only read it: tests/test_demo_end_to_end.py runs `zengshou run` again on a copy of its own."""
    bin_dir = Path(sys.executable).parent

    def environment(root: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENGSHOU_", "DAGSTER_"))}
        env.update(ZENGSHOU_LANDING_DIR=str(root / "landing"),
                   ZENGSHOU_WAREHOUSE=str(root / "wh" / "zengshou.duckdb"),
                   ZENGSHOU_PII_SALT="e2e-test-salt", DAGSTER_HOME=str(root / "dagster_home"),
                   ZENGSHOU_LANDING_SETTLE_SECONDS="0",
                   PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
        return env

    def build(root: Path) -> dict:
        env = environment(root)
        (root / "dagster_home").mkdir()
        sim = subprocess.run([str(bin_dir / "zengshou"), "simulate", "--scale", "demo", "--out",
                              str(root / "landing")], env=env, capture_output=True, text=True, timeout=900)
        assert sim.returncode == 0, sim.stderr[-3000:]
        first = subprocess.run([str(bin_dir / "zengshou"), "run"], env=env, capture_output=True, text=True,
                               timeout=1800)
        return {"returncode": first.returncode, "stdout": first.stdout, "stderr": first.stderr}

    root, first = built_once(tmp_path_factory, "demo_pipeline", build)
    return {"root": root, "env": environment(root), "warehouse": root / "wh" / "zengshou.duckdb",
            "first": subprocess.CompletedProcess(["zengshou", "run"], first["returncode"], first["stdout"],
                                                 first["stderr"])}


# Parallel test workers (`make test`: `pytest -n 2 --dist loadfile --no-loadscope-reorder`, public
# pytest-xdist options): every test file goes to one worker as a whole, so its module-scoped fixtures are
# built once; session fixtures shared by several files are built once per session by tests/once.py
# (xdist's recipe), whichever worker asks first. (`--dist loadgroup` with `xdist_group` marks would keep
# such files on one worker, but under pytest 9 it does not group: xdist tags the group onto
# `item._nodeid`, which pytest 9 no longer reads.)
# The files are handed out in collection order (--no-loadscope-reorder), and this hook puts the longest
# first (the order measured in CI before, longest first), so the two workers finish together instead of
# one of them starting a 5-minute file at the end. A worker is handed its next file while it still runs
# the last two tests of the current one, so files alternate between the workers: the files sharing a
# session fixture are spread out (facts, privacy, scorecard; demo e2e, report), so that the second of them
# comes up once the first has built the fixture, not while its other worker waits for it.
LONGEST_FIRST = (
    "tests/test_dagster_daemon.py",
    "tests/test_bench_smoke.py",
    "tests/knownanswer/test_facts.py",  # main_run / mixed_run
    "tests/knownanswer/test_landing_faults.py",
    "tests/knownanswer/test_lifecycle.py",
    "tests/knownanswer/test_privacy_and_formats.py",
    "tests/knownanswer/test_recovery.py",
    "tests/knownanswer/test_scorecard.py",
    "tests/knownanswer/test_cli_errors.py",
    "tests/test_demo_end_to_end.py",  # demo_pipeline
    "tests/test_history_incremental.py",  # its own 15-month history (≈ 2 min CPU in its module fixture)
    "tests/knownanswer_hr/",  # hr_run (+ its copy hr_run_tolerant)
    "tests/test_report.py",
    "tests/knownanswer/test_bad_rows.py",
    "tests/knownanswer/test_damaged_exports.py",
    "tests/knownanswer/test_member_without_household.py",
    "tests/serving/",
)


def _rank(nodeid: str) -> int:
    module = nodeid.split("::", 1)[0]
    return next((i for i, prefix in enumerate(LONGEST_FIRST) if module.startswith(prefix)), len(LONGEST_FIRST))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda it: _rank(it.nodeid))  # stable: the order inside a file is kept


# The HR platform source of tests/test_hr_platform.py and tests/test_hr_arrow.py (tests/hr_source.py): one
# database per test, on SQLite and on the real PostgreSQL.
@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hr_platform.sqlite'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def source(backend_url: str) -> Iterator[Source]:
    src = build_source(backend_url, nullable_updated_at=False)
    yield src
    src.engine.dispose()


@pytest.fixture
def loose_source(backend_url: str) -> Iterator[Source]:
    """A source whose updated_at may be NULL (the schema constraint is not guaranteed in production)."""
    src = build_source(backend_url, nullable_updated_at=True)
    yield src
    src.engine.dispose()
