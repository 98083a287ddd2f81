"""The report as one self-contained HTML page (CSS and SVG inline, no script, no network).

Who reads it: officials of the provincial 乡村振兴 / 人社 offices, on screen or printed. So the page is
in Chinese with the KPI code beside every label (the code is what analysts and the scorecard use),
statuses carry a symbol as well as a colour (printouts are often black and white), and every KPI has
one number (①, ②, …) used in every section so the wide county table can use short headers.

This module orders and groups the data; the markup is in the Jinja2 templates of ``templates/``
(report.html.j2, _macros.html.j2, chart.svg.j2, report.css), whose environment escapes every value on
output (report/templates.py): a value from the warehouse cannot reach the page unescaped.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from dagster_project.report.data import (
    LOCAL_KPIS,
    TREND_KPIS,
    WARNING_REASONS,
    Kpi,
    Project,
    ReportData,
    Score,
    WarningCount,
)
from dagster_project.report.fmt import (
    PROGRESS_MARK,
    PROGRESS_ZH,
    STATUS_MARK,
    STATUS_ZH,
    fmt_count,
    fmt_money,
    fmt_percent,
    fmt_target,
    fmt_value,
)
from dagster_project.report.svg import STYLE, LineChart, chart_geometry
from dagster_project.report.templates import environment

# Compliant projects beyond this many are summarised, not listed: the list is a to-do list, and at
# province scale thousands of compliant rows would bury it. Non-compliant projects are always all listed.
MAX_COMPLIANT_PROJECTS = 300

REPORT_TITLE = "云南省脱贫人口稳岗就业促增收监测报告"


def kpi_no(order: int) -> str:
    """①…⑳ for the first twenty KPIs (U+2460…), then plain numbers: the same mark in every section."""
    return chr(0x2460 + order - 1) if 1 <= order <= 20 else f"({order})"


# status codes (达标 …) and pace codes (进度正常 …) share no_target / no_data, with the same labels
_LABEL_ZH = {**PROGRESS_ZH, **STATUS_ZH}
_MARK = {**PROGRESS_MARK, **STATUS_MARK}


def _gap_text(p: Project) -> str:
    """The project's ratio minus its required ratio, in percentage points."""
    if p.remuneration_ratio is None or p.required_ratio is None:
        return "—"
    return f"{(p.remuneration_ratio - p.required_ratio) * 100:+.1f} 个百分点"


ENV = environment({
    "kpi_no": kpi_no,
    "status_zh": lambda status: _LABEL_ZH.get(status, status),
    "mark": lambda status: _MARK.get(status, ""),
    "fmt_value": fmt_value,
    "fmt_target": fmt_target,
    "fmt_count": fmt_count,
    "fmt_money": fmt_money,
    "fmt_percent": fmt_percent,
    "gap_text": _gap_text,
})


def _shown(data: ReportData, sc: Score | None) -> str:
    """The code a cell leads with: pace (progress_status, from the mart) through the year, the annual
    verdict (status) in December or when the warehouse has no pace column."""
    if sc is None:
        return "no_data"
    if data.leads_with_pace and sc.progress_status:
        return sc.progress_status
    return sc.status


def _tiles(data: ReportData, province: dict[str, Score]) -> list[tuple[str, str]]:
    counts = {s: sum(1 for sc in province.values() if sc.status == s) for s in STATUS_ZH}
    pace = {s: sum(1 for sc in province.values() if sc.progress_status == s) for s in PROGRESS_ZH}
    bad_projects = sum(1 for p in data.projects if p.is_compliant is False)
    pace_tiles = [
        (str(pace["on_track"]), "全省进度正常"),
        (str(pace["behind"]), "全省进度滞后"),
        (str(pace["not_due"]), "未到考核期"),
    ] if data.leads_with_pace else []
    return [
        (str(len(data.kpis)), "监测指标（项）"),
        *pace_tiles,
        (str(counts["met"]), "全省达标"),
        (str(counts["not_met"]), "全省未达标"),
        (str(counts["no_target"] + counts["no_data"]), "无目标或无数据"),
        (f"{bad_projects} / {len(data.projects)}", f"{data.year}年以工代赈项目未达标 / 总数"),
    ]


