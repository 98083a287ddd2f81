"""Alerts for real: a local HTTP server on 127.0.0.1 receives each format; failures are sent once per
batch; a webhook that answers 500 or a closed port never raises and is retried a bounded number of
times; and the messages built from real runs (a rejected monitoring batch, a crashed step) under both
`zengshou run` (alert_on_run_result) and the daemon's sensors."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.alerts import (
    AlertConfig,
    RetryPolicy,
    SentAlerts,
    alert_on_run_result,
    check_alert,
    send_alerts,
    state_path,
)
from dagster_project.alerts.sensors import asset_check_alerts, run_failure_alerts
from dagster_project.resources import build_resources
from dagster_project.settings import Settings, load_settings
from tests.knownanswer.landing import Landing, break_checksum
from tests.knownanswer.scenario import RELIEF_2023_06, households_rows, members_rows

FAST = RetryPolicy(attempts=3, delay=0.01, timeout=1.0)


# ---------------------------------------------------------------------------------------------------
# A webhook receiver on 127.0.0.1
# ---------------------------------------------------------------------------------------------------
@dataclass
class Receiver:
    base: str
    received: list[tuple[str, dict]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def bodies(self, path: str) -> list[dict]:
        return [body for p, body in self.received if p == path]


ANSWERS = {
    "/dingtalk": (200, {"errcode": 0, "errmsg": "ok"}),
    "/wecom": (200, {"errcode": 0, "errmsg": "ok"}),
    "/slack": (200, "ok"),
    "/generic": (204, ""),
    "/down": (500, "internal error"),
    "/refused-keyword": (200, {"errcode": 310000, "errmsg": "keywords not in content"}),
}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    received: list[tuple[str, dict]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length).decode("utf-8"))
            assert self.headers["Content-Type"].startswith("application/json")
            received.append((self.path, body))
            status, answer = ANSWERS.get(self.path, (404, "no such robot"))
            data = (json.dumps(answer) if isinstance(answer, dict) else answer).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}", received)
    finally:
        server.shutdown()
        server.server_close()


def settings_for(tmp_path: Path, url: str | None, fmt: str = "generic") -> Settings:
    env = {"ZENGSHOU_LANDING_DIR": str(tmp_path / "landing"), "ZENGSHOU_PII_SALT": "test-salt",
           "ZENGSHOU_WAREHOUSE": str(tmp_path / "warehouse" / "zengshou.duckdb"), "ZENGSHOU_ALERT_FORMAT": fmt}
    if url:
        env["ZENGSHOU_ALERT_WEBHOOK_URL"] = url
    return load_settings(env)


RUN_ID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


def rejected_batch_alert(batch: str = "monitoring.members:2023-03:abcdef012345"):
    return check_alert(
        asset="raw/monitoring_members", check="batch_accepted", passed=False, severity="ERROR", blocking=True,
        metadata={"batch_id": batch, "rows_read": 300, "rows_quarantined": 300,  # a rejected batch: all rows
                  "reason": "隔离比例 4.00% 超过上限 2.00%（12/300 行）",
                  "ge_failed": ["unexpected_rows_expectation(id_checksum): 12"]},
        run_id=RUN_ID, job="monitoring_snapshot", partition="2023-03",
        rows_by_rule={"id_checksum": 12}, base_url="http://ui.example:3000",
    )


# ---------------------------------------------------------------------------------------------------
# The four formats
# ---------------------------------------------------------------------------------------------------
def _common(text: str) -> None:
    for expected in ("【数据质量告警】", "raw/monitoring_members", "batch_accepted",
                     "monitoring.members:2023-03:abcdef012345", "2023-03", "id_checksum: 12 行", "12 / 300",
                     "隔离比例 4.00%", f"http://ui.example:3000/runs/{RUN_ID}"):
        assert expected in text, (expected, text)


@pytest.mark.parametrize("fmt", ["dingtalk", "wecom", "slack", "generic"])
def test_each_format_reaches_the_webhook(tmp_path: Path, receiver: Receiver, fmt: str):
    settings = settings_for(tmp_path, receiver.url(f"/{fmt}"), fmt)
    [outcome] = send_alerts([rejected_batch_alert()], settings, policy=FAST)
    assert outcome.status == "sent", outcome.error
    [body] = receiver.bodies(f"/{fmt}")
    if fmt == "dingtalk":
        assert body["msgtype"] == "markdown"
        assert body["markdown"]["title"].startswith("【数据质量告警】")
        _common(body["markdown"]["text"])
    elif fmt == "wecom":
        assert body["msgtype"] == "markdown"
        assert len(body["markdown"]["content"].encode()) <= 4096
        _common(body["markdown"]["content"])
    elif fmt == "slack":
        assert body["text"].startswith("【数据质量告警】")
        assert [b["type"] for b in body["blocks"]] == ["header", "section", "section"]
        _common(json.dumps(body, ensure_ascii=False))
        assert f"<http://ui.example:3000/runs/{RUN_ID}|" in body["blocks"][2]["text"]["text"]
    else:
        assert body["kind"] == "asset_check" and body["severity"] == "ERROR" and body["blocking"] is True
        assert body["asset"] == "raw/monitoring_members" and body["check"] == "batch_accepted"
        assert body["batch_id"] == "monitoring.members:2023-03:abcdef012345" and body["partition"] == "2023-03"
        assert (body["failing_rows"], body["total_rows"]) == (12, 300)
        assert body["run_url"] == f"http://ui.example:3000/runs/{RUN_ID}"
        _common(body["text"])


def test_the_same_failure_is_sent_once_per_batch(tmp_path: Path, receiver: Receiver):
    settings = settings_for(tmp_path, receiver.url("/generic"))
    assert [o.status for o in send_alerts([rejected_batch_alert()], settings, policy=FAST)] == ["sent"]
    # Again, from another process's point of view (a new store object on the same file): not sent.
    assert [o.status for o in send_alerts([rejected_batch_alert()], settings, policy=FAST)] == ["duplicate"]
    # Another batch of the same month (changed content) is a new failure.
    other = rejected_batch_alert("monitoring.members:2023-03:99999999aaaa")
    assert [o.status for o in send_alerts([other], settings, policy=FAST)] == ["sent"]
    assert len(receiver.bodies("/generic")) == 2
    store = state_path(settings.warehouse)
    assert store == settings.warehouse.parent / "alerts_sent.sqlite" and store.exists()
    assert len(SentAlerts(store).keys()) == 2


def test_a_webhook_that_fails_never_raises_and_is_retried_a_bounded_number_of_times(tmp_path: Path,
                                                                                   receiver: Receiver):
    settings = settings_for(tmp_path, receiver.url("/down"))
    started = time.monotonic()
    [outcome] = send_alerts([rejected_batch_alert()], settings, policy=FAST)
    assert outcome.status == "failed" and "HTTP 500" in outcome.error
    assert len(receiver.bodies("/down")) == FAST.attempts
    assert time.monotonic() - started < 2
    # Not delivered, so not marked as sent: a later attempt to a working webhook delivers it.
    assert SentAlerts(state_path(settings.warehouse)).keys() == []
    fixed = settings_for(tmp_path, receiver.url("/generic"))
    assert [o.status for o in send_alerts([rejected_batch_alert()], fixed, policy=FAST)] == ["sent"]

    # A robot that refuses the message (errcode != 0 with HTTP 200): failed, and not retried pointlessly.
    refused = settings_for(tmp_path, receiver.url("/refused-keyword"), "dingtalk")
    [outcome] = send_alerts([rejected_batch_alert("b2")], refused, policy=FAST)
    assert outcome.status == "failed" and "310000" in outcome.error
    assert len(receiver.bodies("/refused-keyword")) == 1


def test_a_closed_port_never_raises(tmp_path: Path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = settings_for(tmp_path, f"http://127.0.0.1:{port}/robot/send", "wecom")
    started = time.monotonic()
    [outcome] = send_alerts([rejected_batch_alert()], settings, policy=FAST)
    assert outcome.status == "failed" and outcome.error
    assert time.monotonic() - started < 2


def test_without_a_webhook_alerts_go_to_the_log(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    settings = settings_for(tmp_path, None)
    with caplog.at_level("WARNING", logger="zengshou.alerts"):
        [outcome] = send_alerts([rejected_batch_alert()], settings, policy=FAST)
    assert outcome.status == "logged"
    assert "【数据质量告警】" in caplog.text


def test_the_settings_set_the_retry_policy_and_the_ui_url(tmp_path: Path):
    base = {"ZENGSHOU_WAREHOUSE": str(tmp_path / "w.duckdb")}
    config = AlertConfig.of(load_settings({**base, "ZENGSHOU_ALERT_ATTEMPTS": "5", "ZENGSHOU_ALERT_RETRY_DELAY": "0.5",
                                           "ZENGSHOU_ALERT_TIMEOUT": "2",
                                           "ZENGSHOU_UI_URL": "https://dagster.example.gov.cn/"}))
    assert config.policy == RetryPolicy(attempts=5, delay=0.5, timeout=2.0)
    alert = check_alert(asset="a", check="c", passed=False, severity="WARN", blocking=False, metadata={},
                        run_id="r1", job="j", partition=None, base_url=config.ui_url)
    assert alert.run_url == "https://dagster.example.gov.cn/runs/r1"
    default = AlertConfig.of(load_settings(base))
    assert default.policy == RetryPolicy() and default.state == tmp_path / "alerts_sent.sqlite"
    assert check_alert(asset="a", check="c", passed=False, severity="WARN", blocking=False, metadata={},
                       run_id="r1", job="j", partition=None, base_url=default.ui_url).run_url \
        == "http://127.0.0.1:3000/runs/r1"
    # The same values reach the sensors through the alerts resource.
    assert build_resources(load_settings({**base, "ZENGSHOU_ALERT_ATTEMPTS": "5", "ZENGSHOU_ALERT_RETRY_DELAY": "0.5",
                                          "ZENGSHOU_ALERT_TIMEOUT": "2",
                                          "ZENGSHOU_UI_URL": "https://dagster.example.gov.cn/"}))["alerts"].config() \
        == config
    assert check_alert(asset="a", check="c", passed=True, severity="WARN", blocking=False, metadata={},
                       run_id="r1", job="j", partition=None) is None


# ---------------------------------------------------------------------------------------------------
# From real runs: `zengshou run` (in-process) and the daemon's sensors, sharing the dedupe store
# ---------------------------------------------------------------------------------------------------
@pytest.fixture
def env(tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("ZENGSHOU_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("ZENGSHOU_WAREHOUSE", str(tmp_path / "warehouse" / "zengshou.duckdb"))
    monkeypatch.setenv("ZENGSHOU_ALERT_WEBHOOK_URL", receiver.url("/generic"))
    monkeypatch.setenv("ZENGSHOU_ALERT_FORMAT", "generic")
    monkeypatch.setenv("ZENGSHOU_ALERT_ATTEMPTS", "2")
    monkeypatch.setenv("ZENGSHOU_ALERT_RETRY_DELAY", "0.01")
    monkeypatch.setenv("ZENGSHOU_UI_URL", "http://dagster.test:3000")
    return load_settings()


def _alerts_once_from_sensor_and_from_zengshou_run(env: Settings, receiver: Receiver, job_name: str,
                                                   **execute: object) -> tuple[dict, dg.ExecuteInProcessResult]:
    """Run the job (a batch of it is rejected) with the daemon's check-alert sensor watching, then give
    the same result to `zengshou run`'s hook: exactly one message reaches the webhook."""
    from dagster_project.definitions import defs

    resources = build_resources(env)
    instance = dg.DagsterInstance.ephemeral()
    first = asset_check_alerts(dg.build_sensor_context(instance=instance, resources=resources))
    assert first.cursor is not None and not receiver.received  # starts from now

    result = defs().resolve_job_def(job_name).execute_in_process(instance=instance, raise_on_error=False, **execute)
    assert not result.success  # the blocking batch_accepted check failed
    assert [c.check_name for c in result.get_asset_check_evaluations() if not c.passed] == ["batch_accepted"]

    tick = asset_check_alerts(dg.build_sensor_context(instance=instance, cursor=first.cursor, resources=resources))
    bodies = receiver.bodies("/generic")
    assert len(bodies) == 1, bodies
    body = bodies[0]
    assert body["kind"] == "asset_check" and body["check"] == "batch_accepted" and body["blocking"] is True
    assert body["title"].startswith("【数据质量告警】")
    assert body["reason"] and body["rule"]
    assert body["run_url"] == f"http://dagster.test:3000/runs/{result.run_id}"

    # The sensor again, and `zengshou run`'s hook on the same result: nothing new is sent.
    again = asset_check_alerts(dg.build_sensor_context(instance=instance, cursor=tick.cursor, resources=resources))
    assert again.run_requests == [] and len(receiver.received) == 1
    outcomes = alert_on_run_result(env, result)
    # Only the check alert: the run failed because of that blocking check, which says it all.
    assert [(o.alert.kind, o.status) for o in outcomes] == [("asset_check", "duplicate")]
    assert len(receiver.received) == 1
    return body, result


