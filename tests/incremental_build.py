"""Shared by the incremental-equals-full tests (issue 12 item 2): tests/knownanswer_hr/test_incremental.py
(the HR known-answer scenario) and tests/test_history_incremental.py (a simulated 15-month history).

Both work at the dbt level: they set the raw tables of a warehouse copy by SQL to what the loads would
have left at each step (the loaders are tested elsewhere) and record those loads in meta.load_batches
as the loader would, plan the step with month_plan, build the planned months with `dbt run` (the months
written to meta.dbt_rebuild_request, as the transform asset does), record the build, and finally compare
every marts.* table with a full refresh of the same raw tables.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import duckdb

from dagster_project.month_plan import months_rebuilt, plan_rebuild, record_rebuild, request_build
from dagster_project.settings import DBT_NO_LOG_FILE, DBT_PROJECT_DIR, load_settings

REPO_ROOT = DBT_PROJECT_DIR.parent
RAW_MONTHLY = ("raw.monitoring_members", "raw.monitoring_households")

Change = Callable[[duckdb.DuckDBPyConnection], None]


def month_of(column: str, month: str) -> str:
    """SQL condition: ``column`` (a date, or a 'YYYY-MM…' text) lies in ``month`` ('YYYY-MM')."""
    return f"substr(cast({column} as varchar), 1, 7) = '{month}'"


def run_dbt(env: dict[str, str], target: Path, command: str, *args: str, check: bool = True) -> list[str]:
    """``dbt <command>`` on the warehouse of ``env``, with the HMAC pads of its settings in dbt's environment
    (what dagster_project.dbt_cli does), in this process through dbt's programmatic entry point
    (``dbtRunner``): a `dbt` subprocess per step paid the interpreter's start-up and dbt's imports again
    (≈ 1.5–2 s of CPU each, a third of a step). Not through dagster_project.dbt_cli: importing Dagster
    and dagster-dbt for every step cost ≈ 9 s, more than the dbt run of a month.

    For the invocation, this process's environment is ``env`` and the pads (the ``ZENGSHOU_*`` variables
    of anything else removed) and its working directory the repository, as the subprocess had them; both
    are put back after. dbt-duckdb keeps its DuckDB database open for the whole process (until exit): it
    is closed after each invocation, so the test opens the warehouse again and the next invocation starts
    with the environment it is given (the keyed-hash plugin reads the pads when the database opens).

    Returns the nodes that did not succeed or pass ("unique_id: status: message"); with ``check`` (the
    default) asserts there are none, else only that dbt ran (failed nodes, no crash)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    full_env = {**env, **load_settings(env).dbt_env()}
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    for name in [n for n in os.environ if n.startswith("ZENGSHOU_") and n not in full_env]:
        del os.environ[name]
    os.environ.update(full_env)
    os.chdir(REPO_ROOT)
    try:
        result = dbtRunner().invoke([command, "--target-path", str(target), *DBT_NO_LOG_FILE, *args, "--project-dir",
                                     str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)])
    finally:
        with DuckDBConnectionManager._LOCK:
            if DuckDBConnectionManager._ENV is not None:
                DuckDBConnectionManager._ENV.close()
        DuckDBConnectionManager.close_all_connections()
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    failed = [f"{r.node.unique_id}: {r.status}: {r.message}" for r in (getattr(result.result, "results", None) or [])
              if str(r.status) not in ("success", "pass")]
    assert result.success or (not check and result.exception is None), \
        f"dbt {command} failed: {result.exception!r}\n" + "\n".join(failed)
    return failed


# The file sources whose raw rows the steps set by SQL: (loader source, raw table, its partition key as the
# loader records it in meta.load_batches).
FILE_PARTITIONS = (
    ("monitoring.members", "raw.monitoring_members", "strftime(as_of_month, '%Y-%m')"),
    ("monitoring.households", "raw.monitoring_households", "strftime(as_of_month, '%Y-%m')"),
    ("relief.projects", "raw.relief_projects", "cast(report_year AS VARCHAR) || '/' || report_file"),
)


def record_loads(con: duckdb.DuckDBPyConnection) -> None:
    """Make meta.load_batches say what the loader would have recorded for the raw rows a step set by SQL:
    a partition no longer in raw never landed (its batches go), and a partition whose rows come from
    another batch than its latest published one had that batch published now. month_plan reads the
    batches of the file partitions there, not in the raw tables."""
    for source, table, partition in FILE_PARTITIONS:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _in_raw AS SELECT {partition} AS p, batch_id AS b, count(*) AS n"
                    f" FROM {table} GROUP BY ALL")
        assert con.execute("SELECT count(*) - count(DISTINCT p) FROM _in_raw").fetchone() == (0,), \
            f"{table}: a partition holds rows of two batches, which no load leaves"
        con.execute("DELETE FROM meta.load_batches WHERE source = ? AND partition_key NOT IN (SELECT p FROM _in_raw)",
                    [source])
        con.execute(
            "INSERT INTO meta.load_batches (batch_id, source, partition_key, rows_read, rows_loaded, rows_quarantined,"
            " status) SELECT r.b, ?, r.p, r.n, r.n, 0, 'published' FROM _in_raw AS r WHERE r.b IS DISTINCT FROM"
            " (SELECT arg_max(l.batch_id, l.loaded_at) FROM meta.load_batches AS l"
            "  WHERE l.source = ? AND l.partition_key = r.p AND l.status = 'published')", [source, source])
        con.execute("DROP TABLE _in_raw")


