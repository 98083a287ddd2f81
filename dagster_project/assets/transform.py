"""The dbt project as Dagster assets (staging -> intermediate -> marts), its tests as asset checks, and
Great Expectations suites on the marts as further asset checks."""

import contextlib
import os
import shutil
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from dagster_project.assets.ge_checks import ge_suite_check
from dagster_project.dbt_manifest import dbt_executable, ensure_manifest  # noqa: F401 (dbt_cli imports dbt_executable here)
from dagster_project.dbt_partial_parse import keep_partial_parse, restore_partial_parse
from dagster_project.ingest.load_state import DBT_STEP, raw_state, record_state
from dagster_project.ingest.warehouse import ensure_raw_tables
from dagster_project.marts import mart_names
from dagster_project.month_plan import config_digest, plan_rebuild, record_build, record_rebuild, request_build
from dagster_project.resources import WarehouseResource
from dagster_project.settings import DBT_NO_LOG_FILE, DBT_PROJECT_DIR

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


class DbtBuildConfig(dg.Config):
    """``full_refresh``: rebuild every snapshot month (`zengshou run --full-refresh`); otherwise only the
    months month_plan.plan_rebuild finds changed or depending on a change."""

    full_refresh: bool = False


@dbt_assets(manifest=ensure_manifest(), project=DBT_PROJECT, dagster_dbt_translator=TRANSLATOR)
def zengshou_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                 warehouse: WarehouseResource, config: DbtBuildConfig) -> Iterator[Any]:
    # The dbt subprocess writes the warehouse: hold the writer lock for the whole build, so no other
    # zengshou process (a sensor's read, another run) opens the file meanwhile (ingest/warehouse_lock.py).
    with warehouse.lock("dbt build"):
        # dbt sources must exist even when a source has never landed (no relief ledger yet, say).
        with warehouse.connect() as con:
            ensure_raw_tables(con)
            built_from = raw_state(con)
            # The snapshot months to recompute and why (month_plan.py): the one decision, whichever
            # path (zengshou run, the marts_after_loads sensor) started this run.
            rebuild = plan_rebuild(con, config_digest(warehouse.pii_salt, warehouse.reconciliation_tolerance),
                                   full_refresh=config.full_refresh)
            # the months go to dbt through meta.dbt_rebuild_request, the var stays the same every build
            dbt_args = request_build(con, rebuild)
        context.log.info(rebuild.summary())
        # dagster-dbt gives the subprocess a copy of os.environ: the warehouse path and the HMAC pads
        # are in this process's environment for the build only, never left behind after it.
        # A target dir of this run only, on the project's disk, removed afterwards: compiled SQL carries no
        # key material (the keyed-hash plugin), but no reason to keep it either. (Not a kept dir beside
        # the warehouse: a full warehouse disk also broke dbt's own log file there, with a Python
        # traceback under the one-line failure.) What lets dbt parse partially is kept instead: the
        # partial-parse file of the last finished build on this warehouse (dbt_manifest.py), copied in
        # before and back after; dbt's state check compares the CLI vars, which request_build keeps
        # constant, and the profile, which names the warehouse (so one file per warehouse).
        target = DBT_PROJECT_DIR / "target" / f"run-{context.run.run_id[:8]}"
        try:
            restore_partial_parse(warehouse.file, target, context.log.warning)
            with _environment(warehouse.dbt_env()):
                yield from dbt.cli([*BUILD_ARGS, *dbt_args], context=context, target_path=target).stream()
            keep_partial_parse(warehouse.file, target, context.log.warning)
        finally:
            shutil.rmtree(target, ignore_errors=True)
        # Only a build that finished (the stream raises on a failed model or test) records what it was
        # built from; serving_publish then records it as published (ingest/load_state.py).
        with warehouse.connect() as con:
            record_state(con, DBT_STEP, built_from)
            # what the marts are now built from; only a whole build (a subset leaves other months behind)
            whole = set(context.selected_asset_keys) >= set(context.assets_def.keys)
            if whole:
                record_rebuild(con, rebuild, context.run.run_id)
            # numbered for the publishing and the GE checks that follow (serving/changes.py): a subset
            # build changed marts without recording its months, so they take everything after it
            record_build(con, context.run.run_id, whole=whole)


# dbt's unit tests check SQL logic against fixed inputs: they give the same answer every month, so the
# monthly build skips them (dbt's own advice: run unit tests in development and CI, not in production).
# tests/test_dbt_unit_tests.py runs them on every `make test` (by hand: dbt/README.md, "Run").
BUILD_ARGS = ["build", "--exclude-resource-type", "unit_test", *DBT_NO_LOG_FILE]


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


# One GE suite check per mart model of the manifest (quality/suites.py generates a suite for each).
MART_CHECKS = [ge_suite_check(f"marts.{name}") for name in mart_names()]
