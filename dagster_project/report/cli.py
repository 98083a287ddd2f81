"""`zengshou report [--out PATH] [--month YYYY-MM]`: write the HTML report for officials.

The lead wires `add_report_parser` / `run_report` into dagster_project/cli.py. Exit codes follow the
rest of the command: 0 written, 2 usage or configuration error (bad month, warehouse missing or
locked, no scorecard yet), each with a one-line reason on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dagster_project.settings import Settings

EXIT_OK, EXIT_USAGE = 0, 2


def add_report_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the `report` sub-command on the `zengshou` parser and return it."""
    parser = subparsers.add_parser(
        "report",
        help="write the HTML report officials read (province, prefectures, counties, trends, 以工代赈)",
        description="Write one self-contained HTML report from the marts of ZENGSHOU_WAREHOUSE (read-only).",
    )
    parser.add_argument("--out", type=Path, default=None,
                        help="HTML file to write (default: <warehouse dir>/../reports/zengshou_report_<YYYY-MM>.html)")
    parser.add_argument("--month", default=None, metavar="YYYY-MM",
                        help="snapshot month to report (default: the latest in marts.kpi_scorecard)")
    return parser


def run_report(args: argparse.Namespace, settings: Settings) -> int:
    """Build the report; print its path on success, a one-line reason on stderr otherwise. ``settings``:
    the ones `zengshou` already checked (read once, in cli.main)."""
    from dagster_project.report import ReportError, build_report
    from dagster_project.settings import ConfigError

    try:
        path = build_report(settings.warehouse, args.out, args.month, settings.duckdb_memory_limit)
    except (ReportError, ConfigError) as exc:
        print(f"zengshou: report error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # e.g. --out in a directory that cannot be created or written
        print(f"zengshou: report error: cannot write {args.out or 'the report'}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_USAGE
    print(f"OK: report written to {path}")
    return EXIT_OK
