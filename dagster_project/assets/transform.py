"""The dbt project as Dagster assets (staging -> intermediate -> marts), its tests as asset checks, and
Great Expectations suites on the marts as further asset checks."""

import contextlib
import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from dagster_project.assets.ge_checks import ge_suite_check
from dagster_project.ingest.load_state import DBT_STEP, raw_state, record_state
from dagster_project.ingest.warehouse import ensure_raw_tables
from dagster_project.quality.suites import MART_SUITE_NAMES
from dagster_project.resources import WarehouseResource, dbt_executable
from dagster_project.settings import DBT_PROJECT_DIR

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _newest_source_mtime() -> float:
    files = [p for p in DBT_PROJECT_DIR.rglob("*") if p.suffix in {".sql", ".yml", ".csv"}
             and "target" not in p.parts and "logs" not in p.parts]
    files += list(DBT_PROJECT_DIR.parent.joinpath("seeds").glob("*"))
    return max((p.stat().st_mtime for p in files), default=0.0)


def ensure_manifest() -> Path:
    """Parse the dbt project when its manifest is missing or older than any model, seed or yml.

    ``DbtProject.prepare_if_dev`` only runs under ``dagster dev``; ``zengshou run`` and tests load the
    definitions directly, so they need the same preparation here.
    """
    manifest = DBT_PROJECT.manifest_path
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


# `dbt parse` opens no database and hashes nothing, but profiles.yml names the warehouse: a placeholder
# path, so parsing (at import, when the code location loads) never depends on the settings.
PARSE_ENV = {"ZENGSHOU_WAREHOUSE": str(DBT_PROJECT_DIR / "target" / "parse-only.duckdb")}


def _parse() -> None:
    env = {**os.environ, **PARSE_ENV}
    proc = subprocess.run(
        [dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR)],
        env=env, capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"dbt parse failed: {(proc.stdout + proc.stderr).strip()[-2000:]}")


class ZengshouDbtTranslator(DagsterDbtTranslator):
    """Models and seeds are keyed [schema, name] (e.g. marts/kpi_scorecard); sources keep [source, table],
    which is how the loaders key the raw tables (raw/monitoring_members)."""

    def get_asset_key(self, dbt_resource_props: dict[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            schema = dbt_resource_props.get("config", {}).get("schema") or "main"
            return dg.AssetKey([schema, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)


TRANSLATOR = ZengshouDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(manifest=ensure_manifest(), project=DBT_PROJECT, dagster_dbt_translator=TRANSLATOR)
def zengshou_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                 warehouse: WarehouseResource) -> Iterator[Any]:
    # The dbt subprocess writes the warehouse: hold the writer lock for the whole build, so no other
    # zengshou process (a sensor's read, another run) opens the file meanwhile (ingest/warehouse_lock.py).
    with warehouse.lock("dbt build"):
        # dbt sources must exist even when a source has never landed (no relief ledger yet, say).
        with warehouse.connect() as con:
            ensure_raw_tables(con)
            built_from = raw_state(con)
        # A target dir of this run only (two checkouts' runs must not share one), removed afterwards so
        # they do not pile up; compiled SQL carries no key material (the keyed-hash plugin), but no reason
        # to keep it either.
        target = DBT_PROJECT_DIR / "target" / f"run-{context.run_id[:8]}"
        try:
            # dagster-dbt gives the subprocess a copy of os.environ: the warehouse path and the HMAC pads
            # are in this process's environment for the build only, never left behind after it.
            with _environment(warehouse.dbt_env()):
                yield from dbt.cli(["build"], context=context, target_path=target).stream()
        finally:
            shutil.rmtree(target, ignore_errors=True)
        # Only a build that finished (the stream raises on a failed model or test) records what it was
        # built from; serving_publish then records it as published (ingest/load_state.py).
        with warehouse.connect() as con:
            record_state(con, DBT_STEP, built_from)


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` set in os.environ while the block runs, the previous values restored after it."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


MART_CHECKS = [ge_suite_check(name) for name in MART_SUITE_NAMES]
