"""Sensors, schedules and jobs of the code location, exercised for real: a landing dir in tmp, a Dagster
instance, the sensors' own evaluation (with Dagster's validation of targets and partition keys), and
one real in-process load run for the sensors that react to runs."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.definitions import defs
from dagster_project.orchestration import sensors as orchestration_sensors
from dagster_project.orchestration.jobs import MONITORING_JOB, REFRESH_JOB, TRANSFORM_JOB
from tests.knownanswer.landing import Landing
from tests.knownanswer.scenario import RELIEF_2023_06, household_row, households_rows, members_rows

MEMBERS = dg.AssetKey(["raw", "monitoring_members"])
HOUSEHOLDS = dg.AssetKey(["raw", "monitoring_households"])
RELIEF = dg.AssetKey(["raw", "relief_projects"])


def full_defs() -> dg.Definitions:
    """The code location exactly as workspace.yaml loads it (the lazy ``defs``, with the settings of the
    environment at this moment): sensors and schedules must be wired in."""
    loaded = defs()
    assert loaded.sensors, "dagster_project/definitions.py does not register the sensors"
    return loaded


@pytest.fixture
def landing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Landing:
    monkeypatch.setenv("ZENGSHOU_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("ZENGSHOU_WAREHOUSE", str(tmp_path / "warehouse" / "zengshou.duckdb"))
    monkeypatch.setenv("ZENGSHOU_LANDING_SETTLE_SECONDS", "0")
    monkeypatch.delenv("ZENGSHOU_ALERT_WEBHOOK_URL", raising=False)
    return Landing(tmp_path / "landing")


def write_month(landing: Landing, month: str) -> None:
    landing.write_members(month, members_rows(month))
    landing.write_households(month, households_rows(month))


def tick(sensor_name: str, instance: dg.DagsterInstance, cursor: str | None):
    """One evaluation of a sensor exactly as the daemon does it (targets and partitions validated)."""
    d = full_defs()
    sensor = d.get_repository_def().get_sensor_def(sensor_name)
    # The daemon hands a sensor the code location's top-level resources (dagster/_grpc/impl.py): so does this.
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=d, sensor_name=sensor_name,
                                      resources=d.get_repository_def().get_top_level_resources())
    return sensor.evaluate_tick(context)


# ---------------------------------------------------------------------------------------------------
# What the UI shows
# ---------------------------------------------------------------------------------------------------
def test_code_location_has_sensors_schedules_jobs_and_checks():
    repo = full_defs().get_repository_def()
    assert {MONITORING_JOB, REFRESH_JOB, TRANSFORM_JOB, "hr_platform_pull"} <= set(repo.job_names)
    assert {s.name for s in repo.sensor_defs} == {
        "monitoring_landing_sensor", "relief_landing_sensor", "marts_after_loads",
        "run_failure_alerts", "asset_check_alerts"}
    assert [s.name for s in repo.schedule_defs] == ["hr_platform_daily"]

    # The sensors launch the code location's jobs by name: the names must be the real ones.
    assert orchestration_sensors.MONITORING_JOB == MONITORING_JOB
    assert orchestration_sensors.REFRESH_JOB == REFRESH_JOB
    assert orchestration_sensors.TRANSFORM_JOB == TRANSFORM_JOB
    targets = {s.name: s.job_name for s in repo.sensor_defs if s.name.endswith(("_sensor", "_loads"))}
    assert targets == {"monitoring_landing_sensor": MONITORING_JOB, "relief_landing_sensor": REFRESH_JOB,
                       "marts_after_loads": TRANSFORM_JOB}
    for sensor in repo.sensor_defs:
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING, sensor.name

    schedule = repo.get_schedule_def("hr_platform_daily")
    assert schedule.job_name == "hr_platform_pull"
    assert schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.cron_schedule == "30 6 * * *"
    hr_job = repo.get_job("hr_platform_pull")
    hr_keys = {k for k in hr_job.asset_layer.executable_asset_keys if k.path[-1].startswith("hr_")}
    assert len(hr_keys) == 8
    # The HR pull retries with exponential backoff only when the database is unreachable: the asset
    # raises RetryRequested itself (ZENGSHOU_HR_RETRY_DELAY × 2^n, read at run time), so no blanket
    # RetryPolicy retries what no retry can fix (a missing table; tests/knownanswer/test_cli_errors.py).
    hr_node = next(n for n in hr_job.nodes if n.name == "hr_platform")
    assert hr_node.definition.retry_policy is None
    from dagster_project.assets.hr import retry_wait
    assert 7.5 <= retry_wait(10, 0) <= 12.5 and 30 <= retry_wait(10, 2) <= 50  # 10 s, then 20 s, 40 s ±25 %

    # The monitoring job is partitioned by month; the checks are where the alerts look for them.
    assert repo.get_job(MONITORING_JOB).partitions_def is not None
    check_keys = {(k.asset_key.to_user_string(), k.name) for k in full_defs().resolve_asset_graph().asset_check_keys}
    assert ("raw/monitoring_members", "batch_accepted") in check_keys
    assert ("raw/monitoring_households", "batch_accepted") in check_keys
    assert ("raw/relief_projects", "batch_accepted") in check_keys
    assert sum(1 for a, c in check_keys if c == "pull_accepted") == 8
    assert any(c == "ge_suite" and a.startswith("marts/") for a, c in check_keys)
    assert sum(1 for a, _ in check_keys if a.startswith(("marts/", "staging/", "intermediate/"))) > 10  # dbt tests


def test_every_sensor_looks_as_often_as_zengshou_sensor_interval_seconds_says(monkeypatch: pytest.MonkeyPatch):
    """One setting for all five sensors; 30 s (Dagster's default) when it is not set."""
    names = {"monitoring_landing_sensor", "relief_landing_sensor", "marts_after_loads", "run_failure_alerts",
             "asset_check_alerts"}
    monkeypatch.delenv("ZENGSHOU_SENSOR_INTERVAL_SECONDS", raising=False)
    assert {s.name: s.minimum_interval_seconds for s in full_defs().get_repository_def().sensor_defs} == \
        dict.fromkeys(names, 30)
    monkeypatch.setenv("ZENGSHOU_SENSOR_INTERVAL_SECONDS", "7")
    assert {s.name: s.minimum_interval_seconds for s in full_defs().get_repository_def().sensor_defs} == \
        dict.fromkeys(names, 7)


def test_schedule_requests_the_hr_pull():
    schedule = full_defs().get_repository_def().get_schedule_def("hr_platform_daily")
    context = dg.build_schedule_context(scheduled_execution_time=None)
    data = schedule.evaluate_tick(context)
    assert len(data.run_requests) == 1
    assert data.run_requests[0].tags.get("zengshou/trigger") == "schedule"


# ---------------------------------------------------------------------------------------------------
# The landing-dir sensors
# ---------------------------------------------------------------------------------------------------
def test_monitoring_sensor_asks_for_exactly_the_new_or_changed_month(landing: Landing):
    instance = dg.DagsterInstance.ephemeral()
    empty = tick("monitoring_landing_sensor", instance, None)
    assert empty.run_requests == [] and empty.skip_message

    write_month(landing, "2023-01")
    first = tick("monitoring_landing_sensor", instance, empty.cursor)
    assert [(r.job_name, r.partition_key) for r in first.run_requests] == [(MONITORING_JOB, "2023-01")]
    assert set(first.run_requests[0].asset_selection) == {MEMBERS, HOUSEHOLDS}
    assert first.run_requests[0].tags["dagster/partition"] == "2023-01"  # resolved as the daemon would

    # Unchanged content: never again.
    again = tick("monitoring_landing_sensor", instance, first.cursor)
    assert again.run_requests == []
    os.utime(landing.month_dir("2023-01") / "members.csv")  # touched, same bytes: still nothing
    touched = tick("monitoring_landing_sensor", instance, again.cursor)
    assert touched.run_requests == []

    # A new month: that month only.
    write_month(landing, "2023-03")
    new_month = tick("monitoring_landing_sensor", instance, touched.cursor)
    assert [r.partition_key for r in new_month.run_requests] == ["2023-03"]

    # Changed content of an old month: that month again, with a new run key. (Nothing was loaded in this
    # test, so both files are still to load; after a real load only the changed file is: see
    # test_marts_are_rebuilt_after_a_load_and_loaded_content_is_not_requested_again.)
    rows = households_rows("2023-01")
    rows[0] = household_row("H1", "2023-01", **{"工资性收入（元）": "9999"})
    landing.write_households("2023-01", rows)
    changed = tick("monitoring_landing_sensor", instance, new_month.cursor)
    assert [r.partition_key for r in changed.run_requests] == ["2023-01"]
    assert set(changed.run_requests[0].asset_selection) == {MEMBERS, HOUSEHOLDS}
    keys = [first.run_requests[0].run_key, new_month.run_requests[0].run_key, changed.run_requests[0].run_key]
    assert len(set(keys)) == 3
    assert tick("monitoring_landing_sensor", instance, changed.cursor).run_requests == []

    # Back to the earlier content (A → B → A) is a change too, under a run key not used before.
    landing.write_households("2023-01", households_rows("2023-01"))
    back = tick("monitoring_landing_sensor", instance, changed.cursor)
    assert [r.partition_key for r in back.run_requests] == ["2023-01"]
    assert back.run_requests[0].run_key not in keys


def test_the_cursor_keeps_each_files_stamp_and_drops_an_earlier_releases_entries(landing: Landing):
    """The cursor of a tick holds each file's stamp and hash (readers.FileStamp); a cursor written by a
    release that kept only size and mtime loses those entries (the files are read once more) but keeps
    what it requested, so no run is asked for twice."""
    import json

    from dagster_project.ingest.readers import FileStamp

    write_month(landing, "2023-01")
    first = tick("monitoring_landing_sensor", dg.DagsterInstance.ephemeral(), None)
    files = json.loads(first.cursor)["files"]
    members = landing.month_dir("2023-01") / "members.csv"
    stamp = FileStamp.of(members)
    assert files["monitoring/2023-01/members.csv"] == [stamp.size, stamp.mtime_ns, stamp.ctime_ns, stamp.inode,
                                                       stamp.device, hashlib.sha256(members.read_bytes()).hexdigest()]

    earlier = json.dumps({"files": {"monitoring/2023-01/members.csv": [stamp.size, stamp.mtime_ns, "ab" * 32]},
                          "requested": {"2023-01": ["monitoring:2023-01:members=ab", 1.0]}})
    cursor = orchestration_sensors.Cursor.load(earlier)
    assert cursor.files == {} and cursor.requested == {"2023-01": ["monitoring:2023-01:members=ab", 1.0]}


def test_monitoring_sensor_waits_for_both_files_and_for_the_copy_to_finish(landing: Landing,
                                                                          monkeypatch: pytest.MonkeyPatch):
    instance = dg.DagsterInstance.ephemeral()
    landing.write_members("2023-01", members_rows("2023-01"))
    half = tick("monitoring_landing_sensor", instance, None)
    assert half.run_requests == [] and "households" in half.skip_message

    monkeypatch.setenv("ZENGSHOU_LANDING_SETTLE_SECONDS", "3600")
    landing.write_households("2023-01", households_rows("2023-01"))
    copying = tick("monitoring_landing_sensor", instance, half.cursor)
    assert copying.run_requests == [] and "being written" in copying.skip_message

    monkeypatch.setenv("ZENGSHOU_LANDING_SETTLE_SECONDS", "0")
    done = tick("monitoring_landing_sensor", instance, copying.cursor)
    assert [r.partition_key for r in done.run_requests] == ["2023-01"]

    # A month outside the partitions is reported, not requested (it would be an invalid partition).
    shutil.copytree(landing.month_dir("2023-01"), landing.month_dir("2019-05"))
    assert tick("monitoring_landing_sensor", instance, done.cursor).run_requests == []


def test_relief_sensor_requests_the_refresh_job_for_new_or_changed_ledgers(landing: Landing):
    instance = dg.DagsterInstance.ephemeral()
    landing.write_relief(2023, "2023-06", RELIEF_2023_06)
    first = tick("relief_landing_sensor", instance, None)
    assert [(r.job_name, r.asset_selection) for r in first.run_requests] == [(REFRESH_JOB, [RELIEF])]
    assert tick("relief_landing_sensor", instance, first.cursor).run_requests == []
    landing.write_relief(2023, "2023-06", RELIEF_2023_06[:2])  # restated ledger
    changed = tick("relief_landing_sensor", instance, first.cursor)
    assert len(changed.run_requests) == 1
    assert changed.run_requests[0].run_key != first.run_requests[0].run_key


# ---------------------------------------------------------------------------------------------------
# After a real load run: the marts are rebuilt once, and a fresh sensor knows what is loaded
# ---------------------------------------------------------------------------------------------------
def test_marts_are_rebuilt_after_a_load_and_loaded_content_is_not_requested_again(landing: Landing):
    instance = dg.DagsterInstance.ephemeral()
    write_month(landing, "2023-01")
    start = tick("marts_after_loads", instance, None)
    assert start.run_requests == []

    job = full_defs().resolve_job_def(MONITORING_JOB)
    result = job.execute_in_process(instance=instance, partition_key="2023-01", raise_on_error=False)
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]

    after = tick("marts_after_loads", instance, start.cursor)
    assert len(after.run_requests) == 1
    assert after.run_requests[0].job_name in (None, TRANSFORM_JOB)
    assert tick("marts_after_loads", instance, after.cursor).run_requests == []

    # A sensor that never saw the landing dir (empty cursor) finds the content in the instance.
    fresh = tick("monitoring_landing_sensor", instance, None)
    assert fresh.run_requests == []
    landing.write_households("2023-01", households_rows("2023-01")[:-1])
    changed = tick("monitoring_landing_sensor", instance, fresh.cursor)
    assert [(r.partition_key, r.asset_selection) for r in changed.run_requests] == [("2023-01", [HOUSEHOLDS])]


