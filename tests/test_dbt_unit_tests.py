"""dbt's unit tests (the `unit_tests:` blocks beside the models) run here, once per `make test`.

The monthly build skips them (assets/transform.py BUILD_ARGS: they check SQL logic on fixed inputs, so
they give the same answer every month), which makes this module the one place they run. They need their
parent relations to exist with the right columns, so the project is built with ``--empty`` (every model
with zero rows, on empty raw tables) on a scratch warehouse; the data tests are left out (they are about
data, and there is none).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from dagster_project.dbt_manifest import ensure_manifest
from dagster_project.ingest.warehouse import connect, ensure_raw_tables
from dagster_project.settings import DBT_PROJECT_DIR, load_settings
from tests.knownanswer.pipeline import BIN_DIR


def test_every_dbt_unit_test_passes(tmp_path: Path) -> None:
    warehouse = tmp_path / "zengshou.duckdb"
    with connect(warehouse) as con:
        ensure_raw_tables(con)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENGSHOU_")}
    env["ZENGSHOU_WAREHOUSE"] = str(warehouse)
    env.update(load_settings(env).dbt_env())
    target = tmp_path / "target"
    proc = subprocess.run(
        [str(BIN_DIR / "dbt"), "build", "--empty", "--exclude-resource-type", "test",
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(target), "--log-path", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]

    defined = set(json.loads(ensure_manifest().read_text(encoding="utf-8"))["unit_tests"])
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    ran = {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    assert len(defined) >= 28  # the unit tests of the models (a lost yml would drop some silently)
    assert set(ran) == defined, sorted(defined ^ set(ran))
    assert set(ran.values()) == {"pass"}, {k: v for k, v in ran.items() if v != "pass"}
