"""What an alert says, independent of where it came from (the daemon's sensors or `zengshou run`) and of
the webhook format it is sent in."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from dagster_project.settings import DEFAULT_UI_URL

# Failures of blocking checks already explain a failed run; the check alert carries the details.
CHECK_FAILED_ERROR = "DagsterAssetCheckFailedError"
MAX_TEXT = 600  # characters kept of a reason or error text
# The loaders' reason for a batch rejected on its reject rate ends "（<rows breaking rules>/<rows read> 行）";
# every row of a rejected batch is quarantined, so rows_quarantined alone would say "all rows failed".
_REJECT_COUNTS = re.compile(r"（(\d+)/(\d+) 行）")


def run_url(run_id: str, base: str | None = None) -> str:
    """The run's page in the Dagster UI at ``base`` (the setting ZENGSHOU_UI_URL; default the local UI)."""
    return f"{(base or DEFAULT_UI_URL).rstrip('/')}/runs/{run_id}"


@dataclass
class Alert:
    kind: str                      # asset_check | check_recovered | run_failure
    title: str                     # 【数据质量告警】… / 【数据质量告警解除】… / 【运行失败告警】…
    severity: str                  # ERROR | WARN
    dedupe_key: str
    run_id: str
    run_url: str
    job: str | None = None
    asset: str | None = None
    check: str | None = None
    blocking: bool = False
    batch_id: str | None = None
    partition: str | None = None
    rule: str | None = None        # the failing rule(s), with their counts where known
    failing_rows: int | None = None
    total_rows: int | None = None
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # Checks that are not about one batch (the marts' GE suites, dbt tests, a month's unusual values)
    # keep a state under this key: they alert when they start failing and when they recover, not on
    # every run while they keep failing (dispatch.send_alerts). None = alerted once per batch / run.
    state_key: str | None = None
    occurred_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds"))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def fields(self) -> list[tuple[str, str]]:
        """(Chinese label, value) lines every format shows, in order; empty values left out."""
        kind = "阻断" if self.blocking else "非阻断"
        rows: list[tuple[str, str | None]] = [
            ("资产", self.asset),
            ("检查", f"{self.check}（{kind}，{self.severity}）" if self.check else None),
            ("作业", self.job),
            ("批次", self.batch_id),
            ("分区", self.partition),
            ("失败规则", self.rule),
            ("失败/总行数", _counts(self.failing_rows, self.total_rows)),
            ("原因", self.reason),
            ("运行", self.run_id),
            ("时间", self.occurred_at),
        ]
        return [(k, v) for k, v in rows if v not in (None, "")]


def _counts(failing: int | None, total: int | None) -> str | None:
    if failing is None and total is None:
        return None
    share = f"（{failing / total:.2%}）" if failing is not None and total else ""
    return f"{'?' if failing is None else failing} / {'?' if total is None else total}{share}"


