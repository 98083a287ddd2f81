"""`zengshou run`: materialise, in-process through Dagster, every asset for every snapshot in the
landing dir that is new or changed, in dependency order, then say in one line how it went.

What is to do is decided by planning.plan, the planner the sensors use as well. Order: each new or
changed monthly snapshot (members + households) in its own partitioned run;
then the HR platform pull and the relief ledgers; then dbt, the marts' checks and publishing — only
when the raw tables differ from what the published marts were built from (ingest/load_state.py), so a
run over an unchanged landing dir changes nothing, and a run after one that died during dbt finishes
its work. The whole run holds the warehouse lock (ingest/warehouse_lock.py).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Callable

import dagster as dg
import duckdb

from dagster_project.alerts import alert_on_run_result
from dagster_project.alerts.dispatch import step_error
from dagster_project.assets.hr import hr_pull_outcome
from dagster_project.ingest.load_state import remember_file_hashes
from dagster_project.ingest.warehouse import check_warehouse_path, connect
from dagster_project.ingest.warehouse_lock import WarehouseBusy, warehouse_lock
from dagster_project.orchestration.jobs import MONITORING_JOB, REFRESH_JOB, TRANSFORM_JOB
from dagster_project.planning import MARTS, Plan, plan, read_state
from dagster_project.run_report import RunReport
from dagster_project.settings import Settings

log = logging.getLogger("zengshou.run")
dbt_log = logging.getLogger("zengshou.dbt")


class _LinesToLog(io.TextIOBase):
    """A text stream whose lines become INFO records of ``zengshou.dbt``.

    Why: dagster-dbt writes every dbt event to ``sys.stdout`` itself (≈ 550 lines a known-answer run),
    whatever the log level, so `zengshou run` from cron printed them all although ZENGSHOU_LOG_LEVEL
    (default WARNING) is the console's level. Through logging they follow that level: shown with INFO
    or DEBUG, and in `zengshou demo`'s log file (which logs at INFO)."""

    def __init__(self) -> None:
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        *lines, self._pending = (self._pending + text).split("\n")
        for line in lines:
            if line.strip():
                dbt_log.info(line)
        return len(text)

    def flush(self) -> None:
        if self._pending.strip():
            dbt_log.info(self._pending)
        self._pending = ""


def _check_failures(result: dg.ExecuteInProcessResult) -> tuple[list[str], list[str], list[str]]:
    """(failed blocking checks with their reason, passed checks, failed non-blocking checks). Non-blocking
    checks (the marts' GE suites, warnings) are shown in the UI and alerted on, but do not fail
    `zengshou run`; the summary names them."""
    failed, passed, warned = [], [], []
    for evaluation in result.get_asset_check_evaluations():
        name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        meta = evaluation.metadata or {}
        reason = meta.get("reason")
        reason_text = getattr(reason, "value", reason) or ""
        if evaluation.passed:
            passed.append(name)
        elif evaluation.blocking:
            batch = getattr(meta.get("batch_id"), "value", None)
            failed.append(f"{name}{f' [{batch}]' if batch else ''}: {reason_text or 'check failed'}")
        else:
            warned.append(name)
    return failed, passed, warned


def _step_failures(result: dg.ExecuteInProcessResult) -> list[str]:
    out = []
    for event in result.all_events:
        if event.is_step_failure:
            _, _, root = step_error(event)  # the cause, not Dagster's "Error occurred while executing op"
            lines = [ln.strip() for ln in root.splitlines() if ln.strip()]
            text = lines[0] if lines else "step failed"
            if text.startswith(("dagster", "duckdb")):  # drop the class prefix: "dagster_project….X: reason"
                text = text.split(": ", 1)[-1]
            out.append(f"step {event.step_key} failed: {text}")
    return out


def _quiet(settings: Settings) -> dict:
    """Dagster's console logger at the level of ZENGSHOU_LOG_LEVEL (WARNING by default): the CLI's own
    output stays a few lines; every event is still stored on the instance for the UI."""
    return {"loggers": {"console": {"config": {"log_level": settings.log_level}}}}


