"""`zengshou run`: materialise, in-process through Dagster, every asset for every snapshot in the
landing dir that is new or changed, in dependency order, then say in one line how it went.

Order: each new or changed monthly snapshot (members + households) in its own partitioned run;
then the HR platform pull and the relief ledgers; then dbt, the marts' checks and publishing — only
when the raw tables differ from what the published marts were built from (ingest/load_state.py), so a
run over an unchanged landing dir changes nothing, and a run after one that died during dbt finishes
its work. The whole run holds the warehouse lock (ingest/warehouse_lock.py).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg

from dagster_project.alerts import alert_on_run_result
from dagster_project.alerts.dispatch import step_error
from dagster_project.assets.hr import hr_pull_outcome
from dagster_project.ingest.file_sources import (
    MONITORING_HOUSEHOLDS,
    MONITORING_MEMBERS,
    LandedFile,
    LandingError,
    landing_skips,
    monitoring_file,
    monitoring_months,
    not_landed_reason,
    relief_files,
    settling,
    settling_note,
)
from dagster_project.ingest.load_state import loaded_shas, marts_outdated
from dagster_project.ingest.readers import file_sha256
from dagster_project.ingest.warehouse import check_warehouse_path, warehouse_reader
from dagster_project.ingest.warehouse_lock import WarehouseBusy, warehouse_lock
from dagster_project.settings import Settings

log = logging.getLogger("zengshou.run")


@dataclass
class RunReport:
    published: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # failed non-blocking checks (not a failed run)
    skipped: list[str] = field(default_factory=list)  # not loaded, with the reason (printed as notes)
    waiting: list[str] = field(default_factory=list)  # files still being written: loaded by a later run
    transformed: bool = False
    notes: list[str] = field(default_factory=list)  # e.g. what the HR pull changed, per kind

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    def summary(self) -> str:
        """Notes first (what was skipped or is still being copied, and why), then one line per failure
        (each names its cause), or one status line. A file still being written is not a failure (exit 0):
        the next run loads it."""
        notes = "".join(f"note: {n}\n" for n in [*self.skipped, *self.waiting])
        waiting = (f"; {len(self.waiting)} file(s) still being written were not loaded (run again)"
                   if self.waiting else "")
        if self.failures:
            return notes + "\n".join(f"FAILED: {failure}" for failure in dict.fromkeys(self.failures))
        if not self.published and not self.transformed:
            if self.waiting:
                return f"{notes}OK: nothing loaded{waiting}; the warehouse is unchanged"
            return f"{notes}OK: nothing new or changed in the landing dir; the warehouse is unchanged"
        names = list(dict.fromkeys(self.warnings))
        warned = (f"; warnings raised by {len(names)} check(s), see the UI: {', '.join(names)}"
                  if names else "")
        return (f"{notes}OK: {len(self.published)} batch(es) published"
                + ("; marts rebuilt" if self.transformed else "") + waiting
                + "".join(f"; {n}" for n in self.notes) + warned)


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
             **kwargs) -> bool:
    result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=_quiet(settings), **kwargs)
    alert_on_run_result(settings, result)  # failed checks / runs -> webhook (deduplicated); never raises
    failed, _, warned = _check_failures(result)
    report.failures.extend(failed)
    report.warnings.extend(warned)
    report.failures.extend(_step_failures(result))
    if not result.success and not failed and not _step_failures(result):
        report.failures.append(f"run of {job.name} failed")
    return result.success and not failed


def run(settings: Settings, instance: dg.DagsterInstance | None = None,
        progress: Callable[[str], None] | None = None) -> RunReport:
    """One `zengshou run`: holds the warehouse for its whole duration, so a second run (or a run the
    Dagster daemon launches meanwhile) waits for it or, for a second `zengshou run`, says so and stops."""
    settings.require_landing_dir()
    check_warehouse_path(settings.warehouse)
    try:
        with warehouse_lock(settings.warehouse, timeout=0, purpose="zengshou run"):
            return _run_locked(settings, instance, progress or (lambda line: log.info(line)))
    except WarehouseBusy as exc:
        report = RunReport()
        report.failures.append(str(exc))
        return report


def _run_locked(settings: Settings, instance: dg.DagsterInstance | None,
                progress: Callable[[str], None]) -> RunReport:
    from dagster_project.definitions import MONITORING_JOB, REFRESH_JOB, TRANSFORM_JOB, build_definitions

    # The same settings object the CLI checked: its resources are what every job of this run uses.
    defs = build_definitions(settings)
    instance = instance or _instance()
    report = RunReport(skipped=landing_skips(settings.landing_dir))
    for note in report.skipped:
        log.info(note)
    with warehouse_reader(settings.warehouse) as con:
        loaded = loaded_shas(con) if con is not None else {}

    def to_load(f: LandedFile) -> bool:
        """The one notion of "already loaded" (ingest/load_state.py), shared with the sensors."""
        return loaded.get((f.source.name, f.partition_key)) != file_sha256(f.path)

    months = _plan_months(settings, report, to_load)
    settle = settings.landing_settle_seconds
    report.waiting += [settling_note(settings.landing_dir, f.path, settle=settle)
                       for f in relief_files(settings.landing_dir) if settling(f.path, settle=settle) and to_load(f)]

    monitoring_job = defs.resolve_job_def(MONITORING_JOB)
    for i, (month, keys) in enumerate(months, 1):
        kinds = ", ".join(k.path[-1].removeprefix("monitoring_") for k in keys)
        if _execute(monitoring_job, instance, report, settings, partition_key=month, asset_selection=keys):
            report.published.extend(f"{k.path[-1]}:{month}" for k in keys)
            progress(f"[{i}/{len(months)}] monitoring {month} ({kinds}): published")
        else:
            progress(f"[{i}/{len(months)}] monitoring {month} ({kinds}): FAILED (see the summary)")

    before = len(report.failures)
    refresh = defs.resolve_job_def(REFRESH_JOB)
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

    # Rebuild when the raw tables differ from what the published marts were built from: new loads, and
    # also loads an earlier run made but never transformed (killed during dbt, disk full, dbt failed).
    with warehouse_reader(settings.warehouse) as con:
        outdated = marts_outdated(con) if con is not None else "no warehouse yet"
    if outdated:
        progress(f"building the marts (dbt build, checks, serving file, report): {outdated} …")
        report.transformed = _execute(defs.resolve_job_def(TRANSFORM_JOB), instance, report, settings)
        progress(f"marts: {'rebuilt and published' if report.transformed else 'FAILED (see the summary)'}")
    return report


def _plan_months(settings: Settings, report: RunReport,
                 to_load: Callable[[LandedFile], bool]) -> list[tuple[str, list[dg.AssetKey]]]:
    """(month, asset keys) to load. A month whose files are ambiguous (members.csv and members.xlsx) or
    missing fails alone, with its reason; a month with a file still being written waits for a later run."""
    months: list[tuple[str, list[dg.AssetKey]]] = []
    for month in monitoring_months(settings.landing_dir):
        try:
            landed = [(s, monitoring_file(settings.landing_dir, month, s))
                      for s in (MONITORING_MEMBERS, MONITORING_HOUSEHOLDS)]
        except LandingError as exc:
            report.failures.append(str(exc))
            continue
        for source, f in landed:
            if f is None:
                report.failures.append(not_landed_reason(settings.landing_dir, month, source))
        files = [f for _source, f in landed if f is not None]
        settle = settings.landing_settle_seconds
        if busy := [f for f in files if settling(f.path, settle=settle)]:
            report.waiting += [settling_note(settings.landing_dir, f.path, settle=settle) for f in busy]
            continue
        keys = [dg.AssetKey(f.source.raw_table.split(".")) for f in files if to_load(f)]
        if keys:
            months.append((month, keys))
    return months


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