# ---------------------------------------------------------------------------------------------------
# Recovery (issue 9 §3): a transient failure is retried with backoff, a data failure only when the file changes
# ---------------------------------------------------------------------------------------------------
HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, b"pid %d, another zengshou run, since now" % os.getpid())
print("held", flush=True)
time.sleep(600)
"""


def _run_for(request: dg.RunRequest, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    """Execute what the sensor requested, tagged as the daemon would tag it."""
    job = full_defs().resolve_job_def(request.job_name)
    return job.execute_in_process(instance=instance, partition_key=request.partition_key,
                                  asset_selection=request.asset_selection, tags=request.tags, raise_on_error=False)


def test_a_load_that_failed_for_a_transient_reason_is_retried_with_backoff(landing: Landing,
                                                                         monkeypatch: pytest.MonkeyPatch):
    import subprocess
    import sys

    from dagster_project.ingest.warehouse_lock import lock_path
    from dagster_project.settings import load_settings

    instance = dg.DagsterInstance.ephemeral()
    write_month(landing, "2023-01")
    first = tick("monitoring_landing_sensor", instance, None)
    [request] = first.run_requests

    # Another writer holds the warehouse and this run may not wait: the load fails, records nothing.
    warehouse = load_settings().warehouse
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock_path(warehouse))], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setenv("ZENGSHOU_WAREHOUSE_LOCK_TIMEOUT", "0")
        failed = _run_for(request, instance)
    finally:
        holder.kill()
        holder.wait()
    assert not failed.success
    from dagster_project.alerts.dispatch import step_error

    errors = [step_error(e)[2] for e in failed.all_events if e.is_step_failure]
    assert any("in use by another zengshou run" in m for m in errors), errors

    # Next tick: the same content is still to load, but the backoff after one failure (60 s) has not passed.
    waiting = tick("monitoring_landing_sensor", instance, first.cursor)
    assert waiting.run_requests == [] and "retrying in" in waiting.skip_message
    assert orchestration_sensors.retry_delay(1) == 60 and orchestration_sensors.retry_delay(3) == 240
    assert orchestration_sensors.retry_delay(10) == 3600

    # Once the backoff has passed, it is requested again, under a run key Dagster has not seen.
    monkeypatch.setattr(orchestration_sensors, "retry_delay", lambda failures: 0.0)
    retry = tick("monitoring_landing_sensor", instance, waiting.cursor)
    [again] = retry.run_requests
    assert again.partition_key == "2023-01" and again.run_key != request.run_key
    monkeypatch.setenv("ZENGSHOU_WAREHOUSE_LOCK_TIMEOUT", "30")
    assert _run_for(again, instance).success
    assert tick("monitoring_landing_sensor", instance, retry.cursor).run_requests == []


def test_a_month_half_loaded_by_a_run_still_going_is_not_requested_again(landing: Landing):
    """A tick between the two steps of a month's run (households published, members not yet) sees only
    the members still to load: it must not request them while that run is going (the daemon test, with
    ticks every 5 s, had a second 2022-12 run for it), and must once the run has ended without them."""
    instance = dg.DagsterInstance.ephemeral()
    write_month(landing, "2023-01")
    first = tick("monitoring_landing_sensor", instance, None)
    [request] = first.run_requests
    job = full_defs().resolve_job_def(MONITORING_JOB)
    # The requested run: started, its households step done (published), its members step not yet.
    running = instance.create_run_for_job(job, tags={**request.tags, "dagster/partition": "2023-01"},
                                          status=dg.DagsterRunStatus.STARTED)
    households = job.execute_in_process(instance=instance, partition_key="2023-01", asset_selection=[HOUSEHOLDS],
                                        raise_on_error=False)
    assert households.success

    during = tick("monitoring_landing_sensor", instance, first.cursor)
    assert during.run_requests == [] and "is queued or running" in during.skip_message, during.skip_message

    instance.report_run_failed(running)  # killed before its members step
    after = tick("monitoring_landing_sensor", instance, during.cursor)
    assert [(r.partition_key, r.asset_selection) for r in after.run_requests] == [("2023-01", [MEMBERS])]


def test_a_load_rejected_for_a_data_reason_is_not_retried_until_the_file_changes(landing: Landing,
                                                                                monkeypatch: pytest.MonkeyPatch):
    from tests.knownanswer.landing import FileStyle

    instance = dg.DagsterInstance.ephemeral()
    monkeypatch.setattr(orchestration_sensors, "retry_delay", lambda failures: 0.0)
    landing.write_members("2023-01", members_rows("2023-01"), FileStyle(drop_columns=("证件号码",)))
    landing.write_households("2023-01", households_rows("2023-01"))
    first = tick("monitoring_landing_sensor", instance, None)
    [request] = first.run_requests
    result = _run_for(request, instance)
    assert not result.success  # the members batch is rejected: its blocking check fails the run
    # Rejected and recorded in meta.load_batches: not requested again, however often the sensor looks.
    assert tick("monitoring_landing_sensor", instance, first.cursor).run_requests == []
    assert tick("monitoring_landing_sensor", instance, None).run_requests == []
    # The fixed export is a new file: requested, members only (households were published).
    landing.write_members("2023-01", members_rows("2023-01"))
    fixed = tick("monitoring_landing_sensor", instance, first.cursor)
    assert [(r.partition_key, r.asset_selection) for r in fixed.run_requests] == [("2023-01", [MEMBERS])]


# ---------------------------------------------------------------------------------------------------
# The alert sensor's feed of finished runs: public Dagster API only
# ---------------------------------------------------------------------------------------------------
@dg.op
def _fine_op() -> None:
    pass


@dg.op
def _broken_op() -> None:
    raise RuntimeError("broken on purpose")


@dg.job
def fine() -> None:
    _fine_op()


@dg.job
def broken() -> None:
    _broken_op()


def test_the_feed_of_finished_runs_starts_from_now_and_misses_none():
    """asset_check_alerts reads the runs that finished after its cursor (success and failure), oldest
    first; its first tick starts after the newest finished run, so history is not alerted on again."""
    instance = dg.DagsterInstance.ephemeral()
    assert orchestration_sensors.last_finished_run_id(instance) == 0
    old = fine.execute_in_process(instance=instance)
    start = orchestration_sensors.last_finished_run_id(instance)
    assert orchestration_sensors.finished_runs(instance, 0)[0] == [(start, old.run_id)]

    failed = broken.execute_in_process(instance=instance, raise_on_error=False)
    succeeded = fine.execute_in_process(instance=instance)
    runs, cursor = orchestration_sensors.finished_runs(instance, start)
    assert [run_id for _, run_id in runs] == [failed.run_id, succeeded.run_id]
    assert cursor == runs[-1][0] == orchestration_sensors.last_finished_run_id(instance)
    assert orchestration_sensors.finished_runs(instance, cursor) == ([], cursor)
    assert [r for _, r in orchestration_sensors.finished_runs(instance, start, job_names=("broken",))[0]] == [
        failed.run_id]


def test_no_private_dagster_api():
    """Dagster's private modules (underscore-prefixed) change without notice between releases: none is used."""
    root = Path(__file__).resolve().parent.parent
    offenders = [f"{p.relative_to(root)}:{n}" for folder in ("dagster_project", "tests", "bench")
                 for p in sorted((root / folder).rglob("*.py"))
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if ("dagster." + "_") in line or ("from dagster" + "._") in line]
    assert offenders == []
