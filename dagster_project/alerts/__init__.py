"""Alerts (SPEC §5 ZENGSHOU_ALERT_WEBHOOK_URL / ZENGSHOU_ALERT_FORMAT) when an asset check or a run fails."""

from dagster_project.alerts.dispatch import (
    AlertConfig,
    SendOutcome,
    alert_on_run_result,
    alerts_for_run,
    alerts_for_stored_run,
    send_alerts,
)
from dagster_project.alerts.formats import FORMATS, render
from dagster_project.alerts.model import Alert, check_alert, check_recovery_alert, run_failure_alert, run_url
from dagster_project.alerts.state import SentAlerts, state_path
from dagster_project.alerts.webhook import Delivery, RetryPolicy, post_json

__all__ = [
    "FORMATS",
    "Alert",
    "AlertConfig",
    "Delivery",
    "RetryPolicy",
    "SendOutcome",
    "SentAlerts",
    "alert_on_run_result",
    "alerts_for_run",
    "alerts_for_stored_run",
    "check_alert",
    "check_recovery_alert",
    "post_json",
    "render",
    "run_failure_alert",
    "run_url",
    "send_alerts",
    "state_path",
]
