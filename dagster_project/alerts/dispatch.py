"""Send alerts once per failure, in the configured format, without ever failing the caller; and the
entry point for `zengshou run`, which executes jobs in-process and has no sensors."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import dagster as dg

from dagster_project.alerts.formats import render
from dagster_project.alerts.model import Alert, check_alert, check_recovery_alert, plain, run_failure_alert
from dagster_project.alerts.state import SentAlerts, state_path
from dagster_project.alerts.webhook import RetryPolicy, post_json
from dagster_project.settings import DEFAULT_UI_URL, Settings

log = logging.getLogger("zengshou.alerts")
PARTITION_TAG = "dagster/partition"


@dataclass
class SendOutcome:
    alert: Alert
    # sent | duplicate (this alert was sent before) | ongoing (the check was already failing, and that was
    # alerted when it started) | failed | logged (no webhook configured)
    status: str
    error: str | None = None


@dataclass(frozen=True)
class AlertConfig:
    """Where alerts go and how (resources.AlertsResource.config(), or ``AlertConfig.of(settings)``)."""

    webhook_url: str | None
    format: str
    state: Path                      # the SQLite file of what was sent (alerts/state.py)
    ui_url: str = DEFAULT_UI_URL     # alert links point at <ui_url>/runs/<run id>
    policy: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def of(cls, settings: Settings) -> AlertConfig:
        return cls(webhook_url=settings.alert_webhook_url, format=settings.alert_format,
                   state=state_path(settings.warehouse, settings.alert_state), ui_url=settings.ui_url,
                   policy=RetryPolicy(attempts=settings.alert_attempts, delay=settings.alert_retry_delay,
                                      timeout=settings.alert_timeout))


def _config(target: Settings | AlertConfig, state: Path | None, policy: RetryPolicy | None) -> AlertConfig:
    config = target if isinstance(target, AlertConfig) else AlertConfig.of(target)
    if state is not None:
        config = replace(config, state=state)
    if policy is not None:
        config = replace(config, policy=policy)
    return config


def send_alerts(alerts: Iterable[Alert], settings: Settings | AlertConfig, *, state: Path | None = None,
                policy: RetryPolicy | None = None) -> list[SendOutcome]:
    """Deliver each alert to the webhook (ZENGSHOU_ALERT_WEBHOOK_URL) unless it was delivered before (same
    dedupe key). Without a webhook the alert is logged. A check with a state (``Alert.state_key``) is
    alerted when it starts failing and when it recovers, not while it keeps failing; a "recovered"
    candidate of a check that was not failing says nothing and yields no outcome. Never raises."""
    outcomes: list[SendOutcome] = []
    config = _config(settings, state, policy)
    for alert in alerts:
        try:
            outcome = _send_stateful(alert, config) if alert.state_key else _send_one(alert, config)
        except Exception as exc:  # an alert must never break a run or a sensor
            log.exception("alert %s could not be sent", alert.dedupe_key)
            outcome = SendOutcome(alert, "failed", f"{type(exc).__name__}: {exc}")
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def _send_stateful(alert: Alert, config: AlertConfig) -> SendOutcome | None:
    """Alert on a change of the check's state only: failing after passing (or never seen), or passing
    after a failure that was alerted. The state is kept without a webhook too (the log then says it once)."""
    store = SentAlerts(config.state)
    key = alert.state_key or ""
    before = store.check_state(key)
    if alert.kind == "check_recovered":
        if before is None or not before.failing:
            return None
        if not before.announced:  # its failure never reached anyone: recover silently
            store.set_check_state(key, failing=False, announced=True, run_id=alert.run_id)
            return None
    elif before is not None and before.failing and before.announced:
        log.info("check %s is still failing (alerted when it started, %s)", key, before.changed_at)
        return SendOutcome(alert, "ongoing")
    outcome = _send_one(alert, config)
    failing = alert.kind != "check_recovered"
    if outcome.status in ("sent", "logged", "duplicate"):
        store.set_check_state(key, failing=failing, announced=True, run_id=alert.run_id)
    elif failing:  # not delivered: remember the failure, and try again at its next evaluation
        store.set_check_state(key, failing=True, announced=False, run_id=alert.run_id)
    return outcome


def _send_one(alert: Alert, config: AlertConfig) -> SendOutcome:
    summary = f"{alert.title} | {alert.reason or alert.rule or ''} | {alert.run_url}"
    if not config.webhook_url:
        log.warning("ALERT (no ZENGSHOU_ALERT_WEBHOOK_URL set): %s", summary)
        return SendOutcome(alert, "logged")
    sent = SentAlerts(config.state)
    if sent.was_sent(alert.dedupe_key):
        log.info("alert %s was already sent", alert.dedupe_key)
        return SendOutcome(alert, "duplicate")
    delivery = post_json(config.webhook_url, render(alert, config.format), config.policy)
    if delivery.ok:
        sent.mark_sent(alert.dedupe_key, config.format, alert.title, alert.run_id)
        log.info("alert sent (%s): %s", config.format, summary)
        return SendOutcome(alert, "sent")
    # Not marked as sent: a later evaluation of the same failure may deliver it.
    log.error("ALERT NOT DELIVERED (%s): %s", delivery.error, summary)
    return SendOutcome(alert, "failed", delivery.error)


def _rows_by_rule(materializations: Iterable[Any]) -> dict[str, dict[str, int]]:
    """asset key (user string) -> rows_by_rule metadata of its materialization in the run."""
    out: dict[str, dict[str, int]] = {}
    for mat in materializations:
        counts = plain((mat.metadata or {}).get("rows_by_rule"))
        if isinstance(counts, dict):
            out[mat.asset_key.to_user_string()] = {str(k): int(v) for k, v in counts.items() if v}
    return out


def alerts_for_run(
    *,
    run: dg.DagsterRun,
    check_evaluations: Iterable[Any],
    materializations: Iterable[Any] = (),
    step_failures: Iterable[tuple[str | None, str | None, str]] = (),
    run_failed: bool = False,
    base_url: str | None = None,
) -> list[Alert]:
    """Every alert a finished run deserves: one per failed asset check, a "recovered" candidate per passed
    check that is not about one batch (send_alerts drops it unless that check's failure was alerted),
    plus one for the run when it failed for another reason than a failed blocking check."""
    partition = run.tags.get(PARTITION_TAG)
    rules = _rows_by_rule(materializations)
    alerts: list[Alert] = []
    for ev in check_evaluations:
        asset = ev.asset_key.to_user_string()
        severity = getattr(ev.severity, "value", str(ev.severity))
        if ev.passed:  # a candidate: sent only if this check's failure was alerted before
            alert = check_recovery_alert(asset=asset, check=ev.check_name, severity=severity,
                                         metadata=ev.metadata or {}, run_id=run.run_id, job=run.job_name,
                                         partition=partition, base_url=base_url)
        else:
            alert = check_alert(asset=asset, check=ev.check_name, passed=ev.passed, severity=severity,
                                blocking=bool(getattr(ev, "blocking", False)), metadata=ev.metadata or {},
                                run_id=run.run_id, job=run.job_name, partition=partition,
                                rows_by_rule=_counts_of(ev, rules.get(asset)), base_url=base_url)
        if alert:
            alerts.append(alert)
    if run_failed:
        alert = run_failure_alert(run_id=run.run_id, job=run.job_name, partition=partition,
                                  step_errors=step_failures, base_url=base_url)
        if alert:
            alerts.append(alert)
    return alerts


def _counts_of(evaluation: Any, batch_rules: dict[str, int] | None) -> dict[str, int] | None:
    """The counts an alert names: the quarantine rules of the batch for the batch checks; for the
    unusual_values warning its own counts per kind of odd value (not the batch's quarantine rules)."""
    if evaluation.check_name == "unusual_values":
        counts = {str(k): plain(v) for k, v in (evaluation.metadata or {}).items()}
        return {k: int(v) for k, v in counts.items() if isinstance(v, int) and not isinstance(v, bool) and v}
    return batch_rules


def step_error(event: dg.DagsterEvent) -> tuple[str | None, str | None, str]:
    """(step key, error class, message of the root cause) of a step failure: Dagster wraps the user's
    exception in DagsterExecutionStepExecutionError, whose own message says only which op failed."""
    error = event.step_failure_data.error
    if error is None:
        return event.step_key, None, "step failed"
    root = error
    while root.cause is not None:
        root = root.cause
    return event.step_key, error.cls_name, root.message.strip()


def _step_errors(events: Iterable[dg.DagsterEvent]) -> list[tuple[str | None, str | None, str]]:
    return [step_error(event) for event in events if event.is_step_failure]


def alert_on_run_result(settings: Settings | AlertConfig, result: dg.ExecuteInProcessResult, *,
                        state: Path | None = None, policy: RetryPolicy | None = None) -> list[SendOutcome]:
    """For `zengshou run`: alert on the failed checks and the failure of one execute_in_process result.
    Never raises, whatever the webhook does."""
    config = _config(settings, state, policy)
    try:
        alerts = alerts_for_run(
            run=result.dagster_run,
            check_evaluations=result.get_asset_check_evaluations(),
            # a rejected batch is observed, not materialized: its rows_by_rule come with the observation
            materializations=[e.materialization for e in result.get_asset_materialization_events()]
            + [e.asset_observation_data.asset_observation for e in result.get_asset_observation_events()],
            step_failures=_step_errors(result.all_events),
            run_failed=not result.success,
            base_url=config.ui_url,
        )
    except Exception:
        log.exception("could not build alerts for run %s", getattr(result, "run_id", "?"))
        return []
    return send_alerts(alerts, config)


def alerts_for_stored_run(instance: dg.DagsterInstance, run_id: str, *, include_run_failure: bool,
                          base_url: str | None = None) -> list[Alert]:
    """The same alerts, read back from the instance's event log (for the daemon's sensors)."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        return []
    events = [e.dagster_event for e in instance.all_logs(run_id) if e.dagster_event is not None]
    return alerts_for_run(
        run=run,
        check_evaluations=[e.event_specific_data for e in events
                           if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION],
        materializations=[e.event_specific_data.materialization for e in events
                          if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION]
        + [e.event_specific_data.asset_observation for e in events
           if e.event_type == dg.DagsterEventType.ASSET_OBSERVATION],
        step_failures=_step_errors(events),
        run_failed=include_run_failure and run.status == dg.DagsterRunStatus.FAILURE,
        base_url=base_url,
    )