@dataclass(frozen=True)
class _Trend:
    code: str
    kpi: Kpi | None
    label: str
    title: str
    chart: LineChart | None


def _trends(data: ReportData) -> list[_Trend]:
    trends = []
    for code in TREND_KPIS:
        kpi = data.kpi(code)
        label = kpi.label_zh if kpi else code
        title = f"{label}（{code}）{data.year}年逐月"
        comparator = next((s.comparator for s in data.scores if s.kpi_code == code and s.region_level == "province"),
                          None)
        chart = chart_geometry(data.trends.get(code, []), title=title, unit=kpi.unit, comparator=comparator) \
            if kpi else None
        trends.append(_Trend(code, kpi, label, title, chart))
    return trends


def _ranked(scores: list[Score], comparator: str | None) -> list[Score]:
    """Best first: descending for '≥' targets (and KPIs without one), ascending for '≤'; no value last."""
    ascending = comparator in ("<=", "<")
    with_value = sorted((s for s in scores if s.actual is not None),
                        key=lambda s: (s.actual if ascending else -s.actual, s.region_code))  # type: ignore[operator]
    return with_value + sorted((s for s in scores if s.actual is None), key=lambda s: s.region_code)


def _rankings(data: ReportData, by_level: dict[str, dict[str, list[Score]]]) -> list[dict[str, Any]]:
    cards = []
    prefectures = by_level.get("prefecture", {})
    for kpi in data.kpis:
        scores = prefectures.get(kpi.code, [])
        comparator = next((s.comparator for s in scores if s.comparator), None)
        target = next((s.target for s in scores if s.target is not None), None)
        pace_target = next((s.progress_target for s in scores if s.progress_target is not None), None)
        ranked = _ranked(scores, comparator)
        values = [s.actual for s in ranked if s.actual is not None]
        lo, hi = min([0.0, *values]), max([0.0, *values])
        span = (hi - lo) or 1.0
        rows = [{"rank": rank if s.actual is not None else "", "score": s, "shown": _shown(data, s),
                 "width": 0.0 if s.actual is None else (s.actual - lo) / span * 100}
                for rank, s in enumerate(ranked, start=1)]
        cards.append({"kpi": kpi, "comparator": comparator, "target": target, "pace_target": pace_target,
                      "show_pace_target": data.leads_with_pace and pace_target is not None and pace_target != target,
                      "rows": rows})
    return cards


def _counties(data: ReportData, by_region: dict[str, dict[str, Score]], regions: dict[str, Score]) -> dict[str, Any]:
    def row(cls: str, region: Score) -> dict[str, Any]:
        scores = by_region.get(region.region_code, {})
        cells = []
        for k in data.kpis:
            sc = scores.get(k.code)
            cells.append((k, _shown(data, sc), fmt_value(sc.actual if sc else None, k.unit, compact=True)))
        return {"cls": cls, "region": region, "cells": cells}

    prefectures = sorted((s for s in regions.values() if s.region_level == "prefecture"), key=lambda s: s.region_code)
    counties_of: dict[str | None, list[Score]] = defaultdict(list)
    for s in regions.values():
        if s.region_level == "county":
            counties_of[s.parent_code].append(s)
    rows = []
    listed: set[str] = set()
    for pref in prefectures:
        rows.append(row("pref", pref))
        for c in sorted(counties_of.get(pref.region_code, []), key=lambda s: s.region_code):
            listed.add(c.region_code)
            rows.append(row("county", c))
    # counties whose prefecture is unknown to dim_region are still shown rather than silently dropped
    rows += [row("county", c) for c in sorted(
        (s for s in regions.values() if s.region_level == "county" and s.region_code not in listed),
        key=lambda s: s.region_code)]
    return {"prefectures": len(prefectures),
            "counties": sum(1 for s in regions.values() if s.region_level == "county"),
            "legend_codes": [*PROGRESS_ZH] if data.leads_with_pace else [*STATUS_ZH],
            "rows": rows}


