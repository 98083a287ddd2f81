"""Sensors and schedules for `dagster dev` / the daemon. definitions.py adds them:

    from dagster_project.orchestration import SENSORS, hr_platform_daily
    dg.Definitions(..., schedules=[hr_platform_daily(settings.hr_pull_cron)], sensors=SENSORS)

(the schedule's job ``hr_platform_pull`` comes with it; JOBS lists it for an explicit ``jobs=``)."""

from dagster_project.alerts.sensors import asset_check_alerts, run_failure_alerts
from dagster_project.orchestration.schedules import hr_platform_daily, hr_platform_pull
from dagster_project.orchestration.sensors import (
    marts_after_loads,
    monitoring_landing_sensor,
    relief_landing_sensor,
)

SENSORS = [monitoring_landing_sensor, relief_landing_sensor, marts_after_loads, run_failure_alerts,
           asset_check_alerts]
JOBS = [hr_platform_pull]

__all__ = ["JOBS", "SENSORS", "hr_platform_daily"]
