"""Sensors of the zengshou code location.

- ``monitoring_landing_sensor``: monthly exports under ZENGSHOU_LANDING_DIR not yet loaded → one
  ``monitoring_snapshot`` run per month (partition_key = the month), selecting only the file kinds to load.
- ``relief_landing_sensor``: 以工代赈 ledgers not yet loaded → one ``refresh_warehouse`` run for the relief
  asset (it loads exactly the new or changed files).
- ``marts_after_loads``: the raw tables differ from what the published marts were built from → one
  ``transform_marts`` run, once no load is queued or running (so several loads give one rebuild).

What is to do is decided by ``planning.plan``, the planner `zengshou run` and `make demo` use too;
"already loaded" has one meaning for all of them: the latest attempt of each source partition in the
warehouse's ``meta.load_batches`` read this very content (``ingest/load_state.py``). So a month
`zengshou run` loaded is not loaded again by the daemon, a batch rejected for a data reason is alerted
once and retried only when its file changes, and a load that failed for a transient reason (killed,
disk full, the warehouse busy) recorded nothing and is requested again — with backoff: after n failed
runs for the same content, the next request waits ``retry_delay(n)`` (1, 2, 4 … 60 minutes) after the last failure.

The sensors read ``meta`` under the shared warehouse lock without waiting: while a run writes, a tick
just says so and looks again next time (DuckDB has one writer; a reader must never make a run fail).
The sensor cursor caches file hashes (path → the file's stamp and sha256, readers.hash_file), so a
tick does not re-read unchanged exports, and remembers what it requested.

No ``from __future__ import annotations`` here: Dagster inspects the context parameters' annotations.
"""

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import astuple, dataclass, field
from pathlib import Path

import dagster as dg

from dagster_project.assets.relief import RELIEF_KEY
from dagster_project.ingest.readers import FileStamp, HashedFile
from dagster_project.ingest.warehouse_lock import WarehouseBusy
from dagster_project.orchestration.jobs import MONITORING_JOB, REFRESH_JOB, TRANSFORM_JOB, WRITER_TAG
from dagster_project.planning import MARTS, MONITORING, RELIEF, WarehouseState, plan, read_state
from dagster_project.resources import LandingResource, WarehouseResource
from dagster_project.settings import DEFAULT_SENSOR_INTERVAL_SECONDS

log = logging.getLogger("zengshou.sensors")

TRIGGER_TAG = "zengshou/trigger"


# --------------------------------------------------------------------------------------------------
# Cursor: file hashes seen, and what was requested
# --------------------------------------------------------------------------------------------------
@dataclass
class Cursor:
    files: dict[str, HashedFile] = field(default_factory=dict)  # path in the landing dir → stamp and sha256
    # slot (a month, "relief", "marts") → [content requested, unix time of the request]
    requested: dict[str, list] = field(default_factory=dict)

    @classmethod
    def load(cls, cursor: str | None) -> "Cursor":
        if not cursor:
            return cls()
        try:
            data = json.loads(cursor)
            # [size, mtime_ns, ctime_ns, inode, device, sha256]; an entry of another shape (the cursors of
            # releases that kept size and mtime only) is dropped: that file is read once more.
            files = {k: HashedFile(FileStamp(*v[:5]), v[5]) for k, v in data.get("files", {}).items()
                     if isinstance(v, list) and len(v) == 6}
            return cls(files, dict(data.get("requested", {})))
        except (ValueError, TypeError, AttributeError):
            log.warning("unreadable sensor cursor: starting afresh")
            return cls()

    def dump(self) -> str:
        files = {k: [*astuple(h.stamp), h.sha256] for k, h in sorted(self.files.items()) if h.stamp is not None}
        return json.dumps({"files": files, "requested": dict(sorted(self.requested.items()))}, separators=(",", ":"))

    def known(self, landing_dir: Path) -> dict[Path, HashedFile]:
        """The cached hashes as the planner takes them (``plan(known=…)``)."""
        return {landing_dir / rel: h for rel, h in self.files.items()}

    def remember(self, landing_dir: Path, hashed: Mapping[Path, HashedFile]) -> None:
        """Keep the hashes a plan needed (read or reused) for the next tick."""
        self.files.update({p.relative_to(landing_dir).as_posix(): h for p, h in hashed.items()})


def _short(sha: str | None) -> str:
    return sha[:12] if sha else "none"


# --------------------------------------------------------------------------------------------------
# Requests, and retries of failed ones
# --------------------------------------------------------------------------------------------------
CONTENT_TAG = "zengshou/content"
_UNFINISHED = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
               dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
# A request the daemon accepted shows as a run at once; one with no run after this long was lost
# (the run deleted in the UI, say) and is made again.
LOST_REQUEST_SECONDS = 3600.0


