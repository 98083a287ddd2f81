"""Number and status formatting shared by the tables and the charts, so a value reads the same everywhere.

Units come from the `unit` column of reference.kpi_targets: ratio and growth are fractions in the
marts (0.3, not 30) and are shown as percentages; months and persons are shown as numbers.
"""

from __future__ import annotations

import math

STATUS_ZH: dict[str, str] = {"met": "达标", "not_met": "未达标", "no_target": "无目标", "no_data": "无数据"}
# A symbol beside the colour so the traffic light still reads on a black-and-white printout.
STATUS_MARK: dict[str, str] = {"met": "●", "not_met": "▲", "no_target": "○", "no_data": "–"}
# Pace through the year (SPEC §2.1, marts.kpi_scorecard.progress_status); no_target / no_data as above.
PROGRESS_ZH: dict[str, str] = {"on_track": "进度正常", "behind": "进度滞后", "not_due": "未到考核期",
                               "no_target": "无目标", "no_data": "无数据"}
PROGRESS_MARK: dict[str, str] = {"on_track": "●", "behind": "▲", "not_due": "◇", "no_target": "○", "no_data": "–"}
COMPARATOR_ZH: dict[str, str] = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "=": "="}
_PERCENT_UNITS = frozenset({"ratio", "growth", "share", "rate"})


def is_percent(unit: str) -> bool:
    return unit in _PERCENT_UNITS


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_value(value: float | None, unit: str, *, compact: bool = False) -> str:
    """A KPI value for display: '98.7%', '+12.3%', '8.62 月', '712,345 人'; '—' when there is none."""
    if _missing(value):
        return "—"
    assert value is not None
    if unit == "growth":
        return f"{value * 100:+.1f}%"
    if is_percent(unit):
        return f"{value * 100:.1f}%"
    if unit == "months":
        return f"{value:.2f}" if compact else f"{value:.2f} 个月"
    if unit == "persons":
        return f"{value:,.0f}" if compact else f"{value:,.0f} 人"
    return f"{value:,.4g}"


def fmt_target(target: float | None, comparator: str | None, unit: str) -> str:
    """'≥ 90.0%' — the target with its comparator; '—' for KPIs the notice sets no target for."""
    if _missing(target):
        return "—"
    return f"{COMPARATOR_ZH.get(comparator or '', comparator or '')} {fmt_value(target, unit)}".strip()


def fmt_count(value: float | None) -> str:
    """Numerator / denominator: integers with thousands separators, otherwise two decimals."""
    if _missing(value):
        return "—"
    assert value is not None
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def fmt_money(value: float | None) -> str:
    return "—" if _missing(value) else f"{value:,.2f}"


def fmt_percent(value: float | None) -> str:
    return "—" if _missing(value) else f"{value * 100:.1f}%"  # type: ignore[operator]

