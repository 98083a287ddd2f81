"""The Dagster code location (workspace.yaml points here): every asset, check and job of zengshou.

``defs`` is built lazily (``@dg.definitions``): importing this module reads no setting. When Dagster (or a
test, or ``zengshou run`` through ``build_definitions``) loads the location, ``load_settings()`` runs once
and its values become the resources (resources.build_resources) the assets, checks and sensors take as
parameters; a malformed setting fails the load with the ConfigError naming it.
"""

import dagster as dg

from dagster_project.assets.hr import HR_CHECKS, hr_platform
from dagster_project.assets.monitoring import monitoring_households, monitoring_members
from dagster_project.assets.relief import relief_projects
from dagster_project.assets.report import kpi_report
from dagster_project.assets.serving import serving_publish
from dagster_project.assets.transform import MART_CHECKS, zengshou_dbt
from dagster_project.orchestration import JOBS, all_sensors, hr_platform_daily
from dagster_project.resources import build_resources
from dagster_project.settings import Settings, load_settings


def build_definitions(settings: Settings) -> dg.Definitions:
    """The code location for one validated ``Settings`` (``zengshou run`` passes its own)."""
    return dg.Definitions(
        assets=[monitoring_members, monitoring_households, relief_projects, hr_platform, zengshou_dbt,
                serving_publish, kpi_report],
        asset_checks=[*MART_CHECKS, *HR_CHECKS],
        jobs=JOBS,  # orchestration/jobs.py: every job and its name, once
        schedules=[hr_platform_daily(settings.hr_pull_cron)],
        sensors=all_sensors(settings.sensor_interval_seconds),
        resources=build_resources(settings),
        # Every job runs its steps one after another in the run's own process. DuckDB allows one writer
        # process; with Dagster's default multiprocess executor the steps of one run (loads, dbt, each GE
        # check) were separate processes that opened the warehouse at the same time and failed on its lock.
        # The steps hold the warehouse one at a time anyway, so nothing is lost (docs/architecture.md).
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    """What workspace.yaml loads: the settings of this process's environment, read once."""
    return build_definitions(load_settings())