def test_a_rejected_ledger_alerts_once_from_the_sensor_and_from_zengshou_run(env: Settings, receiver: Receiver):
    rows = [dict(r) for r in RELIEF_2023_06]
    rows[1]["中央资金（万元）"] = "abc"  # 1 of 4 rows breaks invalid_number: 25% > 2%, the file is rejected
    Landing(env.landing_dir).write_relief(2023, "2023-06", rows)
    body, _ = _alerts_once_from_sensor_and_from_zengshou_run(
        env, receiver, "refresh_warehouse", asset_selection=[dg.AssetKey(["raw", "relief_projects"])])
    assert body["asset"] == "raw/relief_projects" and body["job"] == "refresh_warehouse"
    assert body["batch_id"] == "2023/2023-06.csv"
    assert (body["failing_rows"], body["total_rows"]) == (1, 4)
    assert "25.00%" in body["reason"]


def test_a_rejected_monthly_batch_alerts_once_from_the_sensor_and_from_zengshou_run(env: Settings,
                                                                                   receiver: Receiver):
    landing = Landing(env.landing_dir)
    rows = members_rows("2023-01")
    for row in rows[:3]:
        row["证件号码"] = break_checksum(row["证件号码"])
    landing.write_members("2023-01", rows)
    landing.write_households("2023-01", households_rows("2023-01"))
    body, _ = _alerts_once_from_sensor_and_from_zengshou_run(env, receiver, "monitoring_snapshot",
                                                             partition_key="2023-01")
    assert body["asset"] == "raw/monitoring_members"
    assert body["batch_id"].startswith("monitoring.members:2023-01:") and body["partition"] == "2023-01"
    assert (body["failing_rows"], body["total_rows"]) == (3, len(rows))


