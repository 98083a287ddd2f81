"""Shared fixtures: a real PostgreSQL database for the tests that need one."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import pg

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
    """`zengshou simulate --scale demo` then `zengshou run`, once per test session (≈2–3 minutes): the
    end-to-end tests and the report's real-warehouse test share it."""
    root = tmp_path_factory.mktemp("demo_pipeline")
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENGSHOU_", "DAGSTER_"))}
    env.update(ZENGSHOU_LANDING_DIR=str(root / "landing"), ZENGSHOU_WAREHOUSE=str(root / "wh" / "zengshou.duckdb"),
               ZENGSHOU_PII_SALT="e2e-test-salt", DAGSTER_HOME=str(root / "dagster_home"),
               ZENGSHOU_LANDING_SETTLE_SECONDS="0",
               PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    (root / "dagster_home").mkdir()
    sim = subprocess.run([str(bin_dir / "zengshou"), "simulate", "--scale", "demo", "--out", str(root / "landing")],
                         env=env, capture_output=True, text=True, timeout=900)
    assert sim.returncode == 0, sim.stderr[-3000:]
    first = subprocess.run([str(bin_dir / "zengshou"), "run"], env=env, capture_output=True, text=True, timeout=1800)
    return {"root": root, "env": env, "first": first, "warehouse": root / "wh" / "zengshou.duckdb"}


# Parallel test workers (`pytest -n 2`, Makefile `test`): tests that share an expensive fixture must run
# on one worker, or each worker would build it again. Every test belongs to a group: the shared-fixture
# groups below, else its own module (so module-scoped fixtures are built once too). xdist's own
# `--dist loadgroup` cannot do this under pytest 9 (it renames item._nodeid, which pytest 9 no longer
# reads), so the scheduler below groups by these paths directly.
SHARED_FIXTURE_GROUPS = {
    "tests/knownanswer/test_facts.py": "knownanswer",  # main_run / mixed_run (session fixtures)
    "tests/knownanswer/test_privacy_and_formats.py": "knownanswer",
    "tests/knownanswer/test_scorecard.py": "knownanswer",
    "tests/knownanswer_hr/": "knownanswer_hr",  # the HR known-answer runs
    "tests/serving/": "serving",                # the serving warehouse (session fixture)
    "tests/test_demo_end_to_end.py": "demo_pipeline",
    "tests/test_report.py": "demo_pipeline",
}
# The longest groups start first (measured in CI, longest first), so the two workers finish together
# instead of one of them starting a 6-minute group at the end.
LONGEST_FIRST = ("tests/test_dagster_daemon.py", "tests/test_bench_smoke.py", "knownanswer",
                 "tests/knownanswer/test_landing_faults.py", "tests/knownanswer/test_lifecycle.py",
                 "tests/knownanswer/test_recovery.py", "tests/knownanswer/test_cli_errors.py", "demo_pipeline",
                 "knownanswer_hr", "tests/knownanswer/test_bad_rows.py", "tests/knownanswer/test_damaged_exports.py",
                 "tests/knownanswer/test_member_without_household.py", "serving")


def test_group(nodeid: str) -> str:
    module = nodeid.split("::", 1)[0]
    return next((g for prefix, g in SHARED_FIXTURE_GROUPS.items() if module.startswith(prefix)), module)


test_group.__test__ = False  # a helper, not a test


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {g: i for i, g in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda it: rank.get(test_group(it.nodeid), len(rank)))  # stable: module order kept


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: harmless when it is not loaded
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        """Whole groups (``test_group``) go to one worker, in collection order."""

        def _split_scope(self, nodeid: str) -> str:
            return test_group(nodeid)

    config.option.loadscopereorder = False  # keep LONGEST_FIRST (xdist would order by test count)
    return GroupScheduling(config, log)
