"""The Dagster UI (`dagster dev` / the webserver, via workspace.yaml) shows every asset and check:
start the real webserver on 127.0.0.1, ask its GraphQL API, stop it."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
QUERY = """{ assetNodes { assetKey { path } groupName isPartitioned
             assetChecksOrError { ... on AssetChecks { checks { name blocking } } } } }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def webserver(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("dagster_home")
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "ZENGSHOU_WAREHOUSE": str(home / "w.duckdb"),
           "ZENGSHOU_LANDING_DIR": str(home / "landing")}
    log = (home / "webserver.log").open("w")
    proc = subprocess.Popen([str(Path(sys.executable).with_name("dagster-webserver")), "-w", "workspace.yaml",
                             "-h", "127.0.0.1", "-p", str(port)], cwd=REPO, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                nodes = _graphql(port, QUERY)["data"]["assetNodes"]
                if nodes:
                    break
            except OSError:
                pass
            assert proc.poll() is None, (home / "webserver.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "webserver did not serve the assets within 240 s"
            time.sleep(2)
        yield nodes
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_every_asset_is_served_in_its_group(webserver: list[dict]) -> None:
    groups = {"/".join(n["assetKey"]["path"]): n["groupName"] for n in webserver}
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


def test_monitoring_assets_are_partitioned_with_blocking_checks(webserver: list[dict]) -> None:
    by_key = {"/".join(n["assetKey"]["path"]): n for n in webserver}
    members = by_key["raw/monitoring_members"]
    assert members["isPartitioned"]
    checks = {c["name"]: c["blocking"] for c in members["assetChecksOrError"]["checks"]}
    assert checks["batch_accepted"] is True and checks["unusual_values"] is False
    scorecard_checks = {c["name"] for c in by_key["marts/kpi_scorecard"]["assetChecksOrError"]["checks"]}
    assert "ge_suite" in scorecard_checks and len(scorecard_checks) > 1  # plus the dbt tests
