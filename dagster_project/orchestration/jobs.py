"""Every job of the code location, and its name, defined once.

The sensors request runs of these jobs by name, `zengshou run` resolves them by name from the
definitions, and the tests refer to them by name: all import the names from here, so a renamed job
cannot leave a sensor pointing at a job that no longer exists.

No ``from __future__ import annotations`` here: Dagster inspects annotations of what it decorates.
"""

import dagster as dg

from dagster_project.assets.report import kpi_report
from dagster_project.assets.serving import serving_publish
from dagster_project.assets.transform import MART_CHECKS, zengshou_dbt

MONITORING_JOB = "monitoring_snapshot"
REFRESH_JOB = "refresh_warehouse"
TRANSFORM_JOB = "transform_marts"
HR_PULL_JOB = "hr_platform_pull"

# Runs write the single-writer DuckDB warehouse; an instance can cap runs by this tag as well as by
# concurrency.runs.max_concurrent_runs (dagster_home.yaml): concurrency.runs.tag_concurrency_limits.
WRITER_TAG = {"zengshou/writer": "duckdb"}

monitoring_snapshot = dg.define_asset_job(
    MONITORING_JOB,
    selection=dg.AssetSelection.groups("monitoring"),  # partitioned by month (MONTHLY): inferred from the assets
    description="Load one month's monitoring export (members + households): validate, quarantine, publish.",
)
refresh_warehouse = dg.define_asset_job(
    REFRESH_JOB,
    selection=dg.AssetSelection.groups("hr_platform", "relief_ledger"),
    description="Pull the HR platform incrementally and load new or changed 以工代赈 ledgers.",
)
transform_marts = dg.define_asset_job(
    TRANSFORM_JOB,
    selection=dg.AssetSelection.assets(zengshou_dbt, serving_publish, kpi_report)
    | dg.AssetSelection.checks(*MART_CHECKS),
    description="dbt build (staging → intermediate → marts, with dbt tests), the marts' GE suites, and "
    "publishing the marts for BI (serving DuckDB file; PostgreSQL when ZENGSHOU_BI_DB_URL is set).",
)
hr_platform_pull = dg.define_asset_job(
    HR_PULL_JOB,
    selection=dg.AssetSelection.groups("hr_platform"),
    description="Incremental pull of the HR platform database (ZENGSHOU_HR_DB_URL): newest updated_at wins.",
    tags=WRITER_TAG,
)

JOBS = [monitoring_snapshot, refresh_warehouse, transform_marts, hr_platform_pull]
