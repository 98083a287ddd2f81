"""`zengshou run`: materialise, in-process through Dagster, every asset for every snapshot in the
landing dir that is new or changed, in dependency order, then say in one line how it went.

Order: each new or changed monthly snapshot (members + households) in its own partitioned run;
then the HR platform pull and the relief ledgers; then dbt and the marts' checks — only when
something was published, so a run over an unchanged landing dir changes nothing.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

import dagster as dg

from dagster_project.alerts import alert_on_run_result
from dagster_project.assets.hr import hr_pull_outcome
from dagster_project.ingest.file_loads import is_new_or_changed
from dagster_project.ingest.file_sources import (
    MONITORING_HOUSEHOLDS,
    MONITORING_MEMBERS,
    LandingError,
    monitoring_file,
    monitoring_months,
    relief_files,
)
from dagster_project.settings import ConfigError, Settings

log = logging.getLogger("zengshou.run")


@dataclass
class RunReport:
    published: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    transformed: bool = False
    notes: list[str] = field(default_factory=list)  # e.g. what the HR pull changed, per kind

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    def summary(self) -> str:
        if self.failures:
            more = f" (and {len(self.failures) - 1} more)" if len(self.failures) > 1 else ""
            return f"FAILED: {self.failures[0]}{more}"
        if not self.published and not self.transformed:
            return "OK: nothing new or changed in the landing dir; the warehouse is unchanged"
        return (f"OK: {len(self.published)} batch(es) published"
                + ("; marts rebuilt" if self.transformed else "") + "".join(f"; {n}" for n in self.notes))


def _check_failures(result: dg.ExecuteInProcessResult) -> tuple[list[str], list[str]]:
    """(failed blocking checks with their reason, passed checks). Non-blocking checks (the marts' GE
    suites, warnings) are shown in the UI and alerted on, but do not fail `zengshou run`."""
    failed, passed = [], []
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
    return failed, passed


def _step_failures(result: dg.ExecuteInProcessResult) -> list[str]:
    out = []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            message = (error.message if error else "step failed").strip().splitlines()
            if error and error.cls_name == "Failure" and message:  # a deliberate one-line reason: no class path
                message[0] = message[0].removeprefix("dagster._core.definitions.events.Failure: ")
            out.append(f"step {event.step_key} failed: {message[0] if message else ''}")
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
    failed, _ = _check_failures(result)
    report.failures.extend(failed)
    report.failures.extend(_step_failures(result))
    if not result.success and not failed and not _step_failures(result):
        report.failures.append(f"run of {job.name} failed")
    return result.success and not failed


def run(settings: Settings, instance: dg.DagsterInstance | None = None) -> RunReport:
    settings.require_landing_dir()
    from dagster_project.definitions import MONITORING_JOB, REFRESH_JOB, TRANSFORM_JOB, defs

    instance = instance or _instance()
    report = RunReport()
    months: list[tuple[str, list[dg.AssetKey]]] = []
    try:
        for month in monitoring_months(settings.landing_dir):
            keys = []
            for source in (MONITORING_MEMBERS, MONITORING_HOUSEHOLDS):
                landed = monitoring_file(settings.landing_dir, month, source)
                if landed is None:
                    report.failures.append(f"monitoring/{month}: the {source.name.split('.')[1]} file has not landed")
                elif is_new_or_changed(settings, landed):
                    keys.append(dg.AssetKey(source.raw_table.split(".")))
            if keys:
                months.append((month, keys))
        relief_changed = any(is_new_or_changed(settings, f) for f in relief_files(settings.landing_dir))
    except LandingError as exc:
        raise ConfigError(str(exc)) from exc

    monitoring_job = defs.resolve_job_def(MONITORING_JOB)
    for month, keys in months:
        log.info("loading monitoring snapshot %s", month)
        if _execute(monitoring_job, instance, report, settings, partition_key=month, asset_selection=keys):
            report.published.extend(f"{k.path[-1]}:{month}" for k in keys)

    before = len(report.failures)
    refresh = defs.resolve_job_def(REFRESH_JOB)
    result = refresh.execute_in_process(instance=instance, raise_on_error=False, run_config=_quiet())
    alert_on_run_result(settings, result)
    failed, _ = _check_failures(result)
    report.failures.extend(failed + _step_failures(result))
    hr_changed, hr_note = hr_pull_outcome(result)  # late rows and deletions leave the watermark as it was
    report.notes.extend([hr_note] if hr_note else [])
    if relief_changed and len(report.failures) == before:
        report.published.append("relief")
    if hr_changed:
        report.published.append("hr_platform")

    warehouse_built = _marts_exist(settings)
    if report.published or not warehouse_built:
        log.info("building marts with dbt")
        report.transformed = _execute(defs.resolve_job_def(TRANSFORM_JOB), instance, report, settings)
    return report


def _instance() -> dg.DagsterInstance:
    """The persistent instance when DAGSTER_HOME is set (runs then show in the UI), else an ephemeral one."""
    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()


def _marts_exist(settings: Settings) -> bool:
    if not settings.warehouse.exists():
        return False
    import duckdb

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        query = ("SELECT count(*) FROM information_schema.tables"
                 " WHERE table_schema = 'marts' AND table_name = 'kpi_scorecard'")
        return bool(con.execute(query).fetchone()[0])
    finally:
        con.close()
