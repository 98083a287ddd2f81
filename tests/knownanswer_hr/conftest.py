"""Session fixtures: the HR scenario is built by hand and `zengshou run` runs once; the tolerance setting's
mart is rebuilt on a copy (hr_run_tolerant)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from tests.knownanswer.landing import Landing
from tests.knownanswer.pipeline import REPO_ROOT, RUN_TIMEOUT_S, RunResult, Scenario, run_pipeline
from tests.once import built_once

from . import scenario as sc


@dataclass
class Published:
    scenario: Scenario
    run: RunResult

    @property
    def warehouse(self) -> Path:
        return self.scenario.warehouse

    def require_ok(self) -> None:
        if self.run.returncode != 0:
            pytest.fail(f"`zengshou run` exited {self.run.returncode}, expected 0:\n{self.run.tail()}")


def _scenario(root: Path, extra_env: dict[str, str]) -> Scenario:
    landing = Landing(root / "landing")
    warehouse = root / "warehouse" / "zengshou.duckdb"
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    return Scenario(root, landing.root, warehouse, landing.hr_db_url, dict(extra_env), keep_runs=True)


def _run(tmp_path_factory: pytest.TempPathFactory, name: str, **extra_env: str) -> Published:
    """Build the scenario and `zengshou run` once per test session, shared by every file of this package
    and by the xdist workers (tests/once.py)."""

    def build(root: Path) -> dict:
        sc.build(Landing(root / "landing"))
        return asdict(run_pipeline(_scenario(root, extra_env)))

    root, run = built_once(tmp_path_factory, name, build)
    return Published(_scenario(root, extra_env), RunResult(**run))


@pytest.fixture(scope="session")
def hr_run(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """The scenario with the default reconciliation tolerance (0.05, env unset)."""
    return _run(tmp_path_factory, "hr_default")


@pytest.fixture(scope="session")
def hr_run_tolerant(hr_run: Published, tmp_path_factory: pytest.TempPathFactory) -> Published:
    """The same scenario with ZENGSHOU_RECONCILIATION_TOLERANCE=1.0 (every mismatch rate is within it).

    Only marts.fct_system_reconciliation reads the setting (dbt, when it builds the table; its GE suite
    checks the rows): so this is a copy of ``hr_run``'s warehouse on which that mart and its checks are
    rebuilt with the setting (tests/knownanswer_hr/rebuild.py, a transform_marts run of that one asset),
    not a second `zengshou run` of the whole scenario. The check's result is on this copy's own Dagster
    instance, where the tests read it."""
    hr_run.require_ok()
    extra_env = {"ZENGSHOU_RECONCILIATION_TOLERANCE": "1.0"}

    def build(root: Path) -> dict:
        scenario = _scenario(root, extra_env)
        shutil.copytree(hr_run.scenario.landing_dir, scenario.landing_dir, dirs_exist_ok=True)
        shutil.copytree(hr_run.warehouse.parent, scenario.warehouse.parent, dirs_exist_ok=True)
        proc = subprocess.run([sys.executable, "-m", "tests.knownanswer_hr.rebuild",
                               "marts/fct_system_reconciliation"], env=scenario.env(), cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)
        return asdict(RunResult(proc.returncode, proc.stdout, proc.stderr))

    root, run = built_once(tmp_path_factory, "hr_tolerant", build)
    return Published(_scenario(root, extra_env), RunResult(**run))
