"""ZENGSHOU_DUCKDB_MEMORY_LIMIT (issue 5: peak memory) reaches every DuckDB instance zengshou opens on
the warehouse: the loaders' connections, Great Expectations' engine, the dbt subprocess, the publishing
connection (serving file, PostgreSQL export) and the report's. Without the
cap each instance may take 80 % of RAM (DuckDB's default), and at province scale dbt did (9.9 GiB)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from dagster_project.ingest import warehouse
from dagster_project.settings import DBT_PROJECT_DIR, ConfigError, load_settings
from tests.knownanswer.pipeline import BIN_DIR

# DuckDB reports the limit in binary units: 300MB = 300e6 bytes = 286.1 MiB.
LIMIT, REPORTED = "300MB", "286.1 MiB"


def _warehouse_resource(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The warehouse resource of settings with the limit; the environment says otherwise afterwards, and
    must not matter: the value is read once and passed down (issue 11 #2)."""
    from dagster_project.resources import build_resources

    settings = load_settings({"ZENGSHOU_WAREHOUSE": str(tmp_path / "w.duckdb"), "ZENGSHOU_DUCKDB_MEMORY_LIMIT": LIMIT})
    monkeypatch.setenv("ZENGSHOU_DUCKDB_MEMORY_LIMIT", "900MB")
    return build_resources(settings)["warehouse"]


def test_loader_connections_are_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    resource = _warehouse_resource(tmp_path, monkeypatch)
    with resource.connect() as con:  # what the assets open
        assert con.execute("SELECT current_setting('memory_limit')").fetchone() == (REPORTED,)
    options = resource.loader_options()  # what the loaders are given for the connections they open
    with warehouse.connect(resource.file, memory_limit=options["memory_limit"]) as con:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone() == (REPORTED,)


def test_great_expectations_engine_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster_project.quality.ge_runner import warehouse_url

    resource = _warehouse_resource(tmp_path, monkeypatch)
    engine = sa.create_engine(warehouse_url(resource.file, resource.loader_options()["memory_limit"]))
    try:
        with engine.connect() as con:
            assert con.exec_driver_sql("SELECT current_setting('memory_limit')").fetchone() == (REPORTED,)
    finally:
        engine.dispose()


def test_dbt_connections_are_capped(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENGSHOU_")}
    env.update({"ZENGSHOU_WAREHOUSE": str(tmp_path / "w.duckdb"), "ZENGSHOU_DUCKDB_MEMORY_LIMIT": LIMIT})
    env.update(load_settings(env).dbt_env())
    proc = subprocess.run(
        [str(BIN_DIR / "dbt"), "show", "--inline", "select current_setting('memory_limit') as memory_limit",
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path), "--output", "json"],
        env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert f'"memory_limit": "{REPORTED}"' in proc.stdout


@pytest.mark.parametrize("bad", ["lots", "2", "-1GB", "2 GBs"])
def test_malformed_limit_is_a_configuration_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="ZENGSHOU_DUCKDB_MEMORY_LIMIT"):
        load_settings({"ZENGSHOU_DUCKDB_MEMORY_LIMIT": bad})


def test_default_limit_is_passed_to_dbt() -> None:
    assert load_settings({}).dbt_env()["ZENGSHOU_DUCKDB_MEMORY_LIMIT"] == "1.5GB"


def test_publishing_and_report_connections_are_capped(tmp_path: Path) -> None:
    """The serving file is built inside the publishing connection and the report reads the marts through
    its own: both are capped by the value passed down (assets/serving.py, assets/report.py pass the
    warehouse resource's)."""
    import duckdb

    from dagster_project.report.data import connect_read_only
    from dagster_project.serving.catalog import connect_warehouse

    file = tmp_path / "w.duckdb"
    duckdb.connect(str(file)).close()
    for connect in (connect_warehouse, connect_read_only):
        con = connect(file, memory_limit=LIMIT)
        try:
            assert con.execute("SELECT current_setting('memory_limit')").fetchone() == (REPORTED,), connect.__name__
        finally:
            con.close()


def test_capped_read_only_connect_shares_this_process_instance_without_locking(tmp_path: Path) -> None:
    """When this process already has the file open (a test reading it; the resource's own connection),
    the capped read-only connect shares that instance: it never opens the file read-write on its own,
    which would take DuckDB's writer lock and fail another process's reader (CI 3, 2026-12-02)."""
    import sys

    import duckdb

    from dagster_project.ingest.warehouse_lock import open_read_only

    file = tmp_path / "w.duckdb"
    duckdb.connect(str(file)).execute("CREATE TABLE t AS SELECT 1 AS x").close()
    reader_elsewhere = [sys.executable, "-c", f"import duckdb; duckdb.connect({str(file)!r}, read_only=True).close()"]

    held = duckdb.connect(str(file), read_only=True)  # this process's own read-only instance
    try:
        con = open_read_only(file, LIMIT, wait=0)
        assert con.execute("SELECT x FROM t").fetchall() == [(1,)]
        assert subprocess.run(reader_elsewhere, capture_output=True, text=True, check=False).returncode == 0
        con.close()
    finally:
        held.close()

    writer = duckdb.connect(str(file))  # this process writes: the reader shares the writer's instance
    try:
        con = open_read_only(file, LIMIT, wait=0)
        writer.execute("INSERT INTO t VALUES (2)")
        assert con.execute("SELECT count(*) FROM t").fetchone() == (2,)
        assert con.execute("SELECT current_setting('memory_limit')").fetchone() == (REPORTED,)
        con.close()
    finally:
        writer.close()
