"""Schedules: the daily incremental pull of the HR platform (人社 就业信息系统).

``hr_platform_pull`` is its own job (only the HR assets) so the schedule never re-reads the landing
dir; ledgers and monthly exports are the landing sensors' business. When the HR database is
unreachable, the pull step retries with exponential backoff (``assets.hr``: 3 retries,
ZENGSHOU_HR_RETRY_DELAY × 1, 2, 4, jittered), then the run fails and the run-failure alert goes out.
The cron string is ``Settings.hr_pull_cron`` (checked by ``load_settings``: a bad one is a ConfigError naming
ZENGSHOU_HR_PULL_CRON when the code location loads and at the start of ``zengshou run``); definitions.py
builds the schedule from it, so nothing here reads a setting at import time.
The marts are rebuilt after the pull by the ``marts_after_loads`` sensor when the pull changed data.

No ``from __future__ import annotations`` here: Dagster inspects the context parameters' annotations.
"""

import dagster as dg

from dagster_project.settings import DEFAULT_HR_PULL_CRON

HR_PULL_JOB = "hr_platform_pull"
TIMEZONE = "Asia/Shanghai"

hr_platform_pull = dg.define_asset_job(
    HR_PULL_JOB,
    selection=dg.AssetSelection.groups("hr_platform"),
    description="Incremental pull of the HR platform database (ZENGSHOU_HR_DB_URL): newest updated_at wins.",
    tags={"zengshou/writer": "duckdb"},
)



def hr_platform_daily(cron: str = DEFAULT_HR_PULL_CRON) -> dg.ScheduleDefinition:
    """The daily pull at ``cron`` (Settings.hr_pull_cron; 06:30 every day unless ZENGSHOU_HR_PULL_CRON
    says otherwise)."""
    return dg.ScheduleDefinition(
        name="hr_platform_daily",
        job=hr_platform_pull,
        cron_schedule=cron,
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Daily incremental pull of the HR platform at 06:30 Asia/Shanghai (ZENGSHOU_HR_PULL_CRON).",
        tags={"zengshou/trigger": "schedule"},
    )