def _projects(data: ReportData) -> dict[str, Any]:
    bad = [p for p in data.projects if p.is_compliant is False]
    no_rule = [p for p in data.projects if p.is_compliant is None]
    ok = [p for p in data.projects if p.is_compliant is True]
    return {"total": len(data.projects), "bad": len(bad), "no_rule": len(no_rule), "ok": len(ok),
            "shown": bad + no_rule + ok[:MAX_COMPLIANT_PROJECTS],
            "omitted": len(ok) - min(len(ok), MAX_COMPLIANT_PROJECTS)}


def _warnings(data: ReportData, regions: dict[str, Score]) -> dict[str, Any] | None:
    """Early-warning counts per county and reason (SPEC §2.3), the counties with most people first.
    Counts only: the names behind them (户编号 / 人口编号) are for county staff, in PostgreSQL."""
    if data.warnings is None:
        return None
    reasons = list(WARNING_REASONS)
    per_county: dict[str, dict[str, int]] = defaultdict(dict)
    names: dict[str, WarningCount] = {}
    for w in data.warnings:
        per_county[w.county_code][w.reason] = per_county[w.county_code].get(w.reason, 0) + w.persons
        names.setdefault(w.county_code, w)

    def counted(counts: dict[str, int]) -> dict[str, Any]:
        per_reason = [counts.get(r, 0) for r in reasons]
        return {"counts": per_reason, "total": sum(per_reason)}

    totals = {r: sum(c.get(r, 0) for c in per_county.values()) for r in reasons}
    rows = []
    for code in sorted(per_county, key=lambda c: (-sum(per_county[c].values()), c)):
        w = names[code]
        pref = regions.get(w.prefecture_code or "")
        rows.append({"code": code, "name": w.county_name or code, "prefecture": pref.region_name if pref else "—",
                     **counted(per_county[code])})
    return {"total": counted(totals), "rows": rows}


def _local(data: ReportData, by_region: dict[str, dict[str, Score]], regions: dict[str, Score]) -> dict[str, Any]:
    """Local-employment quality (就地就近 = 县内 + 县外省内 workers) and 乡村工匠, province and prefectures."""
    kpis = [k for code in LOCAL_KPIS if (k := data.kpi(code)) is not None]
    shown = sorted((s for s in regions.values() if s.region_level in ("province", "prefecture")),
                   key=lambda s: (s.region_level != "province", s.region_code))
    rows = []
    for region in shown:
        cells = []
        for k in kpis:
            sc = by_region.get(region.region_code, {}).get(k.code)
            # pace through the year, the annual verdict in December
            cells.append((_shown(data, sc), fmt_value(sc.actual if sc else None, k.unit)))
        rows.append({"cls": "pref" if region.region_level == "province" else "", "region": region, "cells": cells})
    return {"kpis": kpis, "rows": rows}


def render_html(data: ReportData) -> str:
    """The whole page as a string; pure (no I/O), so it can be tested on hand-made ReportData."""
    by_region: dict[str, dict[str, Score]] = defaultdict(dict)
    by_level: dict[str, dict[str, list[Score]]] = defaultdict(lambda: defaultdict(list))
    regions: dict[str, Score] = {}
    for s in data.scores:
        by_region[s.region_code][s.kpi_code] = s
        by_level[s.region_level][s.kpi_code].append(s)
        regions.setdefault(s.region_code, s)
    province = next((row for code, row in by_region.items() if regions[code].region_level == "province"), {})
    return ENV.get_template("report.html.j2").render(
        data=data,
        page_title=f"{REPORT_TITLE}（{data.as_of_month:%Y-%m}）",
        report_title=REPORT_TITLE,
        pace=data.leads_with_pace,
        month=data.as_of_month.month,
        tiles=_tiles(data, province),
        province_rows=[(kpi, province.get(kpi.code)) for kpi in data.kpis],
        trends=_trends(data),
        chart_style=STYLE,
        rankings=_rankings(data, by_level),
        counties=_counties(data, by_region, regions),
        projects=_projects(data),
        warnings=_warnings(data, regions),
        warning_reasons=WARNING_REASONS,
        local=_local(data, by_region, regions),
        status_codes=list(STATUS_ZH),
        footer_months="、".join(f"{m:%Y-%m}" for m in data.months),
    )
