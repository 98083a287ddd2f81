"""Sensors of the zengshou code location.

- ``monitoring_landing_sensor``: new or changed monthly exports under ZENGSHOU_LANDING_DIR → one
  ``monitoring_snapshot`` run per changed month (partition_key = the month), selecting only the file
  kinds that changed.
- ``relief_landing_sensor``: new or changed 以工代赈 ledgers → one ``refresh_warehouse`` run for the
  relief asset (it loads exactly the new or changed files).
- ``marts_after_loads``: after a load run (either job above, or the daily HR pull) that published
  something, one ``transform_marts`` run — coalesced: no second one while one is still waiting.

The landing sensors never open the DuckDB warehouse: DuckDB has one writer, and even a read-only
connection from the daemon would make a starting run fail to take the write lock. What was already
seen is kept in the sensor cursor (path → size, mtime, sha256), and on first sight a file is compared
with the batch id (which carries the sha256 prefix) of the latest materialisation of its partition in
the Dagster instance. Run keys are derived from the file hashes, so the same content is never
requested twice by Dagster either.

No ``from __future__ import annotations`` here: Dagster inspects the context parameters' annotations.
"""

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from dagster_project.alerts.model import plain
from dagster_project.assets.monitoring import MONTHLY
from dagster_project.assets.relief import RELIEF_KEY
from dagster_project.ingest.file_sources import (
    MONITORING_HOUSEHOLDS,
    MONITORING_MEMBERS,
    LandedFile,
    LandingError,
    landing_skips,
    monitoring_file,
    monitoring_months,
    relief_files,
    settle_seconds,
    settling,
)
from dagster_project.ingest.readers import file_sha256
from dagster_project.orchestration.schedules import HR_PULL_JOB
from dagster_project.settings import ConfigError, load_settings

log = logging.getLogger("zengshou.sensors")

# Names of the jobs in dagster_project.definitions (referenced by name: definitions imports this module).
MONITORING_JOB = "monitoring_snapshot"
REFRESH_JOB = "refresh_warehouse"
TRANSFORM_JOB = "transform_marts"
LOAD_JOBS = (MONITORING_JOB, REFRESH_JOB, HR_PULL_JOB)

TRIGGER_TAG = "zengshou/trigger"
# Runs write the single-writer DuckDB warehouse; an instance can cap runs by this tag as well as by
# run_queue.max_concurrent_runs (dagster_home.yaml): concurrency.runs.tag_concurrency_limits.
WRITER_TAG = {"zengshou/writer": "duckdb"}


# --------------------------------------------------------------------------------------------------
# Cursor: what content was seen
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Seen:
    size: int
    mtime_ns: int
    sha256: str


def _load_cursor(cursor: str | None) -> dict[str, Seen]:
    if not cursor:
        return {}
    try:
        return {k: Seen(*v) for k, v in json.loads(cursor).get("files", {}).items()}
    except (ValueError, TypeError, AttributeError):
        log.warning("unreadable sensor cursor: starting afresh")
        return {}


def _dump_cursor(files: dict[str, Seen]) -> str:
    return json.dumps({"files": {k: [s.size, s.mtime_ns, s.sha256] for k, s in sorted(files.items())}},
                      separators=(",", ":"))


def _fingerprint(path: Path, cached: Seen | None) -> Seen:
    """size, mtime and sha256 of a file; the hash is reused while size and mtime are unchanged, so a
    tick does not re-read hundreds of megabytes of unchanged exports."""
    st = path.stat()
    if cached and cached.size == st.st_size and cached.mtime_ns == st.st_mtime_ns:
        return cached
    return Seen(st.st_size, st.st_mtime_ns, file_sha256(path))


def _settling(path: Path, now: float, settle: float) -> bool:
    return settling(path, now, settle)  # one definition, shared with the assets and `zengshou run`


def _short(sha: str | None) -> str:
    return sha[:12] if sha else "none"


# --------------------------------------------------------------------------------------------------
# Monthly monitoring exports
# --------------------------------------------------------------------------------------------------
def _loaded_in_instance(instance: dg.DagsterInstance | None, landed: LandedFile, sha: str) -> bool:
    """True when the latest materialisation of this file's asset partition read this very content (its
    batch id ends with the sha256 prefix, see file_batch.stage_file)."""
    if instance is None:
        return False
    key = dg.AssetKey(landed.source.raw_table.split("."))
    try:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[landed.partition_key]), limit=1).records
    except Exception:  # an older storage without partition filters: just load again
        return False
    if not records:
        return False
    batch_id = plain((records[0].asset_materialization.metadata or {}).get("batch_id"))
    return isinstance(batch_id, str) and batch_id.endswith(f":{sha[:12]}")