def _execute(job: dg.JobDefinition, instance: dg.DagsterInstance, report: RunReport, settings: Settings,
             dbt_config: dict | None = None, **kwargs) -> bool:
    run_config = _quiet(settings)
    if dbt_config:  # the dbt asset's DbtBuildConfig (assets/transform.py)
        run_config["ops"] = {"zengshou_dbt": {"config": dbt_config}}
    with contextlib.redirect_stdout(_LinesToLog()) as dbt_lines:
        try:
            result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config, **kwargs)
        finally:
            dbt_lines.flush()
    report.run_ids.append(result.run_id)
    alert_on_run_result(settings, result)  # failed checks / runs -> webhook (deduplicated); never raises
    failed, _, warned = _check_failures(result)
    report.failures.extend(failed)
    report.warnings.extend(warned)
    report.failures.extend(_step_failures(result))
    if not result.success and not failed and not _step_failures(result):
        report.failures.append(f"run of {job.name} failed")
    return result.success and not failed


def run(settings: Settings, instance: dg.DagsterInstance | None = None,
        progress: Callable[[str], None] | None = None, full_refresh: bool = False) -> RunReport:
    """One `zengshou run`: holds the warehouse for its whole duration, so a second run (or a run the
    Dagster daemon launches meanwhile) waits for it or, for a second `zengshou run`, says so and stops."""
    settings.require_landing_dir()
    check_warehouse_path(settings.warehouse)
    try:
        with warehouse_lock(settings.warehouse, timeout=0, purpose="zengshou run"):
            return _run_locked(settings, instance, progress or (lambda line: log.info(line)), full_refresh)
    except WarehouseBusy as exc:
        report = RunReport()
        report.failures.append(str(exc))
        return report


def _run_locked(settings: Settings, instance: dg.DagsterInstance | None,
                progress: Callable[[str], None], full_refresh: bool = False) -> RunReport:
    from dagster_project.definitions import build_definitions

    # The same settings object the CLI checked: its resources are what every job of this run uses.
    defs = build_definitions(settings)
    instance = instance or _instance()
    report = RunReport()
    todo = plan_run(settings, report)
    months = [(m.month, m.asset_keys) for m in todo.months]

    monitoring_job = defs.resolve_job_def(MONITORING_JOB)
    for i, (month, keys) in enumerate(months, 1):
        kinds = ", ".join(k.path[-1].removeprefix("monitoring_") for k in keys)
        if _execute(monitoring_job, instance, report, settings, partition_key=month, asset_selection=keys):
            report.published.extend(f"{k.path[-1]}:{month}" for k in keys)
            progress(f"[{i}/{len(months)}] monitoring {month} ({kinds}): published")
        else:
            progress(f"[{i}/{len(months)}] monitoring {month} ({kinds}): FAILED (see the summary)")

    if todo.hr_pull_due or todo.ledgers:  # the pull is always due here: `zengshou run` pulls every run
        _refresh(defs.resolve_job_def(REFRESH_JOB), instance, report, settings, progress)

    # Rebuild when the raw tables differ from what the published marts were built from: new loads, and
    # also loads an earlier run made but never transformed (killed during dbt, disk full, dbt failed).
    outdated = plan(read_state(settings.warehouse, lock_timeout=settings.warehouse_lock_timeout),
                    settings.landing_dir, scope={MARTS},
                    settle=settings.landing_settle_seconds).marts_outdated
    if outdated or full_refresh:
        # --full-refresh: every snapshot month, even when nothing changed (month_plan.py)
        progress(f"building the marts (dbt build, checks, serving file, report): {outdated or 'asked for'} …")
        report.transformed = _execute(defs.resolve_job_def(TRANSFORM_JOB), instance, report, settings,
                                      dbt_config={"full_refresh": full_refresh})
        if rebuilt := _months_rebuilt(settings, report.run_ids[-1]):
            report.notes.append(rebuilt)
            progress(rebuilt)
        if served := _published(settings, report.run_ids[-1]):
            report.notes.append(served)
            progress(served)
        progress(f"marts: {'rebuilt and published' if report.transformed else 'FAILED (see the summary)'}")
    _remember_file_hashes(settings, todo)
    return report


def _remember_file_hashes(settings: Settings, todo: Plan) -> None:
    """Keep the hashes of the files this run's plan looked at in ``meta.file_hashes``, so the next run
    reads only files that are new or changed (load_state.py). Only a saving: when the warehouse cannot
    take it (not created, the disk full) the next run reads the files again, and this run goes on."""
    if not settings.warehouse.exists():
        return
    try:
        with connect(settings.warehouse, memory_limit=settings.duckdb_memory_limit,
                     lock_timeout=settings.warehouse_lock_timeout) as con:
            remember_file_hashes(con, todo.hashed)
    except (duckdb.Error, OSError, WarehouseBusy) as exc:
        log.warning(f"file hashes not kept for the next run (it reads the landed files again): {exc}")


