"""The dbt manifest (dbt/target/manifest.json): what the dbt project holds, parsed once and kept fresh.

Dagster's dbt assets, the marts' GE checks, the serving catalog and the GE suite generator all read it
(dagster_project/marts.py), so it has to exist on a fresh clone too: ``ensure_manifest`` runs
``dbt parse`` when the file is missing or older than any model, seed or yml. ``DbtProject.prepare_if_dev``
only runs under ``dagster dev``; ``zengshou run``, tests and ``make expectations`` call this instead.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
from pathlib import Path

from dagster_project.resources import dbt_executable
from dagster_project.settings import DBT_PROJECT_DIR

MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
# `dbt parse` opens no database and hashes nothing, but profiles.yml names the warehouse: a placeholder
# path, so parsing (at import, when the code location loads) never depends on the settings.
PARSE_ENV = {"ZENGSHOU_WAREHOUSE": str(DBT_PROJECT_DIR / "target" / "parse-only.duckdb")}


def _newest_source_mtime() -> float:
    files = [p for p in DBT_PROJECT_DIR.rglob("*") if p.suffix in {".sql", ".yml", ".csv"}
             and "target" not in p.parts and "logs" not in p.parts]
    files += list(DBT_PROJECT_DIR.parent.joinpath("seeds").glob("*"))
    return max((p.stat().st_mtime for p in files), default=0.0)


def ensure_manifest() -> Path:
    """Parse the dbt project when its manifest is missing or older than any model, seed or yml."""
    manifest = MANIFEST_PATH
    manifest.parent.mkdir(parents=True, exist_ok=True)
    # One parser at a time: processes that load the definitions together (the UI's code server and a
    # `zengshou run`, parallel test workers) would otherwise write dbt/target at the same time.
    with open(manifest.parent / ".parse.lock", "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            if not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime():
                _parse()
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    return manifest


def _parse() -> None:
    env = {**os.environ, **PARSE_ENV}
    proc = subprocess.run(
        [dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR)],
        env=env, capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"dbt parse failed: {(proc.stdout + proc.stderr).strip()[-2000:]}")
