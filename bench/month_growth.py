"""Month 12 against month 2 of a province-scale history, for the dbt build (issue 12: month 60 costs what
month 2 costs), measured on padded warehouses.

A real 12-month province history does not fit this machine: every month adds ≈ 2.3 GiB to the warehouse
and ≈ 3 GB of export files (≈ 65 GB with its landing dir, against ≈ 60 GB free), and loading it would take
hours. So the history is made from one real month instead:

1. ``SOURCE``: a warehouse that `zengshou run` built from one simulated province month (2023-03), e.g. the
   ``pipeline.duckdb`` `bench/run.py --scale province --parts b` leaves in its work dir.
2. ``pad``: copies of that month's rows, shifted back k months, are inserted into every raw, staging,
   intermediate and marts table with an ``as_of_month`` (the person-year facts only for the shift landing
   on December; the county-spell models, which hold one row a person, and int_snapshots_listed, which the
   build recomputes, are left alone). The same people every month, as in a real history.
   Month 2: 2023-02 + 2023-03. Month 12: 2022-04 … 2023-03.
3. ``measure`` (with the salt the warehouse was built with: ZENGSHOU_PII_SALT, else bench/run.py's):
   2023-03 is made new — its rows leave every staging, intermediate and marts table (raw
   keeps them, under a new batch id) — and `dbt build` runs as the transform asset runs it for a new
   month (the months in meta.dbt_rebuild_request, the constant var, two threads, DuckDB's memory cap of
   the settings). It prints the wall and CPU time, peak memory and the slowest nodes, and writes them to
   ``<label>.json``. The warehouse is left as the build leaves it, so the measurement can be repeated.

What it does not measure: loading, validation and publishing of the new month (their work is the new
month's files and rows; bench/run.py (d) measures them on a real county-scale history) and the HR
platform's growth over time (the padded months share one month's HR rows).

  python bench/month_growth.py pad WAREHOUSE 1                  # month 2
  python bench/month_growth.py pad WAREHOUSE 1 2 3 4 5 6 7 8 9 10 11   # month 12
  python bench/month_growth.py measure WAREHOUSE LABEL [CODE_DIR]
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.run import SALT  # noqa: E402  (the salt bench/run.py builds its warehouses with)
from dagster_project.month_plan import MonthRebuild, RebuildPlan, request_build  # noqa: E402
from dagster_project.settings import DBT_NO_LOG_FILE  # noqa: E402

# One row a person and YEAR, taken from the year's latest snapshot: only the copy landing on December.
YEAR_END_TABLES = {"fct_employment_duration", "fct_income_growth", "int_members_year_end_out_of_county"}
# One row a person (county spells) or recomputed by every build (the snapshot list): not copied.
NOT_PADDED = {"int_person_county_changes", "int_person_county_spells", "int_snapshots_listed"}
BUILT_SCHEMAS = ("staging", "intermediate", "marts")  # what a build writes (raw is the loaders')


def pad(warehouse: str, shifts: list[int]) -> None:
    con = duckdb.connect(warehouse)
    con.execute("SET preserve_insertion_order = false")
    (real,) = con.execute("SELECT max(as_of_month) FROM raw.monitoring_members").fetchone()
    tables = con.execute("""
        SELECT t.table_schema, t.table_name, list(c.column_name ORDER BY c.ordinal_position),
               list(c.data_type ORDER BY c.ordinal_position)
        FROM information_schema.tables t JOIN information_schema.columns c USING (table_schema, table_name)
        WHERE list_contains(?, t.table_schema) AND t.table_type = 'BASE TABLE'
        GROUP BY ALL ORDER BY ALL""", [["raw", *BUILT_SCHEMAS]]).fetchall()
    for schema, name, cols, types in tables:
        if "as_of_month" not in cols or name in NOT_PADDED:
            continue
        for k in shifts:
            shifted = f"CAST(as_of_month - INTERVAL {k} MONTH AS DATE)"
            if name in YEAR_END_TABLES and (real.month - k - 1) % 12 + 1 != 12:
                continue
            select = []
            for col, typ in zip(cols, types, strict=True):
                if col == "as_of_month":
                    select.append(f"{shifted} AS as_of_month")
                elif col == "year":
                    select.append(f"CAST(year({shifted}) AS {typ}) AS year")
                elif col == "batch_id":
                    select.append(f"batch_id || '-pad{k}' AS batch_id")
                else:
                    select.append(f'"{col}"')
            start = time.monotonic()
            (n,) = con.execute(f'INSERT INTO {schema}."{name}" SELECT {", ".join(select)} FROM {schema}."{name}" '
                               f"WHERE as_of_month = DATE '{real}'").fetchone()
            print(f"{schema}.{name} -{k} months: {n} rows, {time.monotonic() - start:.1f} s", flush=True)
    con.execute("CHECKPOINT")


def measure(warehouse: str, label: str, code: Path) -> None:
    con = duckdb.connect(warehouse)
    (real,) = con.execute("SELECT max(as_of_month) FROM raw.monitoring_members").fetchone()
    # Under another key every staged month would be hashed again (a key change rebuilds everything).
    salt = os.environ.get("ZENGSHOU_PII_SALT") or SALT
    # the dbt macro key_fingerprint() (dbt/macros/keyed_hash.sql), in Python
    fingerprint = hmac.new(salt.encode(), b"zengshou-key-fingerprint", hashlib.sha256).hexdigest()
    stored = {f for (f,) in con.execute("SELECT DISTINCT key_fingerprint FROM staging.stg_monitoring__members")
              .fetchall()}
    if stored != {fingerprint}:
        raise SystemExit("the warehouse was built under another ZENGSHOU_PII_SALT: set the one it was built with")
    tag = f"-m{int(time.time())}"
    for table in ("raw.monitoring_members", "raw.monitoring_households"):
        con.execute(f"UPDATE {table} SET batch_id = regexp_replace(batch_id, '-m[0-9]+$', '') || ? "
                    "WHERE as_of_month = ?", [tag, real])
    built = con.execute("""SELECT table_schema, table_name FROM information_schema.columns
        WHERE column_name = 'as_of_month' AND list_contains(?, table_schema)
          AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE')
        """, [list(BUILT_SCHEMAS)]).fetchall()
    for schema, name in built:
        con.execute(f'DELETE FROM {schema}."{name}" WHERE as_of_month = ?', [real])
    # the month asked for as the transform asset asks (meta.dbt_rebuild_request and the constant var)
    request = request_build(con, RebuildPlan([MonthRebuild(real, "new month")]))
    (months,) = con.execute("SELECT count(DISTINCT as_of_month) FROM raw.monitoring_members").fetchone()
    con.execute("CHECKPOINT")
    con.close()
    target = Path(warehouse).with_name(f"target-{code.name}")
    env = {**os.environ, "ZENGSHOU_WAREHOUSE": warehouse, "ZENGSHOU_PII_SALT": salt}
    cmd = [str(code / ".venv" / "bin" / "python"), "-m", "dagster_project.dbt_cli", "build", "--exclude-resource-type",
           "unit_test", *DBT_NO_LOG_FILE, *request, "--target-path", str(target)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=code, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(proc.stdout[-3000:] + proc.stderr[-2000:])
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    results = json.loads((target / "run_results.json").read_text())["results"]
    nodes = sorted(((r["execution_time"], r["unique_id"]) for r in results), reverse=True)
    print(f"{label}: month {months} ({real:%Y-%m} new), dbt build {wall:.1f} s wall, {cpu:.1f} s CPU, "
          f"peak RSS {after.ru_maxrss / 2**20:.2f} GiB, load {os.getloadavg()[0]:.2f}")
    for seconds, node in nodes[:12]:
        print(f"  {seconds:6.1f} s  {node}")
    Path(warehouse).with_name(f"{label}.json").write_text(json.dumps(
        {"label": label, "month": months, "wall": wall, "cpu": cpu, "peak_rss": after.ru_maxrss * 1024,
         "nodes": {node: seconds for seconds, node in nodes}}, indent=1))


def main(argv: list[str]) -> None:
    if len(argv) >= 3 and argv[0] == "pad":
        pad(argv[1], [int(k) for k in argv[2:]])
    elif len(argv) in (3, 4) and argv[0] == "measure":
        measure(argv[1], argv[2], Path(argv[3] if len(argv) == 4 else Path(__file__).resolve().parent.parent))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