def retry_delay(failures: int) -> float:
    """Seconds to wait after the n-th finished run that still left the work undone: 1, 2, 4 … 60 min."""
    return float(min(60 * 2 ** max(failures - 1, 0), 3600))


def should_request(instance: dg.DagsterInstance | None, cursor: Cursor, slot: str, content: str,
                   now: float) -> tuple[bool, str]:
    """(request now?, note) for work still to do (``content``: what must be loaded or built).

    New content is requested once no run for the slot's previous request is queued or running: a tick
    that reads the warehouse between the two steps of a month's run (households published, members
    not yet) sees only the members still to load — other content, but the running run loads it (seen
    under the daemon with ticks every 5 s: a second run for the month). Content requested before is
    requested again only when every run made for it has finished without doing the work (failed,
    cancelled, or killed before recording anything) and the backoff after the last of them has passed —
    so a transient failure is retried, a pending run is not doubled, and a data failure (recorded in
    ``meta``, so no longer "to do") is not retried until the file changes."""
    previous = cursor.requested.get(slot)
    if not previous:
        return True, ""
    if previous[0] != content:
        pending = instance.get_run_records(dg.RunsFilter(tags={CONTENT_TAG: previous[0]}, statuses=_UNFINISHED),
                                           limit=1) if instance else []
        if pending:
            return False, f"{slot}: a run for {previous[0]} is queued or running; looking again after it"
        return True, ""
    runs = instance.get_run_records(dg.RunsFilter(tags={CONTENT_TAG: content}), limit=50) if instance else []
    if any(r.dagster_run.status in _UNFINISHED for r in runs):
        return False, f"{slot}: a run for {content} is queued or running"
    if not runs:
        if now - float(previous[1]) < LOST_REQUEST_SECONDS:
            return False, f"{slot}: {content} was requested; waiting for its run"
        return True, f"{slot}: the request for {content} has no run; requesting again"
    last_end = max((r.end_time or r.update_timestamp.timestamp()) for r in runs)
    wait = retry_delay(len(runs)) - (now - last_end)
    if wait > 0:
        return False, f"{slot}: {len(runs)} run(s) for {content} left it undone; retrying in {wait:.0f} s"
    return True, f"{slot}: retrying {content} after {len(runs)} run(s) that left it undone"


def _request(cursor: Cursor, slot: str, content: str, now: float, **kwargs) -> dg.RunRequest:
    cursor.requested[slot] = [content, now]
    tags = {TRIGGER_TAG: kwargs.pop("trigger", "landing_dir"), **WRITER_TAG, CONTENT_TAG: content,
            **kwargs.pop("tags", {})}
    # A run key never used before: Dagster drops a request whose key it has seen, which would turn a
    # retry, or a return to earlier content (A → B → A), into nothing.
    return dg.RunRequest(run_key=f"{content}:{uuid.uuid4().hex[:12]}", tags=tags, **kwargs)


# --------------------------------------------------------------------------------------------------
# Monthly monitoring exports
# --------------------------------------------------------------------------------------------------
def monitoring_requests(landing_dir: Path, cursor: str | None, loaded: Mapping[tuple[str, str], str | None],
                        instance: dg.DagsterInstance | None = None,
                        *, settle: float) -> tuple[list[dg.RunRequest], str, list[str]]:
    """(run requests, new cursor, notes) for the monthly exports in ``landing_dir``; ``loaded`` is
    ``load_state.loaded_shas`` of the warehouse (what the latest attempt of each partition read).
    Unlike `zengshou run`, a month with one file missing is not loaded until both have landed."""
    state = Cursor.load(cursor)
    now = time.time()
    todo = plan(WarehouseState(loaded), landing_dir, scope={MONITORING}, settle=settle, now=now,
                known=state.known(landing_dir))
    state.remember(landing_dir, todo.hashed)
    notes = [*todo.skipped, *todo.problems, *todo.waiting]  # what is not loaded (a 2021-9 folder…), and why
    for month in todo.up_to_date:
        state.requested.pop(month, None)
    requests: list[dg.RunRequest] = []
    for load in todo.months:
        if not load.complete:
            continue  # the missing file is in the notes
        parts = [f"{f.source.name.split('.')[1]}={_short(sha)}" for f, sha in zip(load.files, load.sha256, strict=True)]
        content = f"monitoring:{load.month}:" + ",".join(parts)
        go, note = should_request(instance, state, load.month, content, now)
        if note:
            notes.append(note)
        if go:
            requests.append(_request(
                state, load.month, content, now, job_name=MONITORING_JOB, partition_key=load.month,
                asset_selection=load.asset_keys,
                tags={"zengshou/files": ",".join(f.path.relative_to(landing_dir).as_posix() for f in load.files)}))
    return requests, state.dump(), notes


