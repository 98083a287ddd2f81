"""Publishing the marts for BI tools after each successful build (issue 4, part 4): the serving DuckDB
file always, PostgreSQL when ZENGSHOU_BI_DB_URL is set. See dagster_project/serving/."""

import time

import dagster as dg

from dagster_project.ingest.load_state import DBT_STEP, SERVING_STEP, record_state, recorded_state
from dagster_project.marts import mart_asset_keys
from dagster_project.resources import PublishingResource, WarehouseResource
from dagster_project.serving import publish_postgres, publish_serving_file, serving_file_path

SERVING_GROUP = "serving"
# Every mart of the dbt project, from its manifest (marts.py, the list the checks and publishing follow):
# the lineage names each mart this asset publishes, so the asset graph shows serving downstream of every
# one, and a new mart joins without a hand-kept list.
MART_KEYS = mart_asset_keys()


@dg.asset(
    key=["serving", "marts_published"],
    group_name=SERVING_GROUP,
    deps=MART_KEYS,
    description=(
        "Every table of schema marts published for BI tools: copied into the serving DuckDB file "
        "(<warehouse dir>/zengshou_serving.duckdb, replaced atomically; open it read-only) and, when "
        "ZENGSHOU_BI_DB_URL is set, into PostgreSQL (schemas marts + marts_zh, reader roles, "
        "per-prefecture and per-county row-level security) in one transaction."
    ),
    kinds={"duckdb", "postgres"},
)
def serving_publish(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                    publishing: PublishingResource) -> dg.MaterializeResult:
    with warehouse.lock("publishing the marts"):
        result = _publish(context, warehouse, publishing)
        # What the published marts were built from: the planner compares it with the raw tables.
        with warehouse.connect() as con:
            built_from = recorded_state(con, DBT_STEP)
            if built_from is not None:
                record_state(con, SERVING_STEP, built_from)
    return result


def _publish(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
             publishing: PublishingResource) -> dg.MaterializeResult:
    started = time.monotonic()
    served = publish_serving_file(warehouse.file, serving_file_path(warehouse.file, publishing.serving_file))
    context.log.info(f"serving file {served.path}: {len(served.tables)} marts in {served.seconds:.1f} s")
    metadata: dict = {
        "serving_file": dg.MetadataValue.path(str(served.path)),
        "serving_file_bytes": served.bytes,
        "serving_file_seconds": round(served.seconds, 2),
        "rows": dg.MetadataValue.json(served.tables),
        "total_rows": sum(served.tables.values()),
        "serving_file_withheld": dg.MetadataValue.json(list(served.withheld)),  # county_roles_only lists
        "postgres": "not configured (ZENGSHOU_BI_DB_URL unset)",
    }
    if publishing.bi_db_url:
        published = publish_postgres(warehouse.file, publishing.bi_db_url, role_prefix=publishing.role_prefix)
        context.log.info(f"PostgreSQL {published.database}: {len(published.tables)} marts in "
                         f"{published.seconds:.1f} s")
        if published.dropped_dependents:
            context.log.warning(f"views depending on the previous marts were dropped: {published.dropped_dependents}")
        metadata.update({
            "postgres": published.database,
            "postgres_seconds": round(published.seconds, 2),
            "postgres_rls_tables": dg.MetadataValue.json(published.rls_tables),
            "postgres_unfiltered_tables": dg.MetadataValue.json(published.unfiltered_tables),
            "postgres_restricted_tables": dg.MetadataValue.json(published.restricted_tables),
            "postgres_roles": dg.MetadataValue.json(published.roles),
            "postgres_created_roles": dg.MetadataValue.json(published.created_roles),
            "postgres_dropped_dependents": dg.MetadataValue.json(published.dropped_dependents),
        })
    metadata["duration_seconds"] = round(time.monotonic() - started, 2)
    return dg.MaterializeResult(metadata=metadata)
