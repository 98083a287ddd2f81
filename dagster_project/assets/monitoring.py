"""Monthly snapshots of the monitoring system (SPEC §3.1): one partitioned asset per file kind."""

from collections.abc import Iterator

import dagster as dg

from dagster_project.assets.load_results import BATCH_ACCEPTED, BATCH_ACCEPTED_DOC, batch_check, batch_events
from dagster_project.ingest.batch_pipeline import load_landed_file
from dagster_project.ingest.file_batch import FileSource
from dagster_project.ingest.file_sources import (
    MONITORING_HOUSEHOLDS,
    MONITORING_MEMBERS,
    LandingError,
    monitoring_file,
    not_landed_reason,
)
from dagster_project.ingest.unusual_values import UNUSUAL_VALUES, unusual_values_check
from dagster_project.resources import LandingResource, WarehouseResource

# Exports are "as of month end"; the current month is included so its export can load when it lands.
MONTHLY = dg.MonthlyPartitionsDefinition(start_date="2021-01", fmt="%Y-%m", end_offset=1)

_DESCRIPTIONS = {
    MONITORING_MEMBERS.name: (
        "脱贫人口 members export (全国防止返贫监测和衔接推进乡村振兴信息系统), one partition per month."
    ),
    MONITORING_HOUSEHOLDS.name: "Households export (户类型, 家庭人口数, 工资性收入…), one partition per month.",
}


def monitoring_asset(source: FileSource) -> dg.AssetsDefinition:
    key = dg.AssetKey(source.raw_table.split("."))

    @dg.asset(
        key=key,
        partitions_def=MONTHLY,
        group_name="monitoring",
        kinds={"duckdb", "python"},
        description=_DESCRIPTIONS[source.name],
        output_required=False,  # a rejected batch is not new data: observed, not materialized
        check_specs=[
            dg.AssetCheckSpec(BATCH_ACCEPTED, asset=key, blocking=True, description=BATCH_ACCEPTED_DOC),
            dg.AssetCheckSpec(UNUSUAL_VALUES, asset=key,
                              description="Warning only: odd values no rule forbids (counted, never rejected)."),
        ],
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
               landing: LandingResource) -> Iterator[dg.MaterializeResult | dg.AssetObservation
                                                     | dg.AssetCheckResult]:
        month = context.partition_key
        try:
            landed = monitoring_file(landing.dir, month, source)
        except LandingError as exc:
            raise dg.Failure(str(exc)) from exc
        if landed is None:
            raise dg.Failure(f"{not_landed_reason(landing.dir, month, source)} in {landing.dir}")
        if landing.settling(landed.path):  # never load a file that may still be being copied, by any path
            raise dg.Failure(landing.settling_note(landed.path))
        load = load_landed_file(landed, warehouse.file, max_reject_rate=warehouse.max_reject_rate,
                                **warehouse.loader_options())
        context.log.info(f"{source.name} {month}: {load.outcome.status} "
                         f"({load.outcome.rows_loaded} loaded, {load.outcome.rows_quarantined} quarantined)")
        checks = [batch_check(load, key)]
        if load.outcome.published:
            with warehouse.connect() as con:
                checks.append(unusual_values_check(con, source, month, key))
        else:  # every declared check must report, or Dagster fails the step and loses batch_accepted
            checks.append(dg.AssetCheckResult(asset_key=key, check_name=UNUSUAL_VALUES, passed=True,
                                              metadata={"skipped": "batch not published"}))
        yield from batch_events(load, key, checks, partition=month)

    return _asset


monitoring_members = monitoring_asset(MONITORING_MEMBERS)
monitoring_households = monitoring_asset(MONITORING_HOUSEHOLDS)
