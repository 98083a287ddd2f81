"""The HR platform (SPEC §3.2), pulled incrementally (through ADBC for SQLite and PostgreSQL, SQLAlchemy
for other dialects): one asset per table, all
pulled in one step because they share the connection and the watermark bookkeeping.

Failures end the step with one line that names the cause and the fix (``zengshou run`` prints it):
an unreachable database is retried (it is usually a passing outage: network, maintenance window),
with ZENGSHOU_HR_RETRY_DELAY seconds before the first retry, doubling, 3 retries; a missing table or
column, or any other error, fails at once: no retry can fix it.
"""

import datetime as dt
import random

import dagster as dg

from dagster_project.assets.ge_checks import ge_suite_check
from dagster_project.ingest.batch_pipeline import pull_hr_platform
from dagster_project.ingest.hr_platform import HrPlatformSchemaError, HrPlatformUnavailable
from dagster_project.resources import HrPlatformResource, WarehouseResource
from dagster_project.source_shapes import HR_TABLES

PULL_ACCEPTED = "pull_accepted"
PULL_ACCEPTED_DOC = ("Blocking. The table's pull went through the one batch pipeline: its Great Expectations suite "
                     "(one expectation per row rule) ran on the staged rows and agreed with the quarantine's "
                     "per-rule counts, and the quarantined share is at most ZENGSHOU_MAX_REJECT_RATE. A rejected "
                     "pull is not applied: raw and the watermark stay as they were.")
HR_KEYS = {table: dg.AssetKey(["raw", f"hr_{table}"]) for table in HR_TABLES}
HR_MAX_RETRIES = 3
# What each pull changed in raw, per kind (metadata keys; the run summary adds them up).
CHANGE_KINDS = {"rows_inserted": "inserted", "rows_corrected": "corrected", "rows_late": "late",
                "rows_deleted": "deleted"}


def retry_wait(first_delay: float, retry_number: int) -> float:
    """Seconds before retry ``retry_number + 1``: first_delay × 2^n, ±25 % jitter so that several
    code locations hitting one database do not retry in step."""
    return first_delay * 2**retry_number * random.uniform(0.75, 1.25)


@dg.multi_asset(
    # skippable: a rejected pull is observed, not materialized (it changed nothing downstream could use)
    specs=[dg.AssetSpec(key, group_name="hr_platform", kinds={"duckdb", "sqlalchemy"}, skippable=True,
                        description=f"HR platform table {table}: newest updated_at per primary key wins.")
           for table, key in HR_KEYS.items()],
    check_specs=[dg.AssetCheckSpec(PULL_ACCEPTED, asset=key, blocking=True, description=PULL_ACCEPTED_DOC)
                 for key in HR_KEYS.values()],
    can_subset=True,
)
def hr_platform(context: dg.AssetExecutionContext, warehouse: WarehouseResource, hr_platform: HrPlatformResource):
    tables = [t for t, k in HR_KEYS.items() if k in context.selected_asset_keys]
    try:
        pulls = pull_hr_platform(
            hr_platform.url(), warehouse.file, tables, warehouse.max_reject_rate,
            lookback=dt.timedelta(hours=hr_platform.lookback_hours),
            full_compare_every=dt.timedelta(hours=hr_platform.full_compare_hours),
            **warehouse.loader_options(),
        )
    except HrPlatformUnavailable as exc:
        attempt = context.retry_number
        if attempt < HR_MAX_RETRIES:
            wait = retry_wait(hr_platform.retry_delay, attempt)
            context.log.warning(f"{exc}; retry {attempt + 1} of {HR_MAX_RETRIES} in {wait:.0f} s")
            raise dg.RetryRequested(max_retries=HR_MAX_RETRIES, seconds_to_wait=wait) from exc
        # ``from None``: the run summary and the alerts show the root of the cause chain, and this line,
        # which names the fix, is the root (it carries the driver's own message too).
        raise dg.Failure(
            description=f"HR platform unreachable after {HR_MAX_RETRIES} retries: {exc} — check that the "
                        "server is up and reachable from here and that ZENGSHOU_HR_DB_URL names it",
            allow_retries=False,
        ) from None
    except HrPlatformSchemaError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    for table, pull in pulls.items():
        key = HR_KEYS[table]
        meta = {"batch_id": pull.batch_id, "rows_read": pull.rows_read, "rows_upserted": pull.rows_upserted,
                "rows_quarantined": pull.rows_quarantined, "status": pull.status,
                "watermark_before": str(pull.watermark_before), "watermark_after": str(pull.watermark_after),
                "rows_inserted": pull.rows_inserted, "rows_corrected": pull.rows_corrected,
                "rows_late": pull.rows_late, "rows_deleted": pull.rows_deleted,
                "full_compare": pull.full_compare, "reader": pull.reader, "reason": pull.reason or "passed"}
        check_meta = {**meta, **(pull.validation.metadata() if pull.validation else {})}
        if pull.status == "rejected":
            yield dg.AssetObservation(asset_key=key, metadata=meta)
        else:
            yield dg.MaterializeResult(asset_key=key, metadata=meta)
        yield dg.AssetCheckResult(asset_key=key, check_name=PULL_ACCEPTED, passed=pull.status != "rejected",
                                  severity=dg.AssetCheckSeverity.ERROR, metadata=check_meta)


def hr_pull_outcome(result: dg.ExecuteInProcessResult) -> tuple[bool, str | None]:
    """(whether the pull changed raw, a summary such as "HR platform: 2 inserted, 1 corrected, 0 late,
    1 deleted" or None when nothing changed) from the materializations of one run."""
    totals = dict.fromkeys(CHANGE_KINDS.values(), 0)
    changed = False
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        if not mat.asset_key.path[-1].startswith("hr_"):
            continue
        meta = mat.metadata

        def value(name: str, meta=meta):
            return getattr(meta.get(name), "value", None)

        if value("status") == "published" or value("watermark_after") != value("watermark_before"):
            changed = True
        for key, kind in CHANGE_KINDS.items():
            totals[kind] += int(value(key) or 0)
    if not any(totals.values()):
        return changed, None
    return changed, "HR platform: " + ", ".join(f"{n} {kind}" for kind, n in totals.items())


HR_CHECKS = [ge_suite_check(f"raw.hr_{table}") for table in HR_KEYS]
