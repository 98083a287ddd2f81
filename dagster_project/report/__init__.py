"""The report officials read (issue 3, part 4): one self-contained HTML file per snapshot month.

    build_report(warehouse, out_path=None, as_of_month=None, memory_limit=...) -> Path

reads the marts read-only (data.py), renders Chinese HTML with inline CSS and SVG (render.py, svg.py)
and writes it atomically. When no out_path is given the file goes to `default_report_path`:
`<warehouse's parent's parent>/reports/zengshou_report_<YYYY-MM>.html`, i.e. data/reports/ beside
data/warehouse/ for the default ZENGSHOU_WAREHOUSE (data/warehouse/zengshou.duckdb).
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

from dagster_project.report.data import ReportData, ReportError, load_report_data
from dagster_project.report.render import render_html
from dagster_project.settings import DEFAULT_DUCKDB_MEMORY_LIMIT

__all__ = ["ReportData", "ReportError", "build_report", "default_report_path", "load_report_data", "write_report"]


def default_report_path(warehouse: Path, as_of_month: date) -> Path:
    """data/warehouse/zengshou.duckdb → data/reports/zengshou_report_2023-03.html (a sibling of the
    warehouse's directory, so reports live with the data and stay out of git via `data/`)."""
    return warehouse.resolve().parent.parent / "reports" / f"zengshou_report_{as_of_month:%Y-%m}.html"


def write_report(data: ReportData, out_path: Path | None = None) -> Path:
    """Render and write atomically (temp file + rename), so a reader never sees half a report."""
    target = (out_path or default_report_path(data.warehouse, data.as_of_month)).expanduser()
    html = render_html(data)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def build_report(warehouse: Path, out_path: Path | None = None, as_of_month: str | None = None,
                 memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT) -> Path:
    """Write the report for `as_of_month` ('YYYY-MM'; default the latest snapshot) and return its path.

    Raises ReportError (a ValueError) with a one-line reason when the warehouse is missing or locked,
    the marts are absent, or the month has no scorecard.
    """
    return write_report(load_report_data(Path(warehouse), as_of_month, memory_limit), out_path)
