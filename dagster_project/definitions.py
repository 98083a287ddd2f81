"""The Dagster code location (workspace.yaml points here): every asset, check and job of zengshou."""

import dagster as dg

from dagster_project.assets.hr import HR_CHECKS, hr_platform
from dagster_project.assets.monitoring import monitoring_households, monitoring_members
from dagster_project.assets.relief import relief_projects
from dagster_project.assets.report import kpi_report
from dagster_project.assets.serving import serving_publish
from dagster_project.assets.transform import MART_CHECKS, dbt_resource, zengshou_dbt
from dagster_project.orchestration import JOBS, SCHEDULES, SENSORS

defs = dg.Definitions(
    assets=[monitoring_members, monitoring_households, relief_projects, hr_platform, zengshou_dbt, serving_publish,
            kpi_report],
    asset_checks=[*MART_CHECKS, *HR_CHECKS],
    jobs=JOBS,  # orchestration/jobs.py: every job and its name, once
    schedules=SCHEDULES,
    sensors=SENSORS,
    resources={"dbt": dbt_resource()},
    # Every job runs its steps one after another in the run's own process. DuckDB allows one writer
    # process; with Dagster's default multiprocess executor the steps of one run (loads, dbt, each GE
    # check) were separate processes that opened the warehouse at the same time and failed on its lock.
    # The steps hold the warehouse one at a time anyway, so nothing is lost (docs/architecture.md).
    executor=dg.in_process_executor,
)