def monitoring_requests(landing_dir: Path, cursor: str | None, instance: dg.DagsterInstance | None = None,
                        settle: float | None = None) -> tuple[list[dg.RunRequest], str, list[str]]:
    """(run requests, new cursor, notes) for the monthly exports in ``landing_dir``."""
    settle = settle_seconds() if settle is None else settle
    seen = _load_cursor(cursor)
    valid_months = set(MONTHLY.get_partition_keys())
    now = time.time()
    requests: list[dg.RunRequest] = []
    notes: list[str] = landing_skips(landing_dir)  # what is not loaded (a 2021-9 folder…), and why
    for month in monitoring_months(landing_dir):
        if month not in valid_months:
            notes.append(f"monitoring/{month}: not a partition of the monitoring assets (2021-01 … next month)")
            continue
        try:
            landed = [monitoring_file(landing_dir, month, s) for s in (MONITORING_MEMBERS, MONITORING_HOUSEHOLDS)]
        except LandingError as exc:
            notes.append(str(exc))
            continue
        if any(f is None for f in landed):
            missing = [s.name.split(".")[1] for s, f in zip((MONITORING_MEMBERS, MONITORING_HOUSEHOLDS), landed,
                                                             strict=True) if f is None]
            notes.append(f"monitoring/{month}: waiting for {', '.join(missing)}")
            continue
        files = [f for f in landed if f is not None]
        if any(_settling(f.path, now, settle) for f in files):
            notes.append(f"monitoring/{month}: a file is still being written; looking again next tick")
            continue
        changed, parts = [], []
        for f in files:
            rel = f.path.relative_to(landing_dir).as_posix()
            before = seen.get(rel)
            current = _fingerprint(f.path, before)
            seen[rel] = current
            parts.append(f"{f.source.name.split('.')[1]}={_short(current.sha256)}")
            if before is not None and before.sha256 == current.sha256:
                continue
            if before is None and _loaded_in_instance(instance, f, current.sha256):
                continue
            changed.append(f)
            parts[-1] += f"(was {_short(before.sha256 if before else None)})"
        if not changed:
            continue
        keys = [dg.AssetKey(f.source.raw_table.split(".")) for f in changed]
        requests.append(dg.RunRequest(
            job_name=MONITORING_JOB,
            partition_key=month,
            asset_selection=keys,
            # The hashes of this content and of the content it replaces: unchanged content is never
            # requested twice, while going back to an earlier export (A → B → A) is still a change.
            run_key=f"monitoring:{month}:" + ",".join(parts),
            tags={TRIGGER_TAG: "landing_dir", **WRITER_TAG,
                  "zengshou/files": ",".join(f.path.relative_to(landing_dir).as_posix() for f in changed)},
        ))
    return requests, _dump_cursor(seen), notes


# --------------------------------------------------------------------------------------------------
# Relief ledgers
# --------------------------------------------------------------------------------------------------
def relief_requests(landing_dir: Path, cursor: str | None,
                    settle: float | None = None) -> tuple[list[dg.RunRequest], str, list[str]]:
    settle = settle_seconds() if settle is None else settle
    seen = _load_cursor(cursor)
    now = time.time()
    files = relief_files(landing_dir)
    if any(_settling(f.path, now, settle) for f in files):
        return [], _dump_cursor(seen), ["relief: a ledger is still being written; looking again next tick"]
    changed: list[str] = []
    for f in files:
        rel = f.path.relative_to(landing_dir).as_posix()
        before = seen.get(rel)
        current = _fingerprint(f.path, before)
        seen[rel] = current
        if before is None or before.sha256 != current.sha256:
            changed.append(f"{rel}={_short(current.sha256)}(was {_short(before.sha256 if before else None)})")
    if not changed:
        return [], _dump_cursor(seen), []
    digest = hashlib.sha256("\n".join(changed).encode()).hexdigest()[:16]
    request = dg.RunRequest(
        job_name=REFRESH_JOB,
        asset_selection=[RELIEF_KEY],
        run_key=f"relief:{digest}",
        tags={TRIGGER_TAG: "landing_dir", **WRITER_TAG,
              "zengshou/files": ",".join(c.split("=")[0] for c in changed)[:2000]},
    )
    return [request], _dump_cursor(seen), []


def _landing_dir(context: dg.SensorEvaluationContext) -> Path | None:
    try:
        landing = load_settings().landing_dir
    except ConfigError as exc:
        context.log.error(f"settings are invalid: {exc}")
        return None
    return landing if landing.is_dir() else None


def _result(context: dg.SensorEvaluationContext, requests, cursor, notes, landing: Path) -> dg.SensorResult:
    for note in notes:
        context.log.info(note)
    skip = None if requests else ("; ".join(notes) or f"nothing new or changed in {landing}")
    return dg.SensorResult(run_requests=requests, cursor=cursor, skip_reason=skip)