def _months_rebuilt(settings: Settings, run_id: str) -> str | None:
    """'rebuilt 2023-03 (re-exported), 2024-03 (compares with 2023-03 …)' of the run's dbt build (None
    when it recorded none: it failed, or built only a subset)."""
    from dagster_project.ingest.warehouse import warehouse_reader
    from dagster_project.month_plan import months_rebuilt

    with warehouse_reader(settings.warehouse, settings.warehouse_lock_timeout) as con:
        rows = months_rebuilt(con, run_id) if con is not None else []
    if not rows:
        return None
    if rows[0][0] is None:
        return f"rebuilt every month ({rows[0][1].removeprefix('every month: ')})"
    return "rebuilt " + ", ".join(f"{m:%Y-%m} ({why})" for m, why in rows)


def _published(settings: Settings, run_id: str) -> str | None:
    """'published: serving file months 2023-06 (1234 rows written), postgres whole (…)' of the run's
    serving step (serving/changes.py): what each target took and how many rows it wrote. None when it
    published nothing."""
    from dagster_project.ingest.warehouse import warehouse_reader
    from dagster_project.serving.changes import published_in_run

    with warehouse_reader(settings.warehouse, settings.warehouse_lock_timeout) as con:
        rows = published_in_run(con, run_id) if con is not None else []
    if not rows:
        return None
    return "published: " + ", ".join(
        f"{target.split(':', 1)[0].replace('_', ' ')} {mode}{' ' + months if months else ''} ({n} rows written)"
        for target, mode, months, n in rows)


def _refresh(refresh: dg.JobDefinition, instance: dg.DagsterInstance, report: RunReport, settings: Settings,
             progress: Callable[[str], None]) -> None:
    """The HR pull and the new or changed ledgers (the relief asset loads exactly those), in one run."""
    before = len(report.failures)
    result = refresh.execute_in_process(instance=instance, raise_on_error=False, run_config=_quiet(settings))
    alert_on_run_result(settings, result)
    failed, _, warned = _check_failures(result)
    report.failures.extend(failed + _step_failures(result))
    report.warnings.extend(warned)
    hr_changed, hr_note = hr_pull_outcome(result)  # late rows and deletions leave the watermark as it was
    report.notes.extend([hr_note] if hr_note else [])
    if _relief_published(result):  # one ledger rejected must not hide another one published
        report.published.append("relief")
    if hr_changed:
        report.published.append("hr_platform")
    outcome = "FAILED (see the summary)" if len(report.failures) > before else "ok"
    progress(f"HR platform and 以工代赈 ledgers: {outcome}"
             f" ({'ledgers loaded' if 'relief' in report.published else 'no new ledger'}, "
             f"{'HR data changed' if hr_changed else 'nothing new in HR'})")



def plan_run(settings: Settings, report: RunReport) -> Plan:
    """The plan of this run (planning.plan, the one the sensors use too), written into the report: what
    was skipped (notes), months whose files are ambiguous, missing or out of range (each fails alone,
    with its reason), and files still being written (they wait for a later run; not a failure)."""
    the_plan = plan(read_state(settings.warehouse, lock_timeout=settings.warehouse_lock_timeout),
                    settings.landing_dir, settle=settings.landing_settle_seconds)
    report.skipped += the_plan.skipped
    for note in the_plan.skipped:
        log.info(note)
    report.failures += the_plan.problems
    report.waiting += the_plan.waiting
    return the_plan


def _plan_months(settings: Settings, report: RunReport) -> list[tuple[str, list[dg.AssetKey]]]:
    """(month, asset keys) to load, the report filled in by ``plan_run``. A month with one file missing
    loads the file that has landed (and fails for the other)."""
    return [(m.month, m.asset_keys) for m in plan_run(settings, report).months]


def _relief_published(result: dg.ExecuteInProcessResult) -> bool:
    """Did the refresh run publish at least one ledger (files loaded > files rejected)?"""
    for mat in result.get_asset_materialization_events():
        m = mat.materialization
        if m.asset_key.path[-1] == "relief_projects":
            meta = {k: getattr(v, "value", v) for k, v in (m.metadata or {}).items()}
            if int(meta.get("files_loaded") or 0) > int(meta.get("files_rejected") or 0):
                return True
    return False


def _instance() -> dg.DagsterInstance:
    """The persistent instance when DAGSTER_HOME is set (runs then show in the UI), else an ephemeral one."""
    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
