"""Session fixtures: each scenario's landing dir is built once and `zengshou run` once per scenario."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from tests.once import built_once

from . import scenario as sc
from .landing import FileStyle, Landing
from .pipeline import RunResult, Scenario, run_pipeline


@dataclass
class Published:
    scenario: Scenario
    landing: Landing
    run: RunResult

    @property
    def warehouse(self) -> Path:
        return self.scenario.warehouse

    def require_ok(self) -> None:
        if self.run.returncode != 0:
            pytest.fail(f"`zengshou run` exited {self.run.returncode}, expected 0; output tail:\n"
                        f"{self.run.tail()}")
        if self.run.locked_after_exit_s > 2:
            pytest.fail(f"`zengshou run` exited but the warehouse stayed locked for "
                        f"{self.run.locked_after_exit_s} s (a child process outlived the CLI)")
        if not self.warehouse.exists():
            pytest.fail(f"`zengshou run` exited 0 but wrote no warehouse at {self.warehouse}")


def new_scenario(root: Path, keep_runs: bool = False, **extra_env: str) -> tuple[Scenario, Landing]:
    landing = Landing(root / "landing")
    warehouse = root / "warehouse" / "zengshou.duckdb"
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    return Scenario(root, landing.root, warehouse, landing.hr_db_url, dict(extra_env), keep_runs), landing


def copy_of(template: Path, root: Path, keep_runs: bool = False, warehouse_dir: Path | None = None,
            **extra_env: str) -> tuple[Scenario, Landing]:
    """A scenario at ``root`` in the state of the scenario root ``template`` (a built_once dir, only read):
    its landing dir and warehouse files copied (the warehouse files into ``warehouse_dir`` when given).
    What is "already loaded" is the files' content hashes in meta.load_batches (planning.py), not their
    paths, and the HR watermark is kept per table, not per URL: the copy goes on as the template would
    have. A Dagster home of its own when ``keep_runs``; the partial-parse file dbt keeps per warehouse
    path is not the template's, so the copy's first build parses in full (no test here depends on it)."""
    scenario, landing = new_scenario(root, keep_runs, **extra_env)
    shutil.copytree(template / "landing", landing.root, dirs_exist_ok=True)
    if warehouse_dir is not None:
        scenario.warehouse = warehouse_dir / scenario.warehouse.name
        warehouse_dir.mkdir(exist_ok=True)
    shutil.copytree(template / "warehouse", scenario.warehouse.parent, dirs_exist_ok=True)
    return scenario, landing


def published_once(tmp_path_factory: pytest.TempPathFactory, name: str, styles: sc.Styles | None = None,
                   months: tuple[str, ...] = sc.MONTHS) -> Published:
    """The scenario written in ``styles`` (the snapshots ``months``) and `zengshou run` once per test
    session, shared by the test files (and xdist workers) that read it (tests/once.py)."""

    def build(root: Path) -> dict:
        scenario, landing = new_scenario(root)
        if styles is None:
            sc.build(landing, months=months)
        else:
            sc.build(landing, months=months, styles=styles)
        return asdict(run_pipeline(scenario))

    root, run = built_once(tmp_path_factory, name, build)
    scenario, landing = new_scenario(root)
    return Published(scenario, landing, RunResult(**run))


@pytest.fixture(scope="session")
def main_run(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """The known-answer scenario: every file plain UTF-8 CSV."""
    return published_once(tmp_path_factory, "main")


# The same people and values in every export variation SPEC §3.1 / §3.3 allows.
MIXED_STYLES = sc.Styles(
    members={
        "2022-03": FileStyle(encoding="gb18030", halfwidth_parens=True),
        "2022-12": FileStyle(encoding="utf-8-sig", order="reversed", extra_columns={"备注": "核实无误"}),
        "2023-01": FileStyle(fmt="xlsx"),
        "2023-03": FileStyle(fmt="xlsx", order="rotated", numeric_cells=("务工时间（月）", "年度")),
    },
    households={
        "2022-03": FileStyle(encoding="gb18030"),
        "2022-12": FileStyle(encoding="utf-8-sig", order="rotated", extra_columns={"数据更新时间": "2022-12-31"}),
        "2023-01": FileStyle(fmt="xlsx", numeric_cells=("家庭人口数", "工资性收入（元）")),
        "2023-03": FileStyle(encoding="gb18030", halfwidth_parens=True, order="reversed"),
    },
    relief_06=FileStyle(fmt="xlsx", numeric_cells=("中央资金（万元）", "劳务报酬发放金额（万元）")),
    relief_09=FileStyle(encoding="gb18030"),
)


@pytest.fixture(scope="session")
def mixed_run(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """The same scenario written as GB18030 / UTF-8-BOM / xlsx, reordered, with extra columns."""
    return published_once(tmp_path_factory, "mixed", MIXED_STYLES)


def three_months_once(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """Snapshots 2022-03, 2022-12, 2023-01 and the 2023 ledger, `zengshou run` once per test session: run 1
    of test_lifecycle, the starting state of test_recovery's fault runs (each ran it for itself before) and
    of tests/test_dagster_daemon.py's `dagster dev` (outside this folder, so it calls this function).
    Only read it; a test that goes on from it works on ``copy_of(three_months.scenario.root, …)``."""
    return published_once(tmp_path_factory, "three_months", months=("2022-03", "2022-12", "2023-01"))


@pytest.fixture(scope="session")
def three_months(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """``three_months_once``: see there."""
    return three_months_once(tmp_path_factory)


# test_cli_errors' HR platform: four jobseekers days apart (K1 at T0-30 d … K4 at T0, the watermark run 1
# leaves); test_cli_errors changes them at the source between its runs.
HR_T0 = dt.datetime(2023, 4, 20, 12, 0)
HR_DAY = dt.timedelta(days=1)


def jobseeker(key: str, days_before: int, **over: object) -> dict[str, object]:
    row = {"reg_id": key, "id_number": f"53010219900101{key[1:]:0>4}", "name": "某人", "phone": "13800000000",
           "county_code": "530102", "registered_on": dt.date(2023, 1, 5), "wants_employment": True,
           "updated_at": HR_T0 - days_before * HR_DAY}
    return row | over


def age_all(root: Path, except_: tuple[Path, ...] = ()) -> None:
    """Date every landing file an hour back (a complete copy), except the ones still being written."""
    old = time.time() - 3600
    for path in root.rglob("*"):
        if path.is_file() and path not in except_:
            os.utime(path, (old, old))


SETTLE_600 = {"ZENGSHOU_LANDING_SETTLE_SECONDS": "600"}


@pytest.fixture(scope="session")
def january_with_hr(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """Snapshot 2023-01, the 2023 ledger and the four jobseekers above, every file dated an hour back and
    ZENGSHOU_LANDING_SETTLE_SECONDS=600, `zengshou run` once: run 1 of test_landing_faults and of
    test_cli_errors' HR case, which each ran their own before — the faults without the jobseekers, the HR
    case without the ledger and the settle time (its files were all complete: the same plan). Neither
    file's assertions read the other's part. Only read it; go on from ``copy_of(…)`` (copytree keeps the
    files' dates)."""

    def build(root: Path) -> dict:
        scenario, landing = new_scenario(root, **SETTLE_600)
        sc.build(landing, months=("2023-01",))
        landing.write_hr_db({"jobseeker": [jobseeker(f"K{i}", d) for i, d in ((1, 30), (2, 20), (3, 10), (4, 0))]})
        age_all(landing.root)
        return asdict(run_pipeline(scenario))

    root, run = built_once(tmp_path_factory, "january_with_hr", build)
    scenario, landing = new_scenario(root, **SETTLE_600)
    return Published(scenario, landing, RunResult(**run))
