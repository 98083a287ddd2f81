"""Session fixtures: the HR scenario is built by hand and `zengshou run` runs once per tolerance."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.knownanswer.landing import Landing
from tests.knownanswer.pipeline import RunResult, Scenario, run_pipeline

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


def _run(root: Path, **extra_env: str) -> Published:
    landing = Landing(root / "landing")
    sc.build(landing)
    warehouse = root / "warehouse" / "zengshou.duckdb"
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    scenario = Scenario(root, landing.root, warehouse, landing.hr_db_url, dict(extra_env))
    return Published(scenario, run_pipeline(scenario))


@pytest.fixture(scope="session")
def hr_run(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """The scenario with the default reconciliation tolerance (0.05, env unset)."""
    return _run(tmp_path_factory.mktemp("hr_default"))


@pytest.fixture(scope="session")
def hr_run_tolerant(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """The same scenario with ZENGSHOU_RECONCILIATION_TOLERANCE=1.0 (every mismatch rate is within it)."""
    return _run(tmp_path_factory.mktemp("hr_tolerant"), ZENGSHOU_RECONCILIATION_TOLERANCE="1.0")
