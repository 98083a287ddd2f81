"""The Dagster code location, read in process and compared with a committed snapshot
(tests/snapshots/definitions.json): every asset key with its group, partitioning, automation condition
and upstream keys; every asset check (and whether it blocks); every job with the assets it selects;
every schedule and sensor.

Why a snapshot: what the UI shows (the asset groups, the checks, the jobs a data engineer launches) is
decided by ``definitions.py`` alone, so loading it in process proves the same as starting the webserver
and asking its GraphQL API, in seconds instead of minutes. A change to the definitions is then a
reviewed diff of one JSON file. After an intended change, regenerate it with

    .venv/bin/pytest -p no:xdist tests/test_definitions.py --snapshot-update

(the option is registered in tests/conftest.py) and commit tests/snapshots/definitions.json.

A few known facts are asserted by hand too (they held before the snapshot existed: the groups of the
raw tables, the blocking checks of the monitoring loads), so regenerating the snapshot cannot quietly
accept their loss.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import dagster as dg
import pytest

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"
REGENERATE = ".venv/bin/pytest -p no:xdist tests/test_definitions.py --snapshot-update"


def load_definitions() -> dg.Definitions:
    """The code location as Dagster loads it: ``definitions.defs`` is lazy (``@dg.definitions``), so
    calling it reads the settings of this process once and builds the Definitions."""
    from dagster_project.definitions import defs

    return defs()


def _key(key: dg.AssetKey) -> str:
    return key.to_user_string()


def _check(key: dg.AssetCheckKey) -> str:
    return f"{_key(key.asset_key)}:{key.name}"


def _partitions(partitions_def: object) -> str | None:
    if partitions_def is None:
        return None
    if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        return f"{type(partitions_def).__name__}(cron={partitions_def.cron_schedule!r}, start=" \
               f"{partitions_def.start.date().isoformat()!r}, fmt={partitions_def.fmt!r})"
    return type(partitions_def).__name__


def describe(defs: dg.Definitions) -> dict:
    """What the UI shows of the code location, as plain sorted JSON (no object ids, no paths)."""
    graph = defs.resolve_asset_graph()
    repo = defs.get_repository_def()
    assets = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        condition = node.automation_condition
        assets[_key(key)] = {
            "group": node.group_name,
            "kind": "materializable" if node.is_materializable else
                    "observable" if node.is_observable else "external",
            "partitions": _partitions(node.partitions_def),
            "automation_condition": None if condition is None else (condition.get_label() or str(condition)),
            "upstream": sorted(_key(k) for k in node.parent_keys),
        }
    checks = {}
    for check_key in graph.asset_check_keys:
        check_node = graph.get(check_key)
        checks[_check(check_key)] = {"blocking": bool(check_node.blocking)}
    jobs = {}
    for job in repo.get_all_jobs():
        if job.name.startswith("__"):  # Dagster's implicit job of every asset: the "assets" list already
            continue
        layer = job.asset_layer
        jobs[job.name] = {
            "assets": sorted(_key(k) for k in layer.selected_asset_keys),
            "checks": len({c for d in layer.data for c in d.assets_def.check_keys}),
            "partitions": _partitions(job.partitions_def),
        }
    schedules = {
        s.name: {"cron": s.cron_schedule, "job": s.job_name, "timezone": s.execution_timezone,
                 "default_status": s.default_status.value}
        for s in repo.schedule_defs
    }
    sensors = {}
    for s in repo.sensor_defs:
        sensors[s.name] = {
            "type": type(s).__name__,
            "jobs": sorted(t.job_name for t in s.targets if t.job_name),
            "minimum_interval_seconds": s.minimum_interval_seconds,
            "default_status": s.default_status.value,
        }
    return {"assets": dict(sorted(assets.items())), "asset_checks": dict(sorted(checks.items())),
            "jobs": dict(sorted(jobs.items())), "schedules": dict(sorted(schedules.items())),
            "sensors": dict(sorted(sensors.items()))}


def _dump(snapshot: dict) -> str:
    return json.dumps(snapshot, ensure_ascii=False, indent=1, sort_keys=False) + "\n"


@pytest.fixture(scope="module")
def current() -> dict:
    return describe(load_definitions())


def test_definitions_match_the_snapshot(current: dict, request: pytest.FixtureRequest) -> None:
    text = _dump(current)
    if request.config.getoption("snapshot_update"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(text, encoding="utf-8")
        return
    assert SNAPSHOT.exists(), f"no snapshot at {SNAPSHOT}; create it with:\n    {REGENERATE}"
    expected = SNAPSHOT.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(keepends=True), text.splitlines(keepends=True),
                                            "tests/snapshots/definitions.json (committed)", "definitions.py (now)"))
        pytest.fail(f"the Dagster definitions changed:\n{diff}\nIf the change is intended, regenerate the "
                    f"snapshot and commit it:\n    {REGENERATE}", pytrace=False)


# Known facts, by hand (from the webserver test these replace, tests/test_dagster_ui.py).
def test_every_asset_is_in_its_group(current: dict) -> None:
    groups = {k: a["group"] for k, a in current["assets"].items()}
    for table in ("monitoring_members", "monitoring_households"):
        assert groups[f"raw/{table}"] == "monitoring"
    assert groups["raw/relief_projects"] == "relief_ledger"
    assert {k for k, g in groups.items() if g == "hr_platform"} == {
        f"raw/hr_{t}" for t in ("jobseeker", "employment_service", "training_record", "skill_certificate",
                                "public_welfare_post", "subsidy_payment", "labor_brand_member", "rural_talent")}
    for mart in ("kpi_scorecard", "dim_region", "fct_employment_duration", "fct_income_growth",
                 "fct_relief_wage_ratio"):
        assert groups[f"marts/{mart}"] == "marts"
    assert any(g == "staging" for g in groups.values()) and any(g == "intermediate" for g in groups.values())


def test_monitoring_assets_are_partitioned_with_blocking_checks(current: dict) -> None:
    members = current["assets"]["raw/monitoring_members"]
    assert members["partitions"] is not None
    checks = current["asset_checks"]
    assert checks["raw/monitoring_members:batch_accepted"]["blocking"] is True
    assert checks["raw/monitoring_members:unusual_values"]["blocking"] is False
    scorecard_checks = {k for k in checks if k.startswith("marts/kpi_scorecard:")}
    assert "marts/kpi_scorecard:ge_suite" in scorecard_checks and len(scorecard_checks) > 1  # plus the dbt tests