# --------------------------------------------------------------------------------------------------
# Relief ledgers
# --------------------------------------------------------------------------------------------------
def relief_requests(landing_dir: Path, cursor: str | None, loaded: Mapping[tuple[str, str], str | None],
                    instance: dg.DagsterInstance | None = None,
                    *, settle: float) -> tuple[list[dg.RunRequest], str, list[str]]:
    """(run requests, new cursor, notes) for the ledgers: one refresh run while any is new or changed,
    none while one of those is still being copied (the run loads every new or changed ledger at once)."""
    state = Cursor.load(cursor)
    now = time.time()
    todo = plan(WarehouseState(loaded), landing_dir, scope={RELIEF}, settle=settle, now=now,
                known=state.known(landing_dir))
    state.remember(landing_dir, todo.hashed)
    if todo.ledgers_waiting:
        return [], state.dump(), ["relief: a ledger is still being written; looking again next tick",
                                  *todo.waiting]
    if not todo.ledgers:
        state.requested.pop("relief", None)
        return [], state.dump(), todo.skipped
    to_load = [f"{ld.file.path.relative_to(landing_dir).as_posix()}={_short(ld.sha256)}" for ld in todo.ledgers]
    content = "relief:" + hashlib.sha256("\n".join(to_load).encode()).hexdigest()[:16]
    go, note = should_request(instance, state, "relief", content, now)
    requests = [_request(state, "relief", content, now, job_name=REFRESH_JOB, asset_selection=[RELIEF_KEY],
                         tags={"zengshou/files": ",".join(c.split("=")[0] for c in to_load)[:2000]})] if go else []
    return requests, state.dump(), [*todo.skipped, note] if note else todo.skipped


def _read_state(context: dg.SensorEvaluationContext, warehouse: Path) -> WarehouseState | None:
    """The warehouse's load and marts state without waiting for a running writer (None: it is busy)."""
    try:
        return read_state(warehouse, wait=False)
    except WarehouseBusy as exc:
        context.log.info(f"warehouse busy: {exc}")
        return None


NO_LANDING_DIR = "ZENGSHOU_LANDING_DIR does not exist"


BUSY = "a run is writing the warehouse; looking again next tick"


def _result(context: dg.SensorEvaluationContext, requests, cursor, notes, landing: Path) -> dg.SensorResult:
    for note in notes:
        context.log.info(note)
    skip = None if requests else ("; ".join(notes) or f"nothing new or changed in {landing}")
    return dg.SensorResult(run_requests=requests, cursor=cursor, skip_reason=skip)


def _landing_tick(context: dg.SensorEvaluationContext, warehouse: WarehouseResource, landing: LandingResource,
                  requests_for: Callable[..., tuple[list[dg.RunRequest], str, list[str]]]
                  ) -> dg.SensorResult | dg.SkipReason:
    """One tick of a landing sensor: skip while there is no landing dir or a run writes the warehouse,
    else what ``requests_for`` (monitoring_requests / relief_requests) asks for, with its notes logged."""
    if not landing.exists():
        return dg.SkipReason(NO_LANDING_DIR)
    state = _read_state(context, warehouse.file)
    if state is None:
        return dg.SkipReason(BUSY)
    requests, cursor, notes = requests_for(landing.dir, context.cursor, state.loaded, context.instance,
                                           settle=landing.settle_seconds)
    return _result(context, requests, cursor, notes, landing.dir)


def _monitoring_tick(context: dg.SensorEvaluationContext, warehouse: WarehouseResource, landing: LandingResource):
    return _landing_tick(context, warehouse, landing, monitoring_requests)


def _relief_tick(context: dg.SensorEvaluationContext, warehouse: WarehouseResource, landing: LandingResource):
    return _landing_tick(context, warehouse, landing, relief_requests)


# --------------------------------------------------------------------------------------------------
# Marts after loads
# --------------------------------------------------------------------------------------------------
_FINISHED_EVENTS = (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE)


def finished_runs(instance: dg.DagsterInstance, after: int, job_names: tuple[str, ...] | None = None,
                  limit: int = 100) -> tuple[list[tuple[int, str]], int]:
    """(storage id, run id) of runs that succeeded or failed after storage id ``after``, oldest first,
    and the storage id to continue from (the alert sensor's feed). Public API only: the instance's
    ``fetch_run_status_changes`` with ``dg.RunStatusChangeRecordsFilter``."""
    found: list[tuple[int, str]] = []
    cutoffs: list[int] = []
    for event_type in _FINISHED_EVENTS:
        # (job_names in the filter is not supported by the SQL event storages: filter here)
        result = instance.fetch_run_status_changes(
            dg.RunStatusChangeRecordsFilter(event_type=event_type, after_storage_id=after), limit=limit,
            ascending=True)
        found += [(r.storage_id, r.run_id) for r in result.records
                  if job_names is None or r.event_log_entry.job_name in job_names]
        if result.has_more and result.records:
            cutoffs.append(result.records[-1].storage_id)
    cutoff = min(cutoffs) if cutoffs else None
    found = sorted(f for f in found if cutoff is None or f[0] <= cutoff)
    return found, (cutoff if cutoff is not None else max([after, *(f[0] for f in found)]))


