"""`dbt docs generate` works on the known-answer warehouse, and every mart column is described in
Chinese and English (issue 3 §5)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

from dagster_project.settings import DBT_PROJECT_DIR, load_settings
from tests.knownanswer.pipeline import BIN_DIR

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{3,}")


def _bilingual(text: str) -> bool:
    return bool(CJK.search(text or "") and LATIN.search(text or ""))


def test_docs_generate_and_bilingual_mart_columns(hr_run, tmp_path) -> None:
    """On a copy of the session's HR warehouse: dbt-duckdb opens its database read-write, so `dbt docs
    generate` on the shared file took DuckDB's writer lock while the other xdist worker's HR tests were
    reading it ("Conflicting lock is held", 5 tests of test_groups_and_reconciliation.py in CI 8 this
    session and CI 3 of session 6). Shared session warehouses are only read (tests/once.py)."""
    hr_run.require_ok()
    warehouse = tmp_path / "warehouse" / hr_run.warehouse.name
    warehouse.parent.mkdir()
    shutil.copy(hr_run.warehouse, warehouse)
    env = hr_run.scenario.env(ZENGSHOU_WAREHOUSE=str(warehouse))
    env.update(load_settings(env).dbt_env())
    target = tmp_path / "target"
    proc = subprocess.run(
        [str(BIN_DIR / "dbt"), "docs", "generate", "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(target), "--log-path", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    manifest = json.loads((target / "manifest.json").read_text("utf-8"))
    catalog = json.loads((target / "catalog.json").read_text("utf-8"))
    problems = []
    marts = [(uid, n) for uid, n in manifest["nodes"].items()
             if n["resource_type"] == "model" and n["schema"] == "marts"]
    assert {"kpi_scorecard_by_group", "fct_system_reconciliation", "fct_training"} <= {n["name"] for _, n in marts}
    for uid, node in marts:
        if not _bilingual(node["description"]):
            problems.append(f"{node['name']}: model description not in Chinese and English")
        documented = {k.lower(): v.get("description", "") for k, v in node["columns"].items()}
        for column in catalog["nodes"].get(uid, {}).get("columns", {}):
            if not _bilingual(documented.get(column.lower(), "")):
                problems.append(f"{node['name']}.{column}: not described in Chinese and English")
    assert not problems, "\n".join(problems)
