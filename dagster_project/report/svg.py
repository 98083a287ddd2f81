"""Month trend charts as inline SVG, written directly in Python.

The report must open on an office PC without network access and print the same everywhere, so no
charting library, no JavaScript and no CDN: a few polylines, rectangles and text elements are all a
line chart needs. Text inherits the page's CJK font stack. Every string is escaped. The <svg> elements
carry no xmlns: inline SVG in HTML does not need one, and leaving it out keeps the file free of any
http:// string, which the test checks.
"""

from __future__ import annotations

import math
from html import escape

from dagster_project.report.data import TrendPoint
from dagster_project.report.fmt import fmt_target, fmt_value, is_percent

WIDTH, HEIGHT = 440, 250
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 52, 16, 26, 34

COLOR_LINE = "#1f5f8b"
COLOR_BAND = "#d7e6f2"
COLOR_TARGET = "#b4532a"
COLOR_GRID = "#e6e8eb"
COLOR_AXIS = "#8a9099"
COLOR_MET = "#2e7d4f"
COLOR_NOT_MET = "#c0392b"


def _nice_step(span: float, ticks: int = 5) -> float:
    """A 1/2/2.5/5 × 10^k step so axis labels are round numbers."""
    raw = span / max(ticks, 1)
    if raw <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        if raw <= mult * mag:
            return mult * mag
    return 10 * mag


def _domain(values: list[float]) -> tuple[float, float, float]:
    lo, hi = min(values), max(values)
    if math.isclose(lo, hi):
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    step = _nice_step(hi - lo)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step, step


def _runs(xs: list[float], ys: list[float | None]) -> list[list[tuple[float, float]]]:
    """Split a series at missing values so a gap shows as a gap, not as an invented line."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in zip(xs, ys, strict=True):
        if y is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((x, y))
    return [r for r in runs if r]


def _pts(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def empty_chart(title: str, message: str = "暂无数据") -> str:
    """A placeholder of the same size, so the layout does not jump when a KPI has no months yet."""
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
        f'<rect x="0.5" y="0.5" width="{WIDTH - 1}" height="{HEIGHT - 1}" fill="#fafbfc" stroke="{COLOR_GRID}"/>'
        f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" fill="{COLOR_AXIS}" font-size="14">'
        f"{escape(message)}</text></svg>"
    )


def line_chart(points: list[TrendPoint], *, title: str, unit: str, comparator: str | None) -> str:
    """Province line with its value at each month, the prefecture min–max band behind it, and the
    target as a dashed line; points are green when they meet the target and red when not."""
    values = [v for p in points for v in (p.province, p.prefecture_min, p.prefecture_max, p.target) if v is not None]
    if not points or all(p.province is None for p in points) or not values:
        return empty_chart(title)
    lo, hi, step = _domain(values)
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    n = len(points)

    inset = 24  # keep the first and last value labels clear of the y axis labels and the edge

    def x_of(i: int) -> float:
        return PAD_LEFT + (plot_w / 2 if n == 1 else inset + i * (plot_w - 2 * inset) / (n - 1))

    def y_of(v: float) -> float:
        return PAD_TOP + plot_h - (v - lo) / (hi - lo) * plot_h

    xs = [x_of(i) for i in range(n)]
    parts: list[str] = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    # grid and y axis labels
    tick = lo
    while tick <= hi + step / 2:
        y = y_of(tick)
        parts.append(f'<line x1="{PAD_LEFT}" y1="{y:.1f}" x2="{WIDTH - PAD_RIGHT}" y2="{y:.1f}" '
                     f'stroke="{COLOR_GRID}" stroke-width="1"/>')
        label = f"{tick * 100:.0f}%" if is_percent(unit) and step * 100 >= 1 else (
            f"{tick * 100:.1f}%" if is_percent(unit) else f"{tick:g}")
        parts.append(f'<text x="{PAD_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="{COLOR_AXIS}">{escape(label)}</text>')
        tick += step
    # x axis labels: months of the year
    for x, p in zip(xs, points, strict=True):
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - PAD_BOTTOM + 18}" text-anchor="middle" font-size="12" '
                     f'fill="{COLOR_AXIS}">{p.month.month}月</text>')
    parts.append(f'<line x1="{PAD_LEFT}" y1="{PAD_TOP + plot_h}" x2="{WIDTH - PAD_RIGHT}" y2="{PAD_TOP + plot_h}" '
                 f'stroke="{COLOR_AXIS}" stroke-width="1"/>')
    # prefecture band (only where both ends exist)
    band = [(x, p.prefecture_min, p.prefecture_max) for x, p in zip(xs, points, strict=True)
            if p.prefecture_min is not None and p.prefecture_max is not None]
    if len(band) >= 2:
        upper = [(x, y_of(hi_)) for x, _lo, hi_ in band]
        lower = [(x, y_of(lo_)) for x, lo_, _hi in reversed(band)]
        parts.append(f'<polygon class="band" points="{_pts(upper + lower)}" fill="{COLOR_BAND}" opacity="0.8"/>')
    elif len(band) == 1:
        x, lo_, hi_ = band[0]
        parts.append(f'<line class="band" x1="{x:.1f}" y1="{y_of(hi_):.1f}" x2="{x:.1f}" y2="{y_of(lo_):.1f}" '
                     f'stroke="{COLOR_BAND}" stroke-width="14"/>')
    # target line
    targets = [p.target for p in points if p.target is not None]
    if targets:
        t = targets[-1]
        y = y_of(t)
        parts.append(f'<line class="target" x1="{PAD_LEFT}" y1="{y:.1f}" x2="{WIDTH - PAD_RIGHT}" y2="{y:.1f}" '
                     f'stroke="{COLOR_TARGET}" stroke-width="1.5" stroke-dasharray="6 4"/>')
        # the label sits above the plot's top-right corner, where no value label can collide with it
        x0 = WIDTH - PAD_RIGHT - 112
        parts.append(f'<line x1="{x0}" y1="11" x2="{x0 + 16}" y2="11" '
                     f'stroke="{COLOR_TARGET}" stroke-width="1.5" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{x0 + 20}" y="15" font-size="11.5" '
                     f'fill="{COLOR_TARGET}">目标 {escape(fmt_target(t, comparator, unit))}</text>')
    # province line, points and value labels
    for run in _runs(xs, [p.province for p in points]):
        parts.append(f'<polyline class="series" points="{_pts([(x, y_of(v)) for x, v in run])}" fill="none" '
                     f'stroke="{COLOR_LINE}" stroke-width="2.5" stroke-linejoin="round" stroke-linecap="round"/>')
    for x, p in zip(xs, points, strict=True):
        if p.province is None:
            continue
        # the mart's status (macro kpi_status), not a comparison redone here
        fill = {"met": COLOR_MET, "not_met": COLOR_NOT_MET}.get(p.status or "", COLOR_LINE)
        y = y_of(p.province)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{fill}" stroke="#fff" stroke-width="1.5">'
                     f"<title>{p.month:%Y-%m} {escape(fmt_value(p.province, unit))}</title></circle>")
        parts.append(f'<text x="{x:.1f}" y="{y - 10:.1f}" text-anchor="middle" font-size="11.5" '
                     f'fill="#1d2733">{escape(fmt_value(p.province, unit, compact=True))}</text>')
    parts.append("</svg>")
    return "".join(parts)
