"""The four webhook formats of SPEC §5 (ZENGSHOU_ALERT_FORMAT): the JSON body each robot expects."""

from __future__ import annotations

from typing import Any

from dagster_project.alerts.model import Alert

FORMATS = ("dingtalk", "wecom", "slack", "generic")
WECOM_MAX_BYTES = 4000  # the WeCom robot refuses markdown content above 4096 bytes


def _markdown_lines(alert: Alert, bullet: str) -> list[str]:
    return [f"{bullet}**{label}**：{value}" for label, value in alert.fields() if label != "运行"]


def dingtalk(alert: Alert) -> dict[str, Any]:
    """DingTalk custom robot, markdown message. The title starts with 【…告警】 so a robot secured by the
    keyword 告警 accepts it."""
    text = "\n".join([f"### {alert.title}", "", *_markdown_lines(alert, "- "), "",
                      f"[在 Dagster 中查看运行 {alert.run_id[:8]}]({alert.run_url})"])
    return {"msgtype": "markdown", "markdown": {"title": alert.title, "text": text}}


def wecom(alert: Alert) -> dict[str, Any]:
    """WeCom (企业微信) group robot, markdown message."""
    color = "warning" if alert.severity == "ERROR" else "comment"
    lines = [f'## <font color="{color}">{alert.title}</font>', *_markdown_lines(alert, "> ")]
    link = f"[在 Dagster 中查看运行 {alert.run_id[:8]}]({alert.run_url})"
    content = "\n".join(lines)
    budget = WECOM_MAX_BYTES - len(link.encode()) - 8
    if len(content.encode()) > budget:
        content = content.encode()[:budget].decode(errors="ignore") + "…"
    return {"msgtype": "markdown", "markdown": {"content": content + "\n" + link}}


def slack(alert: Alert) -> dict[str, Any]:
    """Slack incoming webhook: a plain-text fallback plus one mrkdwn section."""
    body = "\n".join(f"*{label}*：{value}" for label, value in alert.fields() if label != "运行")
    link = f"<{alert.run_url}|在 Dagster 中查看运行 {alert.run_id[:8]}>"
    return {
        "text": f"{alert.title} {alert.run_url}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": alert.title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": body[:2900]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": link}},
        ],
    }


def generic(alert: Alert) -> dict[str, Any]:
    """Every field as JSON, plus a readable text, for anything else (a ticket system, a relay)."""
    text = "\n".join([alert.title, *(f"{label}：{value}" for label, value in alert.fields()), alert.run_url])
    return {**alert.as_dict(), "text": text}


RENDERERS = {"dingtalk": dingtalk, "wecom": wecom, "slack": slack, "generic": generic}


def render(alert: Alert, fmt: str) -> dict[str, Any]:
    try:
        return RENDERERS[fmt](alert)
    except KeyError:
        raise ValueError(f"unknown alert format {fmt!r}: one of {', '.join(FORMATS)}") from None
