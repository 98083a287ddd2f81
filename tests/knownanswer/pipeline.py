"""Running `zengshou run` as a user would, and reading the warehouse back read-only."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
ZENGSHOU = BIN_DIR / "zengshou"
TEST_SALT = "knownanswer-test-salt-7f3a9c"
RUN_TIMEOUT_S = 900


@dataclass
class Scenario:
    """One landing dir + warehouse pair and the environment that points `zengshou` at them.

    ``keep_runs``: the runs go to a Dagster instance in ``<root>/dagster_home`` (DAGSTER_HOME, as `make
    demo` and `make dev` set it) — for the tests that read the instance afterwards or whose point is how
    a run recovers on one (recovery, the daemon, the HR checks). Otherwise `zengshou run` uses an
    in-memory instance (runner._instance): the warehouse, the summary and the exit code are the same,
    and storing the ≈ 1,000 events of a run in SQLite (a connection and a commit each) made a known-answer
    run take 243–263 s instead of 179–180 s on the loaded test machine (2 + 2 runs, 2026-12-02).
    """

    root: Path
    landing_dir: Path
    warehouse: Path
    hr_db_url: str
    extra_env: dict[str, str]
    keep_runs: bool = False

    def warehouse_copy(self, root: Path) -> tuple[Path, dict[str, str]]:
        """A copy of the warehouse file at ``root``/wh (a built one is only read) and this scenario's
        environment naming it: for a test that builds or breaks things on it at the dbt level."""
        warehouse = root / "wh" / "zengshou.duckdb"
        warehouse.parent.mkdir()
        shutil.copy(self.warehouse, warehouse)
        return warehouse, self.env(ZENGSHOU_WAREHOUSE=str(warehouse))

    def env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENGSHOU_", "DAGSTER_"))}
        if self.keep_runs:
            dagster_home = self.root / "dagster_home"
            dagster_home.mkdir(parents=True, exist_ok=True)
            env["DAGSTER_HOME"] = str(dagster_home)
        env.update({
            "PATH": f"{BIN_DIR}{os.pathsep}{env.get('PATH', '')}",
            "ZENGSHOU_LANDING_DIR": str(self.landing_dir),
            "ZENGSHOU_WAREHOUSE": str(self.warehouse),
            "ZENGSHOU_HR_DB_URL": self.hr_db_url,
            "ZENGSHOU_PII_SALT": TEST_SALT,
            # The files were written just before the run, completely: no settling wait (tests of a file
            # still being copied set it back up).
            "ZENGSHOU_LANDING_SETTLE_SECONDS": "0",
        })
        env.update(self.extra_env)
        env.update(overrides)
        return env


@dataclass
class RunResult:
    returncode: int
    stdout: str
    stderr: str
    locked_after_exit_s: float = 0.0  # how long the warehouse stayed locked after the CLI exited

    def tail(self, n: int = 40) -> str:
        lines = (self.stdout + "\n" + self.stderr).splitlines()
        return "\n".join(lines[-n:])

    def lines(self) -> list[str]:
        return [ln for ln in (self.stdout + "\n" + self.stderr).splitlines() if ln.strip()]


def require_cli() -> None:
    if not ZENGSHOU.exists():
        pytest.fail(f"console script {ZENGSHOU} does not exist (pyproject: zengshou = dagster_project.cli:main)")


def run_cli(args: list[str], env: Mapping[str, str], timeout: int = RUN_TIMEOUT_S) -> RunResult:
    require_cli()
    proc = subprocess.run([str(ZENGSHOU), *args], env=dict(env), cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=timeout, check=False)
    return RunResult(proc.returncode, proc.stdout, proc.stderr)


def _locked(warehouse: Path) -> bool:
    import duckdb

    try:
        duckdb.connect(str(warehouse), read_only=True).close()
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            return True
        raise
    return False


def run_pipeline(scenario: Scenario, **env_overrides: str) -> RunResult:
    """`zengshou run`; then wait (up to 5 min) until nothing holds the warehouse lock any more, and
    record how long that took: a child process (dbt) outliving the CLI is a defect of its own."""
    res = run_cli(["run"], scenario.env(**env_overrides))
    start = time.monotonic()
    while scenario.warehouse.exists() and _locked(scenario.warehouse):
        if time.monotonic() - start > 300:
            break
        time.sleep(1)
    res.locked_after_exit_s = round(time.monotonic() - start, 1) if scenario.warehouse.exists() else 0.0
    return res


# ---------------------------------------------------------------------------------------------------
# Reading the warehouse
# ---------------------------------------------------------------------------------------------------
def _plain(v: object) -> object:
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def query(warehouse: Path, sql: str, params: list | None = None) -> list[dict]:
    """Rows as dicts (DATE -> ISO string, DECIMAL -> float), read-only connection closed at once."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cur = con.execute(sql, params or [])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, map(_plain, row), strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def scalar(warehouse: Path, sql: str, params: list | None = None) -> object:
    rows = query(warehouse, sql, params)
    return next(iter(rows[0].values())) if rows else None


def table_exists(warehouse: Path, schema: str, table: str) -> bool:
    return bool(scalar(warehouse, "select count(*) from information_schema.tables "
                                  "where table_schema = ? and table_name = ?", [schema, table]))


SCORECARD_COLS = ("as_of_month", "year", "region_level", "region_code", "region_name", "kpi_code",
                  "actual_value", "numerator", "denominator", "target_value", "comparator", "status")


def scorecard(warehouse: Path) -> dict[tuple[str, str, str], dict]:
    rows = query(warehouse, f"select {', '.join(SCORECARD_COLS)} from marts.kpi_scorecard")
    return {(r["as_of_month"], r["region_code"], r["kpi_code"]): r for r in rows}


def scorecard_rows(warehouse: Path) -> list[tuple]:
    """The whole scorecard as sorted tuples (for before/after comparisons)."""
    rows = query(warehouse, f"select {', '.join(SCORECARD_COLS)} from marts.kpi_scorecard")
    return sorted((tuple(r[c] for c in SCORECARD_COLS) for r in rows), key=repr)


def load_batches(warehouse: Path) -> list[dict]:
    return query(warehouse, "select * from meta.load_batches")


def rejected_rows(warehouse: Path) -> list[dict]:
    rows = query(warehouse, "select * from quarantine.rejected_rows")
    for r in rows:
        ov = r.get("original_values")
        r["original"] = json.loads(ov) if isinstance(ov, str) else ov
    return rows


def close(a: object, b: object, rel: float = 1e-6, abs_: float = 1e-6) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= max(abs_, rel * abs(float(b)))
