"""Publishing the marts for BI tools after each successful build (issue 4, part 4): the serving DuckDB
file always, PostgreSQL when ZENGSHOU_BI_DB_URL is set. See dagster_project/serving/.

Each target takes only the months the dbt build changed when that is exact, else everything
(serving/changes.py says when); what each took is recorded in meta.serving_applied, and the asset's
metadata says, per target, the mode (months | whole), the months and the rows written.
"""

import time

import dagster as dg

from dagster_project.ingest.load_state import DBT_STEP, SERVING_STEP, record_state, recorded_state
from dagster_project.marts import mart_asset_keys
from dagster_project.resources import PublishingResource, WarehouseResource
from dagster_project.serving import publish_postgres, publish_serving_file, serving_file_path
from dagster_project.serving.changes import month_labels, pending_changes, record_applied
from dagster_project.serving.postgres import safe_url

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
        "per-prefecture and per-county row-level security) in one transaction. Only the months the "
        "dbt build changed are replaced when that is exact, else everything."
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


def serving_file_target(path) -> str:
    """The key of the serving file in meta.serving_applied."""
    return f"serving_file:{path}"


def postgres_target(url: str, role_prefix: str) -> str:
    """The key of a PostgreSQL database (and reader-role prefix) in meta.serving_applied."""
    return f"postgres:{safe_url(url)}|{role_prefix}"


def _target_metadata(prefix: str, mode: str, months, reason: str, written: dict[str, int],
                     deleted: dict[str, int]) -> dict:
    return {
        f"{prefix}_mode": mode,
        f"{prefix}_months": dg.MetadataValue.json(month_labels(months)),
        f"{prefix}_reason": reason,
        f"{prefix}_rows_written": sum(written.values()),
        f"{prefix}_rows_written_by_mart": dg.MetadataValue.json(written),
        f"{prefix}_rows_deleted": sum(deleted.values()),
    }


def _publish(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
             publishing: PublishingResource) -> dg.MaterializeResult:
    started = time.monotonic()
    file_path = serving_file_path(warehouse.file, publishing.serving_file)
    file_key = serving_file_target(file_path.resolve())
    pg_key = postgres_target(publishing.bi_db_url, publishing.role_prefix) if publishing.bi_db_url else None
    with warehouse.connect() as con:
        file_changes = pending_changes(con, file_key)
        pg_changes = pending_changes(con, pg_key) if pg_key else None
    served = publish_serving_file(warehouse.file, file_path, file_changes, memory_limit=warehouse.memory_limit)
    with warehouse.connect() as con:   # at once: the file is replaced, whatever PostgreSQL does next
        record_applied(con, file_key, build_no=file_changes.build_no, catalog=served.catalog, mark=served.mark,
                       mode=served.mode, months=served.months, rows_written=sum(served.rows_written.values()),
                       run_id=context.run.run_id)
    context.log.info(f"serving file {served.path}: {served.mode}"
                     f"{' ' + ', '.join(month_labels(served.months)) if served.months else ''}, "
                     f"{sum(served.rows_written.values())} rows written in {served.seconds:.1f} s ({served.reason})")
    metadata: dict = {
        "serving_file": dg.MetadataValue.path(str(served.path)),
        "serving_file_bytes": served.bytes,
        "serving_file_seconds": round(served.seconds, 2),
        **_target_metadata("serving_file", served.mode, served.months, served.reason, served.rows_written,
                           served.rows_deleted),
        "rows": dg.MetadataValue.json(served.tables),
        "total_rows": sum(served.tables.values()),
        "serving_file_withheld": dg.MetadataValue.json(list(served.withheld)),  # county_roles_only lists
        "postgres": "not configured (ZENGSHOU_BI_DB_URL unset)",
    }
    if served.copy:
        metadata["serving_file_copy"] = served.copy
    if publishing.bi_db_url:
        published = publish_postgres(warehouse.file, publishing.bi_db_url, role_prefix=publishing.role_prefix,
                                     changes=pg_changes, memory_limit=warehouse.memory_limit)
        with warehouse.connect() as con:
            record_applied(con, pg_key, build_no=pg_changes.build_no, catalog=published.catalog,
                           mark=published.mark, mode=published.mode, months=published.months,
                           rows_written=sum(published.rows_written.values()), run_id=context.run.run_id)
        context.log.info(f"PostgreSQL {published.database}: {published.mode}, "
                         f"{sum(published.rows_written.values())} rows written in {published.seconds:.1f} s "
                         f"({published.reason})")
        if published.dropped_dependents:
            context.log.warning(f"views depending on the previous marts were dropped: {published.dropped_dependents}")
        metadata.update({
            "postgres": published.database,
            "postgres_seconds": round(published.seconds, 2),
            **_target_metadata("postgres", published.mode, published.months, published.reason,
                               published.rows_written, published.rows_deleted),
            "postgres_rls_tables": dg.MetadataValue.json(published.rls_tables),
            "postgres_unfiltered_tables": dg.MetadataValue.json(published.unfiltered_tables),
            "postgres_restricted_tables": dg.MetadataValue.json(published.restricted_tables),
            "postgres_roles": dg.MetadataValue.json(published.roles),
            "postgres_created_roles": dg.MetadataValue.json(published.created_roles),
            "postgres_dropped_dependents": dg.MetadataValue.json(published.dropped_dependents),
        })
    metadata["duration_seconds"] = round(time.monotonic() - started, 2)
    return dg.MaterializeResult(metadata=metadata)
