"""`zengshou run`: materialise, in-process through Dagster, every asset for every snapshot in the
landing dir that is new or changed, in dependency order, then say in one line how it went.

Order: each new or changed monthly snapshot (members + households) in its own partitioned run;
then the HR platform pull and the relief ledgers; then dbt and the marts' checks — only when
something was published, so a run over an unchanged landing dir changes nothing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg

from dagster_project.alerts import alert_on_run_result
from dagster_project.alerts.dispatch import step_error
from dagster_project.ingest.file_sources import (
    MONITORING_HOUSEHOLDS,
    MONITORING_MEMBERS,
    LandingError,
    monitoring_file,
    monitoring_months,
    relief_files,
)
from dagster_project.ingest.load_state import loaded_shas, marts_outdated
from dagster_project.ingest.readers import file_sha256
from dagster_project.ingest.warehouse import check_warehouse_path, warehouse_reader
from dagster_project.ingest.warehouse_lock import WarehouseBusy, warehouse_lock
from dagster_project.settings import ConfigError, Settings

log = logging.getLogger("zengshou.run")


@dataclass
class RunReport:
    published: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # failed non-blocking checks (not a failed run)
    skipped: list[str] = field(default_factory=list)
    transformed: bool = False

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    def summary(self) -> str:
        """One line per failure (each names its cause), or one line saying what was done."""
        if self.failures:
            return "\n".join(f"FAILED: {failure}" for failure in dict.fromkeys(self.failures))
        if not self.published and not self.transformed:
            return "OK: nothing new or changed in the landing dir; the warehouse is unchanged"
        names = list(dict.fromkeys(self.warnings))
        warned = (f"; {len(names)} warning check(s) failed (alerted; see the UI): {', '.join(names)}"
                  if names else "")
        return (f"OK: {len(self.published)} batch(es) published"
                + ("; marts rebuilt" if self.transformed else "") + warned)


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


def _quiet() -> dict:
    """Dagster's console logger at the level of ZENGSHOU_LOG_LEVEL (WARNING by default): the CLI's own
    output stays a few lines; every event is still stored on the instance for the UI."""
    level = os.environ.get("ZENGSHOU_LOG_LEVEL", "WARNING").upper()
    return {"loggers": {"console": {"config": {"log_level": level}}}}


def _execute(job: dg.JobDefinition, instance: dg.DagsterInstance, report: RunReport, settings: Settings,
             **kwargs) -> bool:
    result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=_quiet(), **kwargs)
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
    from dagster_project.definitions import MONITORING_JOB, REFRESH_JOB, TRANSFORM_JOB, defs

    instance = instance or _instance()
    report = RunReport()
    months: list[tuple[str, list[dg.AssetKey]]] = []
    with warehouse_reader(settings.warehouse) as con:
        loaded = loaded_shas(con) if con is not None else {}
    try:
        for month in monitoring_months(settings.landing_dir):
            keys = []
            for source in (MONITORING_MEMBERS, MONITORING_HOUSEHOLDS):
                landed = monitoring_file(settings.landing_dir, month, source)
                if landed is None:
                    report.failures.append(f"monitoring/{month}: the {source.name.split('.')[1]} file has not landed")
                elif loaded.get((source.name, landed.partition_key)) != file_sha256(landed.path):
                    keys.append(dg.AssetKey(source.raw_table.split(".")))
            if keys:
                months.append((month, keys))
        relief_changed = any(loaded.get((f.source.name, f.partition_key)) != file_sha256(f.path)
                             for f in relief_files(settings.landing_dir))
    except LandingError as exc:
        raise ConfigError(str(exc)) from exc

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
    result = refresh.execute_in_process(instance=instance, raise_on_error=False, run_config=_quiet())
    alert_on_run_result(settings, result)
    failed, _, warned = _check_failures(result)
    report.failures.extend(failed + _step_failures(result))
    report.warnings.extend(warned)
    hr_changed = any(
        (m := mat.materialization.metadata) and getattr(m.get("watermark_after"), "value", None)
        != getattr(m.get("watermark_before"), "value", None)
        for mat in result.get_asset_materialization_events()
        if mat.materialization.asset_key.path[-1].startswith("hr_")
    )
    if relief_changed and len(report.failures) == before:
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


def _instance() -> dg.DagsterInstance:
    """The persistent instance when DAGSTER_HOME is set (runs then show in the UI), else an ephemeral one."""
    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