@dg.op
def crash() -> None:
    raise ConnectionError("HR database unreachable: connection refused")


@dg.job
def crashing_job() -> None:
    crash()


def test_a_crashed_run_alerts_once_from_zengshou_run_and_from_the_run_failure_sensor(env: Settings,
                                                                                     receiver: Receiver):
    instance = dg.DagsterInstance.ephemeral()
    result = crashing_job.execute_in_process(instance=instance, raise_on_error=False)
    outcomes = alert_on_run_result(env, result)
    assert [(o.alert.kind, o.status) for o in outcomes] == [("run_failure", "sent")]
    [body] = receiver.bodies("/generic")
    assert body["title"].startswith("【运行失败告警】crashing_job")
    assert "crash" in body["reason"] and "HR database unreachable" in body["reason"]
    assert body["run_url"] == f"http://dagster.test:3000/runs/{result.run_id}"

    failure_event = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alerts", dagster_event=failure_event, dagster_instance=instance,
        dagster_run=result.dagster_run, resources=build_resources(env)).for_run_failure()
    run_failure_alerts(context)
    assert len(receiver.received) == 1  # same run: deduplicated

    fresh = crashing_job.execute_in_process(instance=instance, raise_on_error=False)
    failure_event = next(e for e in fresh.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    run_failure_alerts(dg.build_run_status_sensor_context(
        sensor_name="run_failure_alerts", dagster_event=failure_event, dagster_instance=instance,
        dagster_run=fresh.dagster_run, resources=build_resources(env)).for_run_failure())
    assert len(receiver.received) == 2
    assert receiver.received[1][1]["run_id"] == fresh.run_id


# ---------------------------------------------------------------------------------------------------
# A check that is not about one batch (a mart's GE suite, a dbt test) alerts when it starts failing and
# when it recovers, not on every run while it keeps failing
# ---------------------------------------------------------------------------------------------------
MART = dg.AssetKey(["marts", "pin_mart"])


def _mart_job(flag: Path) -> dg.JobDefinition:
    """A mart asset with a non-blocking WARN check that fails while ``flag`` holds 'fail'."""

    @dg.asset(key=MART)
    def pin_mart() -> None:
        return None

    @dg.asset_check(asset=MART, name="ge_suite")
    def pin_check() -> dg.AssetCheckResult:
        failing = flag.read_text() == "fail"
        return dg.AssetCheckResult(passed=not failing, severity=dg.AssetCheckSeverity.WARN,
                                   metadata={"ge_suite": "marts.pin_mart", "ge_evaluated": 5,
                                             "ge_successful": 4 if failing else 5})

    return dg.Definitions(assets=[pin_mart], asset_checks=[pin_check],
                          jobs=[dg.define_asset_job("pin_job")]).resolve_job_def("pin_job")


def test_a_mart_check_alerts_when_it_starts_failing_and_when_it_recovers(env: Settings, receiver: Receiver,
                                                                         tmp_path: Path):
    flag = tmp_path / "flag"
    job = _mart_job(flag)
    instance = dg.DagsterInstance.ephemeral()

    def run(state: str) -> list[tuple[str, str]]:
        flag.write_text(state)
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        assert result.success  # a WARN check never fails the run
        return [(o.alert.kind, o.status) for o in alert_on_run_result(env, result)]

    assert run("pass") == []                                    # never failed: nothing to say
    assert run("fail") == [("asset_check", "sent")]             # starts failing
    assert run("fail") == [("asset_check", "ongoing")]          # keeps failing: no new message
    assert run("fail") == [("asset_check", "ongoing")]
    assert run("pass") == [("check_recovered", "sent")]         # recovers
    assert run("pass") == []
    assert run("fail") == [("asset_check", "sent")]             # fails again: a new failure
    bodies = receiver.bodies("/generic")
    assert [b["title"] for b in bodies] == ["【数据质量告警】marts/pin_mart · ge_suite",
                                            "【数据质量告警解除】marts/pin_mart · ge_suite",
                                            "【数据质量告警】marts/pin_mart · ge_suite"]
    assert "告警" in bodies[1]["title"]  # a DingTalk robot secured by the keyword 告警 accepts it too
    assert bodies[0]["failing_rows"] == 1 and bodies[1]["kind"] == "check_recovered"


def test_the_daemon_sensor_and_zengshou_run_share_the_check_state(env: Settings, receiver: Receiver,
                                                                  tmp_path: Path):
    flag = tmp_path / "flag"
    job = _mart_job(flag)
    instance = dg.DagsterInstance.ephemeral()
    resources = build_resources(env)
    cursor = asset_check_alerts(dg.build_sensor_context(instance=instance, resources=resources)).cursor

    def tick() -> None:
        nonlocal cursor
        cursor = asset_check_alerts(dg.build_sensor_context(instance=instance, cursor=cursor,
                                                            resources=resources)).cursor

    flag.write_text("fail")
    first = job.execute_in_process(instance=instance, raise_on_error=False)
    tick()
    assert len(receiver.received) == 1
    assert [o.status for o in alert_on_run_result(env, first)] == ["ongoing"]  # same run, via zengshou run
    job.execute_in_process(instance=instance, raise_on_error=False)
    tick()
    assert len(receiver.received) == 1  # still failing: silent
    flag.write_text("pass")
    job.execute_in_process(instance=instance, raise_on_error=False)
    tick()
    tick()
    assert [b["kind"] for _, b in receiver.received] == ["asset_check", "check_recovered"]


def test_without_a_webhook_a_failing_mart_check_is_logged_once(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    settings = settings_for(tmp_path, None)

    def failing(run_id: str):
        return check_alert(asset="marts/kpi_scorecard", check="ge_suite", passed=False, severity="WARN",
                           blocking=False, metadata={"ge_evaluated": 7, "ge_successful": 6}, run_id=run_id,
                           job="transform_marts", partition=None)

    with caplog.at_level("WARNING", logger="zengshou.alerts"):
        statuses = [o.status for r in ("r1", "r2", "r3") for o in send_alerts([failing(r)], settings)]
    assert statuses == ["logged", "ongoing", "ongoing"]
    assert caplog.text.count("【数据质量告警】marts/kpi_scorecard") == 1
    # A batch's failure is still alerted per batch (one message per rejected batch, as before).
    assert rejected_batch_alert().state_key is None


def test_an_unusual_values_warning_names_its_own_counts_not_the_quarantine_rules(
        env: Settings, receiver: Receiver, monkeypatch: pytest.MonkeyPatch):
    """2023-01 members with one broken ID (quarantined: id_checksum; 1/16 is within a limit of 10%) and an
    extra column 备注 on every row (an odd value no rule forbids: extra_columns_present). The warning counts
    the 15 published rows (the quarantined one is not in raw) and names that kind, not the batch's
    quarantine rule."""
    from dagster_project.definitions import defs
    from tests.knownanswer.landing import FileStyle

    monkeypatch.setenv("ZENGSHOU_MAX_REJECT_RATE", "0.10")

    landing = Landing(env.landing_dir)
    rows = members_rows("2023-01")
    rows.append(dict(rows[4], 姓名="坏号", 人口编号="bad-1", 证件号码=break_checksum(rows[4]["证件号码"])))
    landing.write_members("2023-01", rows, FileStyle(extra_columns={"备注": "核实无误"}))
    landing.write_households("2023-01", households_rows("2023-01"))
    result = defs().resolve_job_def("monitoring_snapshot").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, partition_key="2023-01")
    outcomes = alert_on_run_result(env, result)
    unusual = [o.alert for o in outcomes if o.alert.check == "unusual_values"]
    assert [a.asset for a in unusual] == ["raw/monitoring_members"], outcomes
    assert unusual[0].rule == "extra_columns_present: 15 行" and unusual[0].failing_rows == 15, unusual[0]
