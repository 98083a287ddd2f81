"""Sensors and schedules for `dagster dev` / the daemon. definitions.py adds them:

    from dagster_project.orchestration import all_sensors, hr_platform_daily
    dg.Definitions(..., schedules=[hr_platform_daily(settings.hr_pull_cron)],
                   sensors=all_sensors(settings.sensor_interval_seconds))

and ``jobs=JOBS``: every job and its name is defined once, in orchestration/jobs.py."""

import dagster as dg

from dagster_project.alerts.sensors import alert_sensors
from dagster_project.orchestration.jobs import JOBS
from dagster_project.orchestration.schedules import hr_platform_daily
from dagster_project.orchestration.sensors import orchestration_sensors
from dagster_project.settings import DEFAULT_SENSOR_INTERVAL_SECONDS


def all_sensors(interval: int = DEFAULT_SENSOR_INTERVAL_SECONDS) -> list[dg.SensorDefinition]:
    """Every sensor of the code location, each looking every ``interval`` seconds
    (ZENGSHOU_SENSOR_INTERVAL_SECONDS)."""
    return [*orchestration_sensors(interval), *alert_sensors(interval)]


__all__ = ["JOBS", "all_sensors", "hr_platform_daily"]
