"""The dbt manifest (dbt/target/manifest.json): what the dbt project holds, parsed once and kept fresh.

Dagster's dbt assets, the marts' GE checks, the serving catalog and the GE suite generator all read it
(dagster_project/marts.py), so it has to exist on a fresh clone too: ``ensure_manifest`` runs
``dbt parse`` when the file is missing or older than any model, seed or yml. ``DbtProject.prepare_if_dev``
only runs under ``dagster dev``; ``zengshou run``, tests and ``make expectations`` call this instead.
"""

from __future__ import annotations

import contextlib
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


# Folders of the dbt project that are not sources: dbt writes them while builds run.
_NOT_SOURCES = frozenset({"target", "logs", "dbt_packages"})


def _newest_source_mtime() -> float:
    """The newest mtime of the project's models, macros, tests, ymls and seeds.

    The walk never enters target/ or logs/: every build makes a target dir of its own there and removes
    it when it ends, so a walk into them (``rglob``, filtered afterwards) met a folder that vanished under
    it and raised FileNotFoundError in whichever process was loading the definitions — a `zengshou run`
    starting while another warehouse's build finished (seen with three test workers, 2026-12-02)."""
    newest = 0.0
    for root, dirs, files in os.walk(DBT_PROJECT_DIR):  # a folder gone mid-walk is skipped (onerror None)
        dirs[:] = [d for d in dirs if d not in _NOT_SOURCES]
        for name in files:
            if os.path.splitext(name)[1] in {".sql", ".yml", ".csv"}:
                with contextlib.suppress(FileNotFoundError):
                    newest = max(newest, os.stat(os.path.join(root, name)).st_mtime)
    for seed in DBT_PROJECT_DIR.parent.joinpath("seeds").glob("*"):
        with contextlib.suppress(FileNotFoundError):
            newest = max(newest, seed.stat().st_mtime)
    return newest


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
