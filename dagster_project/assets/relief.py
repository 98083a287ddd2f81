"""以工代赈 project ledgers (SPEC §3.3): every new or changed ledger file becomes a batch. Restatements
are resolved in dbt staging (the latest report file of a year wins per 项目编号), so the load order of
files never changes the answer."""


from collections.abc import Iterator

import dagster as dg

from dagster_project.assets.load_results import BATCH_ACCEPTED, BATCH_ACCEPTED_DOC
from dagster_project.ingest.batch_pipeline import load_landed_file
from dagster_project.ingest.file_sources import RELIEF_PROJECTS, relief_files
from dagster_project.ingest.load_state import file_hashes, loaded_shas
from dagster_project.planning import RELIEF, WarehouseState, plan
from dagster_project.resources import LandingResource, WarehouseResource

RELIEF_KEY = dg.AssetKey(RELIEF_PROJECTS.raw_table.split("."))


class ReliefLoadConfig(dg.Config):
    reload_all: bool = False  # reload every ledger file, not only new or changed ones


@dg.asset(
    key=RELIEF_KEY,
    group_name="relief_ledger",
    kinds={"duckdb", "python"},
    description="以工代赈项目台账: one row per project per report file (relief/<YYYY>/<report-date>.xlsx|csv).",
    check_specs=[dg.AssetCheckSpec(BATCH_ACCEPTED, asset=RELIEF_KEY, blocking=True, description=BATCH_ACCEPTED_DOC)],
    output_required=False,  # no ledger published: not new data, observed rather than materialized
)
def relief_projects(context: dg.AssetExecutionContext, config: ReliefLoadConfig, warehouse: WarehouseResource,
                    landing: LandingResource) -> Iterator[dg.MaterializeResult | dg.AssetObservation
                                                          | dg.AssetCheckResult]:
    if config.reload_all:
        candidates = relief_files(landing.dir)
        waiting = [f for f in candidates if landing.settling(f.path)]
        files = [f for f in candidates if f not in waiting]
    else:  # the one planner decides what is new or changed, as for the sensors and `zengshou run`
        with warehouse.connect() as con:
            state = WarehouseState(loaded_shas(con), file_hashes=file_hashes(con))
        todo = plan(state, landing.dir, scope={RELIEF}, settle=landing.settle_seconds)
        files = [ld.file for ld in todo.ledgers]
        waiting = [ld.file for ld in todo.ledgers_waiting]  # may still be being copied: a later run loads them
    for f in waiting:
        context.log.warning(landing.settling_note(f.path))
    loads = [load_landed_file(f, warehouse.file, max_reject_rate=warehouse.max_reject_rate,
                              **warehouse.loader_options()) for f in files]
    rejected = [ld.outcome for ld in loads if not ld.outcome.published]
    for ld in loads:
        context.log.info(f"relief {ld.landed.partition_key}: {ld.outcome.status} {ld.outcome.reason or ''}")
    per_file = {ld.landed.partition_key: {"status": ld.outcome.status, "rows_read": ld.outcome.rows_read,
                                          "rows_loaded": ld.outcome.rows_loaded,
                                          "rows_quarantined": ld.outcome.rows_quarantined,
                                          "header_row": ld.outcome.header_row,
                                          "rows_skipped_blank": ld.outcome.rows_skipped_blank,
                                          "rows_skipped_total": ld.outcome.rows_skipped_total,
                                          "reason": ld.outcome.reason} for ld in loads}
    check = dg.AssetCheckResult(
        asset_key=RELIEF_KEY, check_name=BATCH_ACCEPTED, passed=not rejected, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"files_loaded": len(loads), "files_rejected": len(rejected),
                  "reason": "; ".join(f"{o.partition_key}: {o.reason}" for o in rejected) or "passed",
                  "batches": dg.MetadataValue.json(per_file)},
    )
    metadata = {"files_loaded": len(loads), "files_rejected": len(rejected),
                "files_still_being_written": len(waiting),
                "rows_read": sum(ld.outcome.rows_read for ld in loads),
                "rows_loaded": sum(ld.outcome.rows_loaded for ld in loads),
                "rows_quarantined": sum(ld.outcome.rows_quarantined for ld in loads),
                "batches": dg.MetadataValue.json(per_file)}
    if len(rejected) == len(loads):  # no ledger published (none new, or all refused): raw unchanged
        yield dg.AssetObservation(asset_key=RELIEF_KEY, metadata=metadata)
        yield check
        return
    yield dg.MaterializeResult(asset_key=RELIEF_KEY, metadata=metadata, check_results=[check])