def build_step(warehouse: Path, env: dict[str, str], target: Path, run_id: str, digest: str,
               change: Change, command: tuple[str, ...] = ("run",)) -> list[tuple[str, str]] | None:
    """Apply ``change`` to the raw tables, plan, build the planned months (`dbt run`, or ``command``: a
    first step on a warehouse without the seeds builds them in the same invocation, saving a dbt start-up),
    record the build as the transform asset does. Returns the plan's ('YYYY-MM', reason) list (None:
    everything)."""
    with duckdb.connect(str(warehouse)) as con:
        change(con)
        record_loads(con)
        plan = plan_rebuild(con, digest)
        # as the transform asset: the months in meta.dbt_rebuild_request, a constant var, so the steps
        # (one target dir per test) parse partially after the first
        dbt_args = request_build(con, plan)
    run_dbt(env, target, *command, *dbt_args)
    with duckdb.connect(str(warehouse)) as con:
        record_rebuild(con, plan, run_id)
        assert list(months_rebuilt(con, run_id)) == (
            [(None, f"every month: {plan.everything}")] if plan.months is None
            else [(m.month, m.reason) for m in plan.months])
    return None if plan.months is None else [(f"{m.month:%Y-%m}", m.reason) for m in plan.months]


def keep(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> None:
    """Copy the raw tables as they are (the final state) into schema ``keep``, for ``restore``."""
    con.execute("CREATE SCHEMA IF NOT EXISTS keep")
    for t in tables:
        con.execute(f"CREATE OR REPLACE TABLE keep.{t.split('.')[1]} AS SELECT * FROM {t}")


def restore(con: duckdb.DuckDBPyConnection, table: str, where: str) -> None:
    """The rows of ``table`` matching ``where`` become those of the kept final state (a load arriving)."""
    con.execute(f"DELETE FROM {table} WHERE {where}")
    con.execute(f"INSERT INTO {table} SELECT * FROM keep.{table.split('.')[1]} WHERE {where}")


def schema_tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database()"
        " AND table_schema = ? ORDER BY 1", [schema]).fetchall()]


def marts_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return schema_tables(con, "marts")


def schema_differences(a: Path, b: Path, schema: str) -> list[str]:
    """Every ``schema``.* table of warehouse ``a`` against the same table of ``b``: row counts and EXCEPT ALL
    both ways; one line per table that differs or that only one of them has (an empty list: identical,
    row for row)."""
    out = []
    with duckdb.connect(str(a), read_only=True) as con:
        con.execute(f"ATTACH '{b}' AS other (READ_ONLY)")
        tables = schema_tables(con, schema)
        in_other = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'other' AND table_schema = ?"
            " ORDER BY 1", [schema]).fetchall()]
        out += [f"{schema}.{t}: only in {a if t in tables else b}" for t in sorted(set(tables) ^ set(in_other))]
        if schema == "marts":
            assert len(tables) >= 15, tables
        for t in sorted(set(tables) & set(in_other)):
            n_a = con.execute(f"SELECT count(*) FROM {schema}.{t}").fetchone()[0]
            n_b = con.execute(f"SELECT count(*) FROM other.{schema}.{t}").fetchone()[0]
            only_a = con.execute(f"SELECT count(*) FROM (SELECT * FROM {schema}.{t} EXCEPT ALL"
                                 f" SELECT * FROM other.{schema}.{t})").fetchone()[0]
            only_b = con.execute(f"SELECT count(*) FROM (SELECT * FROM other.{schema}.{t} EXCEPT ALL"
                                 f" SELECT * FROM {schema}.{t})").fetchone()[0]
            if (n_a, only_a, only_b) != (n_b, 0, 0):
                out.append(f"{schema}.{t}: {n_a} rows in {a.parent.name}, {n_b} in {b.parent.name}; {only_a} only in"
                           f" {a.parent.name}, {only_b} only in {b.parent.name}")
    return out


def marts_differences(a: Path, b: Path) -> list[str]:
    """Every marts.* table of warehouse ``a`` (built incrementally) against the same table of ``b`` (a full
    build): an empty list when identical, row for row."""
    return schema_differences(a, b, "marts")
