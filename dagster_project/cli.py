"""The `zengshou` command (SPEC §5): simulate, run, demo.

Exit codes: 0 every blocking check passed; 1 a blocking check or a run failed (what passed is still
published); 2 usage or configuration error. Each ends with a one-line reason.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from dagster_project.report.cli import add_report_parser, run_report
from dagster_project.settings import ConfigError, Settings, load_settings
from dagster_project.simulate.scales import SCALES

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line and exit 2, like every other usage error
        print(f"zengshou: usage error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _month(value: str) -> str:
    if not _MONTH.match(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a month YYYY-MM")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="zengshou", description="增收 warehouse: 脱贫人口稳岗就业促增收 (Yunnan).")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sim = sub.add_parser("simulate", help="write realistic source extracts (files + HR database)")
    sim.add_argument("--scale", choices=list(SCALES), default="demo")
    sim.add_argument("--out", type=Path, required=True, help="landing dir to write")
    sim.add_argument("--seed", type=int, default=2023)
    sim.add_argument("--start", type=_month, help="first snapshot month YYYY-MM")
    sim.add_argument("--end", type=_month, help="last snapshot month YYYY-MM")
    sim.add_argument("--dirty-rate", type=float, default=0.005, help="share of dirty member rows (default 0.005)")
    run = sub.add_parser("run", help="load every new or changed extract and rebuild the marts")
    run.add_argument("--full-refresh", action="store_true",
                     help="rebuild every snapshot month of the marts, not only the changed ones")
    sub.add_parser("demo", help="simulate at demo scale into the landing dir, run, and say where to look")
    add_report_parser(sub)
    return parser


def _simulate(args: argparse.Namespace) -> int:
    from dagster_project.simulate import simulate

    if not 0.0 <= args.dirty_rate < 1.0:
        raise ConfigError(f"--dirty-rate must be in [0, 1), not {args.dirty_rate}")
    if args.start and args.end and args.start > args.end:
        raise ConfigError(f"--start {args.start} is after --end {args.end}")
    summary = simulate(args.out, scale=args.scale, seed=args.seed, start=args.start, end=args.end,
                       dirty_rate=args.dirty_rate)
    months = summary["counts_per_month"]  # one entry per snapshot month written
    print(f"OK: simulated {args.scale} scale into {args.out} ({len(months)} snapshot month(s), "
          f"{summary['start']}..{summary['end']})")
    return EXIT_OK


def _run(settings: Settings, full_refresh: bool = False) -> int:
    # Configuration errors, and a warehouse another `zengshou run` holds, surface before the heavy imports
    # (Dagster, GE, dagster-dbt: ≈ 5 s of CPU): a cron job overlapping a long run says so at once. The lock
    # is re-entrant in this process, so runner.run (which takes it too, for its other callers) goes on.
    settings.require_landing_dir()
    from dagster_project.ingest.warehouse import check_warehouse_path
    from dagster_project.ingest.warehouse_lock import WarehouseBusy, warehouse_lock
    from dagster_project.run_report import RunReport

    check_warehouse_path(settings.warehouse)
    try:
        with warehouse_lock(settings.warehouse, timeout=0, purpose="zengshou run"):
            from dagster_project.runner import run

            report = run(settings, full_refresh=full_refresh)
    except WarehouseBusy as exc:
        report = RunReport(failures=[str(exc)])
    print(report.summary(), file=sys.stderr if report.exit_code else sys.stdout)
    return report.exit_code


def _demo(settings: Settings) -> int:
    """Simulate, run and say where to look — in at most ~30 lines: a line per step, then the summary.
    Everything else (Dagster's event log, dbt's output, alerts, warnings) goes to a log file it names."""
    from dagster_project.runner import run
    from dagster_project.simulate import simulate

    # The log file gets everything (INFO); the terminal only `say`.
    settings = dataclasses.replace(settings, log_level="INFO")
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    log_path = settings.warehouse.parent / "logs" / f"demo-{time.strftime('%Y%m%d-%H%M%S')}.log"
    console_level("INFO")
    with output_to(log_path) as say:
        say(f"zengshou demo — full log: {log_path}")
        say(f"simulating demo data (≈20k people, 2022-01..2023-03) into {settings.landing_dir} …")
        simulate(settings.landing_dir, scale="demo")
        # The demo wrote its files itself, completely: no file of it is still being copied.
        report = run(dataclasses.replace(settings, landing_settle_seconds=0.0), progress=say)
        say(report.summary())
        if report.published or report.transformed:
            from dagster_project.report import build_report

            say(f"report: {build_report(settings.warehouse, memory_limit=settings.duckdb_memory_limit)}")
        say(f"scorecard: DuckDB file {settings.warehouse}, table marts.kpi_scorecard — e.g.\n"
            f"  .venv/bin/python -c \"import duckdb; print(duckdb.connect('{settings.warehouse}', read_only=True)"
            f".sql(\\\"select * from marts.kpi_scorecard where region_level = 'province' order by as_of_month desc,"
            f" kpi_code limit 20\\\"))\"")
        say("UI: `make dev` (dagster dev -w workspace.yaml) then open http://127.0.0.1:3000")
        say(f"full log (dbt, Dagster events, alerts): {log_path}")
    return report.exit_code


@contextlib.contextmanager
def output_to(log_path: Path) -> Iterator[Callable[[str], None]]:
    """Send this process's stdout and stderr — and so every logger, Dagster's console log and the dbt
    subprocess — to ``log_path``; yield ``say(line)``, which writes to the terminal and the log."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved_out), "w", buffering=1, encoding="utf-8")
    with open(log_path, "a", encoding="utf-8") as log_file:
        os.dup2(log_file.fileno(), 1)
        os.dup2(log_file.fileno(), 2)

        def say(line: str) -> None:
            terminal.write(line + "\n")
            terminal.flush()
            print(line, flush=True)  # into the log too

        try:
            yield say
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            terminal.close()


def console_level(level: str) -> None:
    """The console shows records of ``level`` and above, from every logger. The root logger's level
    alone does not do it: Great Expectations and Dagster set levels on their own loggers (GE's
    ``…types.base`` at INFO printed a line per validation at the default WARNING), and a record a
    logger lets through reaches the root's handlers whatever the root's level; the handlers filter."""
    root = logging.getLogger()
    root.setLevel(level)
    for handler in root.handlers:
        handler.setLevel(level)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        # Every setting, checked once before anything runs: a malformed one is the one line printed
        # (exit 2). `simulate` needs none of them, but a typo is reported there too.
        settings = load_settings()
    except ConfigError as exc:
        print(f"zengshou: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    console_level(settings.log_level)
    try:
        if args.command == "simulate":
            return _simulate(args)
        if args.command == "run":
            return _run(settings, full_refresh=args.full_refresh)
        if args.command == "report":
            return run_report(args, settings)
        return _demo(settings)
    except ConfigError as exc:
        print(f"zengshou: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