def last_finished_run_id(instance: dg.DagsterInstance) -> int:
    """Storage id of the newest run success or failure (0 when none): where a feed "from now" starts."""
    latest = [instance.fetch_run_status_changes(event_type, limit=1, ascending=False).records
              for event_type in _FINISHED_EVENTS]
    return max((records[0].storage_id for records in latest if records), default=0)


def marts_request(outdated: str | None, raw: str, cursor: str | None, instance: dg.DagsterInstance | None,
                  runs_pending: bool) -> tuple[list[dg.RunRequest], str, str | None]:
    """(requests, cursor, skip reason) of ``marts_after_loads``: rebuild when the raw tables differ from
    what the published marts were built from (``load_state.marts_outdated``), once no load is waiting."""
    state = Cursor.load(cursor)
    if outdated is None or raw == "empty":
        state.requested.pop("marts", None)
        return [], state.dump(), "the published marts are built from the current raw tables"
    if runs_pending:
        return [], state.dump(), "runs are queued or running; the marts are rebuilt once after them"
    content = f"marts:{raw}"
    go, note = should_request(instance, state, "marts", content, time.time())
    if not go:
        return [], state.dump(), note
    return [_request(state, "marts", content, time.time(), trigger="marts_after_loads",
                     tags={"zengshou/reason": outdated[:200]})], state.dump(), None


def _marts_tick(context: dg.SensorEvaluationContext, warehouse: WarehouseResource, landing: LandingResource):
    if not landing.exists():
        return dg.SkipReason(NO_LANDING_DIR)
    state = _read_state(context, warehouse.file)
    if state is None:
        return dg.SkipReason(BUSY)
    todo = plan(state, landing.dir, scope={MARTS}, settle=landing.settle_seconds)
    # Any run still queued or running (a load, a backfill, a transform launched from the UI) may change
    # the raw tables or publish the marts itself: decide after it, so several loads give one rebuild.
    runs_pending = bool(context.instance.get_run_records(dg.RunsFilter(statuses=_UNFINISHED), limit=1))
    requests, cursor, skip = marts_request(todo.marts_outdated, todo.raw_state, context.cursor, context.instance,
                                           runs_pending)
    return dg.SensorResult(run_requests=requests, cursor=cursor, skip_reason=None if requests else skip)


# --------------------------------------------------------------------------------------------------
# The sensors, looking every ``interval`` seconds
# --------------------------------------------------------------------------------------------------
def orchestration_sensors(interval: int = DEFAULT_SENSOR_INTERVAL_SECONDS) -> list[dg.SensorDefinition]:
    """The landing and marts sensors with ``minimum_interval_seconds=interval`` (Settings.sensor_interval_seconds,
    ZENGSHOU_SENSOR_INTERVAL_SECONDS): a factory, because the interval is part of the definition and the
    settings are read only when the code location loads (definitions.py)."""
    running = dg.DefaultSensorStatus.RUNNING
    return [
        dg.sensor(
            name="monitoring_landing_sensor", job_name=MONITORING_JOB, minimum_interval_seconds=interval,
            default_status=running,
            description="New or changed monitoring/<YYYY-MM>/members|households files in ZENGSHOU_LANDING_DIR → "
                        "a monitoring_snapshot run for exactly that month (run key = the files' sha256).",
        )(_monitoring_tick),
        dg.sensor(
            name="relief_landing_sensor", job_name=REFRESH_JOB, minimum_interval_seconds=interval,
            default_status=running,
            description="New or changed relief/<YYYY>/*.xlsx|csv ledgers in ZENGSHOU_LANDING_DIR → a "
                        "refresh_warehouse run of raw/relief_projects (which loads exactly the new or changed "
                        "files).",
        )(_relief_tick),
        dg.sensor(
            name="marts_after_loads", job_name=TRANSFORM_JOB, minimum_interval_seconds=interval,
            default_status=running,
            description="When the raw tables differ from what the published marts were built from (new loads, or "
                        "a transform that failed or was killed): one transform_marts run (dbt build + the marts' "
                        "checks + publishing), once no load is queued or running.",
        )(_marts_tick),
    ]


# At the default interval, for the tests that tick a sensor by name.
monitoring_landing_sensor, relief_landing_sensor, marts_after_loads = orchestration_sensors()