def _clip(text: Any, limit: int = MAX_TEXT) -> str | None:
    if text is None:
        return None
    text = str(text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(value: Any) -> Any:
    """The Python value of a Dagster MetadataValue (or the value itself)."""
    if hasattr(value, "value"):
        value = value.value
    if hasattr(value, "data"):  # JsonMetadataValue in some versions
        value = value.data
    return value


def _int(value: Any) -> int | None:
    value = plain(value)
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


def _rule_text(meta: Mapping[str, Any], rows_by_rule: Mapping[str, int] | None) -> str | None:
    parts: list[str] = []
    if rows_by_rule:
        parts += [f"{rule}: {n} 行" for rule, n in sorted(rows_by_rule.items(), key=lambda kv: -int(kv[1])) if n]
    ge_failed = plain(meta.get("ge_failed"))
    if not parts and ge_failed:
        items = ge_failed if isinstance(ge_failed, list | tuple) else [ge_failed]
        parts += [str(x) for x in items]
    if not parts and plain(meta.get("rule")):
        parts.append(str(plain(meta.get("rule"))))
    return _clip("; ".join(parts[:8]) + (f"; 另有 {len(parts) - 8} 条" if len(parts) > 8 else "")) if parts else None


def _failing_rows(meta: Mapping[str, Any], reason: Any,
                  rows_by_rule: Mapping[str, int] | None) -> tuple[int | None, int | None]:
    """(rows breaking a rule, rows read) of a batch, from the most precise source available."""
    total = _int(meta.get("rows_read"))
    match = _REJECT_COUNTS.search(str(plain(reason) or ""))
    if match:
        return int(match.group(1)), int(match.group(2))
    if rows_by_rule:
        breaking = sum(int(n) for n in rows_by_rule.values())
        return (min(breaking, total) if total is not None else breaking), total
    return _int(meta.get("rows_quarantined")), total


def check_alert(
    *,
    asset: str,
    check: str,
    passed: bool,
    severity: str,
    blocking: bool,
    metadata: Mapping[str, Any],
    run_id: str,
    job: str | None,
    partition: str | None,
    rows_by_rule: Mapping[str, int] | None = None,
    base_url: str | None = None,
) -> Alert | None:
    """The alert for one asset-check evaluation, or None when it passed."""
    if passed:
        return None
    meta = dict(metadata or {})
    batch_id = plain(meta.get("batch_id"))
    scope = batch_id or run_id  # a batch is alerted once; checks without a batch id once per run
    reason = plain(meta.get("reason"))
    batches = plain(meta.get("batches"))
    if isinstance(batches, str):
        try:
            batches = json.loads(batches)
        except ValueError:
            batches = None
    rejected = {k: v for k, v in batches.items() if isinstance(v, Mapping) and v.get("status") != "published"} \
        if isinstance(batches, Mapping) else {}
    if rejected and not batch_id:  # relief ledgers: one batch per file, several files per run
        counts = [_failing_rows(v, v.get("reason"), None) for v in rejected.values()]
        failing, total = sum(f or 0 for f, _ in counts), sum(t or 0 for _, t in counts)
        batch_id = ", ".join(sorted(rejected))
    else:
        failing, total = _failing_rows(meta, reason, rows_by_rule)
    if failing is None and _int(meta.get("dagster_dbt/failed_row_count")) is not None:  # dbt tests
        failing = _int(meta.get("dagster_dbt/failed_row_count"))
    if failing is None and _int(meta.get("ge_evaluated")) is not None:  # GE suites on marts: expectations
        evaluated = _int(meta.get("ge_evaluated")) or 0
        failing, total = evaluated - (_int(meta.get("ge_successful")) or 0), None
        meta.setdefault("failed_expectations", f"{failing} / {evaluated}")
    if reason in (None, "", "passed"):
        reason = None
    rule = _rule_text(meta, rows_by_rule) or check
    stateful = not plain(meta.get("batch_id")) and not rejected
    return Alert(
        kind="asset_check",
        title=f"【数据质量告警】{asset} · {check}",
        severity=severity,
        dedupe_key=f"check:{asset}:{check}:{scope}",
        run_id=run_id,
        run_url=run_url(run_id, base_url),
        job=job,
        asset=asset,
        check=check,
        blocking=blocking,
        batch_id=str(batch_id) if batch_id else None,
        partition=partition,
        rule=rule,
        failing_rows=failing,
        total_rows=total,
        reason=_clip(reason),
        details={k: plain(v) for k, v in meta.items()
                 if k in ("failed_expectations", "ge_suite", "files_rejected", "rows_quarantined")},
        state_key=check_state_key(asset, check, partition) if stateful else None,
    )


def check_state_key(asset: str, check: str, partition: str | None) -> str:
    """The identity of a check whose state is tracked: asset, check and (for a month's check) partition."""
    return f"state:{asset}:{check}" + (f":{partition}" if partition else "")


def check_recovery_alert(
    *,
    asset: str,
    check: str,
    severity: str,
    metadata: Mapping[str, Any],
    run_id: str,
    job: str | None,
    partition: str | None,
    base_url: str | None = None,
) -> Alert | None:
    """The candidate "recovered" alert of a passing evaluation of a check that is not about one batch.
    It is sent only when the same check was failing before and that failure was alerted
    (dispatch.send_alerts decides from the stored state). None for batch-scoped checks and for
    evaluations that were skipped (e.g. unusual_values of a batch that was not published)."""
    meta = dict(metadata or {})
    if plain(meta.get("batch_id")) or plain(meta.get("skipped")) or plain(meta.get("batches")):
        return None
    return Alert(
        kind="check_recovered",
        title=f"【数据质量告警解除】{asset} · {check}",
        severity=severity,
        dedupe_key=f"recovered:{asset}:{check}:{run_id}",
        run_id=run_id,
        run_url=run_url(run_id, base_url),
        job=job,
        asset=asset,
        check=check,
        partition=partition,
        reason="检查已恢复通过 / the check passes again",
        state_key=check_state_key(asset, check, partition),
    )


def run_failure_alert(
    *,
    run_id: str,
    job: str,
    partition: str | None,
    step_errors: Iterable[tuple[str | None, str | None, str]],
    message: str | None = None,
    base_url: str | None = None,
) -> Alert | None:
    """The alert for a failed run, or None when every failed step failed only because a blocking asset
    check failed (the check alert already says everything, with the batch and the rule).

    step_errors: (step_key, error class name, error message) of each failed step.
    """
    errors = list(step_errors)
    if errors and all(cls == CHECK_FAILED_ERROR for _, cls, _ in errors):
        return None
    first = next(((step, text) for step, cls, text in errors if cls != CHECK_FAILED_ERROR), None)
    if first:
        step, text = first
        lines = (text or "").strip().splitlines()
        reason = f"步骤 {step} 失败: {lines[0] if lines else ''}"
        if len(errors) > 1:
            reason += f"（共 {len(errors)} 个步骤失败）"
    else:
        reason = message or "运行失败"
    return Alert(
        kind="run_failure",
        title=f"【运行失败告警】{job}" + (f" · {partition}" if partition else ""),
        severity="ERROR",
        dedupe_key=f"run:{run_id}",
        run_id=run_id,
        run_url=run_url(run_id, base_url),
        job=job,
        partition=partition,
        asset=", ".join(sorted({s for s, _, _ in errors if s})) or None,
        reason=_clip(reason),
    )
