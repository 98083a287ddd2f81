"""How fast the HR platform's rows get into DuckDB, per reader (issue 12 #4): measured before choosing.

One HR table (``public_welfare_post``: text, Chinese text, dates, NULLs, NUMERIC(12,2), a timestamp)
of ``--rows`` synthetic rows, written by SQL into a SQLite file and into a database on the local
PostgreSQL 15 cluster (tests/pg.py), is read whole into a typed DuckDB table of a fresh warehouse
file by

* ``sqlalchemy``: the SQLAlchemy path (Core select, ``yield_per`` chunks → Arrow → typed INSERT);
* ``adbc``: the ADBC driver (adbc-driver-sqlite / adbc-driver-postgresql) → Arrow stream → typed
  INSERT, through the loader's own reader (``reader="adbc"``);
* ``connectorx``: connectorx ``read_sql(return_type="arrow")`` → typed INSERT (the same queries);

each in its own process, so time and peak memory (``ru_maxrss`` of that child) are its alone;
medians of ``--repeat``. Then the pipeline's own costs with the chosen reader: a first pull and a
pull where nothing changed (default 72 h look-back; with and without the key comparison), into a
DuckDB warehouse file, no GE gate (an open connection is passed, as the loader's tests do).

Run: ``python -m bench.hr_read --rows 1500000 --repeat 3`` (prints a markdown table; ``--markdown
FILE`` writes it there too). Needs the PostgreSQL 15 binaries; ``--no-postgres`` skips that source.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TABLE = "public_welfare_post"
READERS = ("sqlalchemy", "adbc", "connectorx")


# --------------------------------------------------------------------------------------------------
# The sources
# --------------------------------------------------------------------------------------------------

def _sqlite_rows(n: int) -> str:
    # Timestamps and dates as SQLAlchemy writes them to SQLite; decimals as SQLite stores NUMERIC
    # (integer or real); updated_at spread over two years, so a 72 h look-back window holds ~0.4 %.
    return f"""
    INSERT INTO {TABLE}
    WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n})
    SELECT 'A' || i, '5301021990' || printf('%08d', i),
           CASE WHEN i % 50 = 0 THEN NULL ELSE '5301' || printf('%02d', i % 20) END,
           CASE i % 3 WHEN 0 THEN '乡村保洁' WHEN 1 THEN '护林员' ELSE '道路养护' END,
           date('2022-01-01', '+' || (i % 700) || ' days'),
           CASE WHEN i % 5 = 0 THEN date('2023-06-30', '+' || (i % 100) || ' days') END,
           (i % 9) * 100 + 0.5 * (i % 2),
           strftime('%Y-%m-%d %H:%M:%S', '2022-01-01', '+' || (i * 37 % 63072000) || ' seconds') || '.000000'
    FROM s"""


def _pg_rows(n: int) -> str:
    return f"""
    INSERT INTO {TABLE}
    SELECT 'A' || i, '5301021990' || lpad(i::text, 8, '0'),
           CASE WHEN i % 50 = 0 THEN NULL ELSE '5301' || lpad((i % 20)::text, 2, '0') END,
           CASE i % 3 WHEN 0 THEN '乡村保洁' WHEN 1 THEN '护林员' ELSE '道路养护' END,
           date '2022-01-01' + (i % 700), CASE WHEN i % 5 = 0 THEN date '2023-06-30' + (i % 100) END,
           (i % 9) * 100 + 0.5 * (i % 2),
           timestamp '2022-01-01' + ((i::bigint * 37) % 63072000) * interval '1 second'
    FROM generate_series(1, {n}) AS i"""


def build_source(url: str, rows: int) -> None:
    import sqlalchemy as sa

    from dagster_project import hr_schema

    engine = sa.create_engine(url)
    try:
        hr_schema.metadata.drop_all(engine)
        hr_schema.metadata.create_all(engine)
        with engine.begin() as c:
            c.execute(sa.text(_sqlite_rows(rows) if url.startswith("sqlite") else _pg_rows(rows)))
            if not url.startswith("sqlite"):
                c.execute(sa.text(f"ANALYZE {TABLE}"))
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------------
# The child: one measurement
# --------------------------------------------------------------------------------------------------

def _connectorx_read(url: str, con, landing: str) -> int:
    """connectorx → Arrow → the same typed INSERT. connectorx needs no parameters here (a full read)
    and reads the same SELECT the ADBC path sends, so the two differ only in the driver."""
    import connectorx as cx
    import sqlalchemy as sa

    from dagster_project import hr_schema
    from dagster_project.ingest import hr_platform as hp

    table = hr_schema.metadata.tables[TABLE]
    parsed = sa.make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    sql = hp.arrow_select_sql(table, None, sqlite)
    conn = f"sqlite://{parsed.database}" if sqlite else hp.libpq_uri(url)
    arrow = cx.read_sql(conn, sql, return_type="arrow")
    columns = list(table.columns)
    con.execute(f"CREATE OR REPLACE TABLE {landing}__read ("
                + ", ".join(f'"{c.name}" {hp.duckdb_type(c)}' for c in columns) + ", _source_row BIGINT)")
    con.register("cx_arrow", arrow)
    typed = ", ".join(f'CAST("{c.name}" AS {hp.duckdb_type(c)})' for c in columns)
    where = "WHERE _sentinel = 0" if sqlite else ""
    con.execute(f"INSERT INTO {landing}__read SELECT {typed}, row_number() OVER () FROM cx_arrow {where}")
    return con.execute(f"SELECT count(*) FROM {landing}__read").fetchone()[0]


def child(args: argparse.Namespace) -> None:
    import duckdb

    work = Path(args.work)
    db = work / f"wh_{os.getpid()}.duckdb"
    con = duckdb.connect(str(db))
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS landing")
        if args.what == "noop":  # what importing the loader costs: the floor of the memory figures
            import dagster_project.ingest.hr_platform  # noqa: F401

            seconds, rows = 0.0, 0
        elif args.what == "read":
            from dagster_project.ingest import hr_platform as hp

            t0 = time.perf_counter()
            if args.reader == "connectorx":
                rows = _connectorx_read(args.url, con, "landing.bench")
            else:
                with hp.open_hr_platform(args.url, [TABLE], reader=args.reader) as reader:
                    rows = reader.read(con, TABLE, None, False, "landing.bench").rows_read
            seconds = time.perf_counter() - t0
        else:  # a first pull (through ADBC, for speed), then the measured pull over an unchanged source
            from dagster_project.ingest.batch_pipeline import pull_hr_platform

            lookback = dt.timedelta(hours=72)
            every = dt.timedelta(0) if args.what == "unchanged_compare" else None
            pull_hr_platform(args.url, con, [TABLE], lookback=lookback, reader="adbc")
            t0 = time.perf_counter()
            pull = pull_hr_platform(args.url, con, [TABLE], lookback=lookback, full_compare_every=every,
                                    reader=args.reader)[TABLE]
            seconds = time.perf_counter() - t0
            assert pull.status == "unchanged", pull
            rows = pull.rows_read
    finally:
        con.close()
        db.unlink(missing_ok=True)
    print(json.dumps({"seconds": seconds, "rows": rows}))


# --------------------------------------------------------------------------------------------------
# The parent: repeats, medians, the table
# --------------------------------------------------------------------------------------------------

def measure(url: str, reader: str, what: str, work: Path) -> tuple[float, int, int]:
    """(seconds, peak RSS bytes, rows) of one child run."""
    proc = subprocess.Popen([sys.executable, "-m", "bench.hr_read", "--child", "--url", url, "--reader", reader,
                             "--what", what, "--work", str(work)], stdout=subprocess.PIPE,
                            cwd=Path(__file__).resolve().parent.parent)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{reader} {what} on {url.split(':')[0]} failed ({proc.returncode})")
    result = json.loads(out.decode().strip().splitlines()[-1])
    return result["seconds"], usage.ru_maxrss * 1024, result["rows"]


def run(args: argparse.Namespace) -> str:
    import importlib.util

    if "connectorx" in args.readers and importlib.util.find_spec("connectorx") is None:
        print("connectorx is not installed (`uv sync --group bench`): skipped", file=sys.stderr)
        args.readers = [r for r in args.readers if r != "connectorx"]
    load = os.getloadavg()
    lines = [f"HR read into DuckDB, `{TABLE}` × {args.rows:,} rows, medians of {args.repeat} "
             f"(load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; 2 cores, shared)", "",
             "| source | reader | what | wall | peak memory | rows |", "|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="hr_read_") as tmp:
        work = Path(tmp)
        sources: list[tuple[str, str]] = [("SQLite", f"sqlite:///{work / 'hr.sqlite'}")]
        stack = None
        if not args.no_postgres:
            import contextlib

            from tests import pg

            stack = contextlib.ExitStack()
            cluster = pg.ensure_cluster()
            sources.append(("PostgreSQL 15", stack.enter_context(pg.throwaway_database(cluster.port))))
        try:
            for name, url in sources:
                t0 = time.perf_counter()
                build_source(url, args.rows)
                print(f"{name}: {args.rows:,} rows written in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
                plan = [("-", "noop"), *((r, "read") for r in args.readers)]
                plan += [(r, w) for r in args.pull_readers for w in ("unchanged", "unchanged_compare")]
                for reader, what in plan:
                    runs = [measure(url, reader, what, work) for _ in range(args.repeat)]
                    wall = statistics.median(r[0] for r in runs)
                    peak = statistics.median(r[1] for r in runs)
                    label = {"noop": "start-up only (the memory floor)", "read": "read the whole table",
                             "unchanged": "pull, nothing changed (72 h look-back)",
                             "unchanged_compare": "pull, nothing changed, with key comparison"}[what]
                    line = (f"| {name} | {reader} | {label} | {wall:.2f} s "
                            f"({', '.join(f'{r[0]:.2f}' for r in runs)}) | {peak / 2**20:.0f} MiB | {runs[0][2]:,} |")
                    print(line, file=sys.stderr)
                    lines.append(line)
        finally:
            if stack is not None:
                stack.close()
    load = os.getloadavg()
    lines.append("")
    lines.append(f"Load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}.")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_500_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--readers", nargs="*", default=list(READERS), choices=READERS)
    parser.add_argument("--pull-readers", nargs="*", default=["sqlalchemy", "adbc"],
                        choices=("sqlalchemy", "adbc"))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--reader", help=argparse.SUPPRESS)
    parser.add_argument("--what", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    text = run(args)
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
