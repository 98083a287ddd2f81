"""The dbt project as Dagster assets (staging -> intermediate -> marts), its tests as asset checks, and
Great Expectations suites on the marts as further asset checks."""

import os
import shutil
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from dagster_project.assets.ge_checks import ge_suite_check
from dagster_project.dbt_manifest import dbt_executable, ensure_manifest
from dagster_project.ingest.load_state import DBT_STEP, raw_state, record_state
from dagster_project.ingest.warehouse import connect, ensure_raw_tables
from dagster_project.ingest.warehouse_lock import warehouse_lock
from dagster_project.marts import mart_names
from dagster_project.settings import DBT_PROJECT_DIR, load_settings

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


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
def zengshou_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    # The dbt subprocess inherits os.environ: give it the warehouse path and the HMAC pads (not the salt).
    settings = load_settings()
    os.environ.update(settings.dbt_env())
    # The dbt subprocess writes the warehouse: hold the writer lock for the whole build, so no other
    # zengshou process (a sensor's read, another run) opens the file meanwhile (ingest/warehouse_lock.py).
    with warehouse_lock(settings.warehouse, timeout=settings.warehouse_lock_timeout, purpose="dbt build"):
        # dbt sources must exist even when a source has never landed (no relief ledger yet, say).
        with connect(settings.warehouse) as con:
            ensure_raw_tables(con)
            built_from = raw_state(con)
        # A target dir of this run only (two checkouts' runs must not share one), removed afterwards so
        # they do not pile up; compiled SQL carries no key material (the keyed-hash plugin), but no reason
        # to keep it either.
        target = DBT_PROJECT_DIR / "target" / f"run-{context.run_id[:8]}"
        try:
            yield from dbt.cli(["build"], context=context, target_path=target).stream()
        finally:
            shutil.rmtree(target, ignore_errors=True)
        # Only a build that finished (the stream raises on a failed model or test) records what it was
        # built from; serving_publish then records it as published (ingest/load_state.py).
        with connect(settings.warehouse) as con:
            record_state(con, DBT_STEP, built_from)


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=DBT_PROJECT, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable())


# One GE suite check per mart model of the manifest (quality/suites.py generates a suite for each).
MART_CHECKS = [ge_suite_check(f"marts.{name}") for name in mart_names()]
