"""Month trend charts as inline SVG: the geometry is worked out here, the elements are written by the
``line_chart`` / ``empty_chart`` macros of ``templates/chart.svg.j2``.

The report must open on an office PC without network access and print the same everywhere, so no
charting library, no JavaScript and no CDN: a few polylines, rectangles and text elements are all a
line chart needs. Text inherits the page's CJK font stack; every string is escaped by the template
environment (report/templates.py). The <svg> elements carry no xmlns: inline SVG in HTML does not need
one, and leaving it out keeps the file free of any http:// string, which the test checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

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
# Sizes and colours the template reads (one place for the chart's look).
STYLE = {
    "width": WIDTH, "height": HEIGHT, "pad_left": PAD_LEFT, "pad_right": PAD_RIGHT, "pad_bottom": PAD_BOTTOM,
    "line": COLOR_LINE, "band": COLOR_BAND, "target": COLOR_TARGET, "grid": COLOR_GRID, "axis": COLOR_AXIS,
}


@dataclass(frozen=True)
class Dot:
    """A province value: its point, colour, hover title and the label above it (coordinates formatted)."""

    x: str
    y: str
    label_y: str
    fill: str
    title: str
    label: str


@dataclass(frozen=True)
class LineChart:
    """Everything the ``line_chart`` macro draws, in drawing order; coordinates already formatted."""

    title: str
    ticks: list[tuple[str, str, str]] = field(default_factory=list)   # (y, label y, label)
    months: list[tuple[str, int]] = field(default_factory=list)       # (x, month number)
    axis_y: int = 0
    band_polygon: str | None = None             # the prefecture min–max band, two or more months
    band_line: tuple[str, str, str] | None = None  # (x, y top, y bottom): the band of a single month
    target_y: str | None = None
    target_label: str | None = None
    target_x0: int = WIDTH - PAD_RIGHT - 112   # the target legend sits above the plot's top-right corner
    runs: list[str] = field(default_factory=list)  # polyline points of each run without a gap
    dots: list[Dot] = field(default_factory=list)


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


def chart_geometry(points: list[TrendPoint], *, title: str, unit: str, comparator: str | None) -> LineChart | None:
    """Province line with its value at each month, the prefecture min–max band behind it, and the
    target as a dashed line; points are green when they meet the target and red when not. None when
    there is nothing to draw (the template then shows the empty chart)."""
    values = [v for p in points for v in (p.province, p.prefecture_min, p.prefecture_max, p.target) if v is not None]
    if not points or all(p.province is None for p in points) or not values:
        return None
    lo, hi, step = _domain(values)
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    n = len(points)

    inset = 24  # keep the first and last value labels clear of the y axis labels and the edge

    def x_of(i: int) -> float:
        return PAD_LEFT + (plot_w / 2 if n == 1 else inset + i * (plot_w - 2 * inset) / (n - 1))

    def y_of(v: float) -> float:
        return PAD_TOP + plot_h - (v - lo) / (hi - lo) * plot_h

    xs = [x_of(i) for i in range(n)]
    # grid and y axis labels
    ticks = []
    tick = lo
    while tick <= hi + step / 2:
        y = y_of(tick)
        label = f"{tick * 100:.0f}%" if is_percent(unit) and step * 100 >= 1 else (
            f"{tick * 100:.1f}%" if is_percent(unit) else f"{tick:g}")
        ticks.append((f"{y:.1f}", f"{y + 4:.1f}", label))
        tick += step
    # x axis labels: months of the year
    months = [(f"{x:.1f}", p.month.month) for x, p in zip(xs, points, strict=True)]
    # prefecture band (only where both ends exist)
    band = [(x, p.prefecture_min, p.prefecture_max) for x, p in zip(xs, points, strict=True)
            if p.prefecture_min is not None and p.prefecture_max is not None]
    band_polygon = band_line = None
    if len(band) >= 2:
        upper = [(x, y_of(hi_)) for x, _lo, hi_ in band]
        lower = [(x, y_of(lo_)) for x, lo_, _hi in reversed(band)]
        band_polygon = _pts(upper + lower)
    elif len(band) == 1:
        x, lo_, hi_ = band[0]
        band_line = (f"{x:.1f}", f"{y_of(hi_):.1f}", f"{y_of(lo_):.1f}")
    # target line
    targets = [p.target for p in points if p.target is not None]
    target_y = target_label = None
    if targets:
        target_y = f"{y_of(targets[-1]):.1f}"
        target_label = f"目标 {fmt_target(targets[-1], comparator, unit)}"
    # province line, points and value labels
    runs = [_pts([(x, y_of(v)) for x, v in run]) for run in _runs(xs, [p.province for p in points])]
    dots = []
    for x, p in zip(xs, points, strict=True):
        if p.province is None:
            continue
        # the mart's status (macro kpi_status), not a comparison redone here
        fill = {"met": COLOR_MET, "not_met": COLOR_NOT_MET}.get(p.status or "", COLOR_LINE)
        y = y_of(p.province)
        dots.append(Dot(x=f"{x:.1f}", y=f"{y:.1f}", label_y=f"{y - 10:.1f}",
                        fill=fill,
                        title=f"{p.month:%Y-%m} {fmt_value(p.province, unit)}",
                        label=fmt_value(p.province, unit, compact=True)))
    return LineChart(title=title, ticks=ticks, months=months, axis_y=PAD_TOP + plot_h,
                     band_polygon=band_polygon, band_line=band_line, target_y=target_y,
                     target_label=target_label, runs=runs, dots=dots)
