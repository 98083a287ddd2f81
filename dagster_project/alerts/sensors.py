"""Alerts under `dagster dev` / the daemon: a run-failure sensor and a sensor on failed asset checks.

Both send through ``alerts.dispatch.send_alerts`` with the ``alerts`` resource (resources.AlertsResource:
ZENGSHOU_ALERT_WEBHOOK_URL in ZENGSHOU_ALERT_FORMAT), each failure once (dedupe keys shared with
`zengshou run`), and never an exception out of a webhook.

No ``from __future__ import annotations`` here: Dagster inspects the context parameters' annotations.
"""

import dagster as dg

from dagster_project.alerts.dispatch import PARTITION_TAG, alerts_for_stored_run, send_alerts, step_error
from dagster_project.alerts.model import CHECK_FAILED_ERROR, run_failure_alert
from dagster_project.resources import AlertsResource


@dg.run_failure_sensor(
    name="run_failure_alerts",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="A failed run (other than by a failed blocking check, which asset_check_alerts reports) → "
                "an alert to ZENGSHOU_ALERT_WEBHOOK_URL.",
)
def run_failure_alerts(context: dg.RunFailureSensorContext, alerts: AlertsResource):
    config = alerts.config()
    run = context.dagster_run
    errors = [step_error(event) for event in context.get_step_failure_events()]
    alert = run_failure_alert(run_id=run.run_id, job=run.job_name, partition=run.tags.get(PARTITION_TAG),
                              step_errors=errors, message=context.failure_event.message, base_url=config.ui_url)
    if alert is None:
        context.log.info(f"run {run.run_id} failed on blocking checks ({CHECK_FAILED_ERROR}): see asset_check_alerts")
        return
    for outcome in send_alerts([alert], config):
        context.log.info(f"{outcome.alert.dedupe_key}: {outcome.status} {outcome.error or ''}")


@dg.sensor(
    name="asset_check_alerts",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Failed asset checks (batch_accepted, pull_accepted, unusual values, dbt tests, GE suites) of "
                "every finished run → one alert each to ZENGSHOU_ALERT_WEBHOOK_URL, once per batch.",
)
def asset_check_alerts(context: dg.SensorEvaluationContext, alerts: AlertsResource):
    from dagster_project.orchestration.sensors import finished_runs

    config = alerts.config()
    if context.cursor is None:
        # First tick: start from now rather than alerting on the whole history of the instance.
        start = context.instance.event_log_storage.get_maximum_record_id() or 0
        return dg.SensorResult(cursor=str(start), skip_reason="alerts start from now")
    runs, cursor = finished_runs(context.instance, int(context.cursor))
    found = [a for _, run_id in runs for a in alerts_for_stored_run(context.instance, run_id,
                                                                    include_run_failure=False,
                                                                    base_url=config.ui_url)]
    outcomes = send_alerts(found, config)
    for outcome in outcomes:
        context.log.info(f"{outcome.alert.dedupe_key}: {outcome.status} {outcome.error or ''}")
    skip = None if outcomes else f"no failed asset check in {len(runs)} finished run(s)"
    return dg.SensorResult(cursor=str(cursor), skip_reason=skip)
