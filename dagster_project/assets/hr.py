"""The HR platform (SPEC §3.2), pulled incrementally through SQLAlchemy: one asset per table, all
pulled in one step because they share the connection and the watermark bookkeeping."""


import os

import dagster as dg

from dagster_project.assets.ge_checks import ge_suite_check
from dagster_project.ingest.hr_platform import pull_hr_platform
from dagster_project.ingest.warehouse import connect
from dagster_project.settings import load_settings
from dagster_project.source_shapes import HR_TABLES

PULL_ACCEPTED = "pull_accepted"
PULL_ACCEPTED_DOC = "Blocking: the quarantined share of the pull is at most ZENGSHOU_MAX_REJECT_RATE."
HR_KEYS = {table: dg.AssetKey(["raw", f"hr_{table}"]) for table in HR_TABLES}

# An unreachable database is usually a passing outage (network, maintenance window): retry with backoff.
# ZENGSHOU_HR_RETRY_DELAY (seconds, default 10) sets the first wait: 10 s, 20 s, 40 s.
HR_RETRY = dg.RetryPolicy(
    max_retries=3,
    delay=float(os.environ.get("ZENGSHOU_HR_RETRY_DELAY", "10")),
    backoff=dg.Backoff.EXPONENTIAL,
    jitter=dg.Jitter.PLUS_MINUS,
)


@dg.multi_asset(
    specs=[dg.AssetSpec(key, group_name="hr_platform", kinds={"duckdb", "sqlalchemy"},
                        description=f"HR platform table {table}: newest updated_at per primary key wins.")
           for table, key in HR_KEYS.items()],
    check_specs=[dg.AssetCheckSpec(PULL_ACCEPTED, asset=key, blocking=True, description=PULL_ACCEPTED_DOC)
                 for key in HR_KEYS.values()],
    can_subset=True,
    retry_policy=HR_RETRY,
)
def hr_platform(context: dg.AssetExecutionContext):
    settings = load_settings()
    tables = [t for t, k in HR_KEYS.items() if k in context.selected_asset_keys]
    # HrPlatformUnavailable propagates: HR_RETRY retries the step with backoff, then the run fails.
    with connect(settings.warehouse) as con:
        pulls = pull_hr_platform(settings.hr_db_url, con, tables, settings.max_reject_rate)
    for table, pull in pulls.items():
        key = HR_KEYS[table]
        meta = {"batch_id": pull.batch_id, "rows_read": pull.rows_read, "rows_upserted": pull.rows_upserted,
                "rows_quarantined": pull.rows_quarantined, "status": pull.status,
                "watermark_before": str(pull.watermark_before), "watermark_after": str(pull.watermark_after),
                "reason": pull.reason or "passed"}
        yield dg.MaterializeResult(asset_key=key, metadata=meta)
        yield dg.AssetCheckResult(asset_key=key, check_name=PULL_ACCEPTED, passed=pull.status != "rejected",
                                  severity=dg.AssetCheckSeverity.ERROR, metadata=meta)


HR_CHECKS = [ge_suite_check(f"raw.hr_{table}") for table in HR_KEYS]