@dg.sensor(
    name="monitoring_landing_sensor",
    job_name=MONITORING_JOB,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="New or changed monitoring/<YYYY-MM>/members|households files in ZENGSHOU_LANDING_DIR → "
                "a monitoring_snapshot run for exactly that month (run key = the files' sha256).",
)
def monitoring_landing_sensor(context: dg.SensorEvaluationContext):
    landing = _landing_dir(context)
    if landing is None:
        return dg.SkipReason("ZENGSHOU_LANDING_DIR does not exist (or the settings are invalid)")
    requests, cursor, notes = monitoring_requests(landing, context.cursor, context.instance)
    return _result(context, requests, cursor, notes, landing)


@dg.sensor(
    name="relief_landing_sensor",
    job_name=REFRESH_JOB,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="New or changed relief/<YYYY>/*.xlsx|csv ledgers in ZENGSHOU_LANDING_DIR → a refresh_warehouse "
                "run of raw/relief_projects (which loads exactly the new or changed files).",
)
def relief_landing_sensor(context: dg.SensorEvaluationContext):
    landing = _landing_dir(context)
    if landing is None:
        return dg.SkipReason("ZENGSHOU_LANDING_DIR does not exist (or the settings are invalid)")
    requests, cursor, notes = relief_requests(landing, context.cursor)
    return _result(context, requests, cursor, notes, landing)


# --------------------------------------------------------------------------------------------------
# Marts after loads
# --------------------------------------------------------------------------------------------------
def finished_runs(instance: dg.DagsterInstance, after: int, job_names: tuple[str, ...] | None = None,
                  limit: int = 100) -> tuple[list[tuple[int, str]], int]:
    """(storage id, run id) of runs that succeeded or failed after storage id ``after``, oldest first,
    and the storage id to continue from."""
    from dagster._core.event_api import RunStatusChangeRecordsFilter

    found: list[tuple[int, str]] = []
    cutoffs: list[int] = []
    for event_type in (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE):
        # (job_names in the filter is not supported by the SQL event storages: filter here)
        result = instance.fetch_run_status_changes(
            RunStatusChangeRecordsFilter(event_type=event_type, after_storage_id=after), limit=limit, ascending=True)
        found += [(r.storage_id, r.run_id) for r in result.records
                  if job_names is None or r.event_log_entry.job_name in job_names]
        if result.has_more and result.records:
            cutoffs.append(result.records[-1].storage_id)
    cutoff = min(cutoffs) if cutoffs else None
    found = sorted(f for f in found if cutoff is None or f[0] <= cutoff)
    return found, (cutoff if cutoff is not None else max([after, *(f[0] for f in found)]))


def published_something(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Did the run change a raw table? A monitoring batch published, a relief file loaded, or the HR
    pull moved a watermark (a run can fail on one batch and still have published another)."""
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        meta = {k: plain(v) for k, v in (entry.asset_materialization.metadata or {}).items()}
        if "files_loaded" in meta:
            if int(meta.get("files_loaded") or 0) > int(meta.get("files_rejected") or 0):
                return True
        elif meta.get("status") == "published":
            if "watermark_after" not in meta:
                return True
            if meta.get("watermark_after") != meta.get("watermark_before") or int(meta.get("rows_upserted") or 0):
                return True
    return False


PENDING = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING]


@dg.sensor(
    name="marts_after_loads",
    job_name=TRANSFORM_JOB,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After a monitoring_snapshot, refresh_warehouse or hr_platform_pull run that published new "
                "data: one transform_marts run (dbt build + the marts' checks), not one per load.",
)
def marts_after_loads(context: dg.SensorEvaluationContext):
    after = int(context.cursor) if context.cursor else 0
    runs, cursor = finished_runs(context.instance, after, LOAD_JOBS)
    triggers = [run_id for _, run_id in runs if published_something(context.instance, run_id)]
    if not triggers:
        return dg.SensorResult(cursor=str(cursor), skip_reason="no load run published new data since the last tick")
    waiting = context.instance.get_run_records(
        dg.RunsFilter(job_name=TRANSFORM_JOB, statuses=PENDING), limit=1)
    if waiting:
        # Runs are serialised (one writer): the waiting transform starts after these loads and sees them.
        return dg.SensorResult(cursor=str(cursor),
                               skip_reason=f"transform_marts run {waiting[0].dagster_run.run_id} is already waiting")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"marts-after:{triggers[-1]}",
                                    tags={TRIGGER_TAG: "marts_after_loads", **WRITER_TAG,
                                          "zengshou/after_runs": ",".join(t[:8] for t in triggers)[:2000]})],
        cursor=str(cursor),
    )
