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
from dagster_project.settings import DEFAULT_SENSOR_INTERVAL_SECONDS


def _run_failure_tick(context: dg.RunFailureSensorContext, alerts: AlertsResource):
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


def _asset_check_tick(context: dg.SensorEvaluationContext, alerts: AlertsResource):
    from dagster_project.orchestration.sensors import finished_runs, last_finished_run_id

    config = alerts.config()
    if context.cursor is None:
        # First tick: start from now rather than alerting on the whole history of the instance.
        start = last_finished_run_id(context.instance)
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


def alert_sensors(interval: int = DEFAULT_SENSOR_INTERVAL_SECONDS) -> list[dg.SensorDefinition]:
    """Both alert sensors with ``minimum_interval_seconds=interval`` (Settings.sensor_interval_seconds, as the
    landing and marts sensors: orchestration.sensors.orchestration_sensors)."""
    running = dg.DefaultSensorStatus.RUNNING
    return [
        dg.run_failure_sensor(
            name="run_failure_alerts", minimum_interval_seconds=interval, default_status=running,
            description="A failed run (other than by a failed blocking check, which asset_check_alerts reports) → "
                        "an alert to ZENGSHOU_ALERT_WEBHOOK_URL.",
        )(_run_failure_tick),
        dg.sensor(
            name="asset_check_alerts", minimum_interval_seconds=interval, default_status=running,
            description="Failed asset checks (batch_accepted, pull_accepted, unusual values, dbt tests, GE suites) "
                        "of every finished run → one alert each to ZENGSHOU_ALERT_WEBHOOK_URL, once per batch.",
        )(_asset_check_tick),
    ]


# At the default interval, for the tests that call a sensor directly.
run_failure_alerts, asset_check_alerts = alert_sensors()
