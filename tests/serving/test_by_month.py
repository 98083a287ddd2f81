"""Publishing and validating only the months a dbt build changed (issue 12 item 3), on conftest's small
hand-made warehouse with a second state worked out by hand.

State 1 (``history``): conftest's marts plus an older month and an older year —
  kpi_scorecard            2023-05: 6 rows (one KPI per region, 0.4 each)   2023-06: 12 rows (conftest)
  fct_employment_duration  2022: 2 rows (a, b)                              2023: 3 rows (a, b, c)
  fct_income_growth        2022: 1 row (h)                                  2023: 2 rows (h, i)
  fct_relief_wage_ratio    3 rows (no month: replaced whole)    dim_region  6 rows (no month)
  = 35 rows; build 1 rebuilt every month.
State 2 (``rebuild_june``, build 2 rebuilt 2023-06 only, as dbt would):
  kpi_scorecard 2023-06: 11 rows (0.7 + region suffix / 10000; the province's q1_progress gone)
  fct_employment_duration 2023 (the year of 2023-06): 4 rows (b now employed 3 months 县内, d new)
  fct_income_growth 2023: the same 2 rows, rebuilt
  fct_relief_wage_ratio: 4 rows (P-002's remuneration 5 -> 12, P-004 new);  dim_region unchanged
2023-06's scorecard sums to 2 × (6 × 0.7 + (0 + 100 + 102 + 103 + 300 + 302) / 10000) − 0.7 = 7.8814.
A months publish of state 2 therefore writes 11 + 4 + 2 + 4 + 6 = 27 rows and deletes
12 + 3 + 2 + 3 + 6 = 26; the 2023-05 scorecard rows and the 2022 facts are not touched.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import psycopg2
import pytest

from dagster_project import month_plan
from dagster_project.assets.ge_checks import ge_suite_check, validation_scope
from dagster_project.assets.serving import postgres_target, serving_file_target
from dagster_project.serving import postgres as pg_publish
from dagster_project.serving import publish_postgres, publish_serving_file
from dagster_project.serving.changes import Changes, pending_changes, record_applied, run_changes
from tests.serving.conftest import REGIONS, BiDatabase
from tests.serving.test_serving_file import READER

JUNE, MAY = dt.date(2023, 6, 1), dt.date(2023, 5, 1)
TABLES = ("dim_region", "fct_employment_duration", "fct_income_growth", "fct_relief_wage_ratio", "kpi_scorecard")


# ---------------------------------------------------------------------------------------------------
# the two states, and the builds dbt would have recorded


def record_build(path: Path, run_id: str, months: list[dt.date] | None, *, whole: bool = True) -> None:
    """What the transform step records after a build (month_plan.record_rebuild + record_build)."""
    con = duckdb.connect(str(path))
    try:
        con.execute(month_plan.STATE_DDL)
        if whole and months is None:
            con.execute("INSERT INTO meta.months_rebuilt (run_id, as_of_month, reason) VALUES (?, NULL, ?)",
                        [run_id, "every month: no record of an earlier incremental build"])
        elif whole and months:   # a whole build that rebuilt no month records none
            con.executemany("INSERT INTO meta.months_rebuilt (run_id, as_of_month, reason) VALUES (?, ?, ?)",
                            [(run_id, m, "re-exported") for m in months])
        month_plan.record_build(con, run_id, whole=whole)
    finally:
        con.close()


def add_history(path: Path) -> None:
    """State 1: 2023-05 scorecard rows and 2022 facts beside conftest's 2023-06 / 2023 rows."""
    con = duckdb.connect(str(path))
    try:
        con.executemany("INSERT INTO marts.kpi_scorecard VALUES ('2023-05-01', 2023, ?, ?, ?,"
                        " 'employment_vs_prior_year', 0.4, 40, 100, 1.0, '>=', 'not_met')",
                        [(level, code, name) for code, level, name, *_ in REGIONS])
        con.execute("INSERT INTO marts.fct_employment_duration VALUES"
                    " (repeat('a', 64), 2022, '2022-12-01', '530102', '脱贫户', 10, true, '省外'),"
                    " (repeat('b', 64), 2022, '2022-12-01', '530103', '脱贫户', 2, true, '县内')")
        con.execute("INSERT INTO marts.fct_income_growth VALUES"
                    " (repeat('h', 64), 2022, '2022-12-01', '530102', '脱贫户', 4, 10000.00, NULL, NULL)")
    finally:
        con.close()


def rebuild_june(path: Path, bad_value: bool = False) -> None:
    """State 2, as dbt's build of 2023-06 leaves the warehouse (delete + insert of the month / year).
    ``bad_value``: one 2023-06 scorecard row carries a NUL character, which PostgreSQL refuses."""
    con = duckdb.connect(str(path))
    try:
        con.execute("DELETE FROM marts.kpi_scorecard WHERE as_of_month = '2023-06-01'")
        rows = []
        for code, level, name, *_ in REGIONS:
            for kpi, target in (("employment_vs_prior_year", 1.0), ("q1_progress", 0.9)):
                if (code, kpi) == ("530000", "q1_progress"):
                    continue
                value = 0.7 + int(code[-3:]) / 10000
                rows.append(("2023-06-01", 2023, level, code, name, kpi, value, value * 100, 100.0, target, ">=",
                             "not_met"))
        if bad_value:
            rows[-1] = (*rows[-1][:5], "bad" + chr(0) + "code", *rows[-1][6:])
        con.executemany("INSERT INTO marts.kpi_scorecard VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute("DELETE FROM marts.fct_employment_duration WHERE year = 2023")
        con.executemany("INSERT INTO marts.fct_employment_duration VALUES (?, 2023, '2023-06-01', ?, ?, ?, ?, ?)", [
            ("a" * 64, "530102", "脱贫户", 6, True, "县内"),
            ("b" * 64, "530103", "脱贫户", 3, True, "县内"),
            ("c" * 64, "530302", "一般农户", 12, True, "省外"),
            ("d" * 64, "530302", "脱贫户", 1, True, "县外省内"),
        ])
        con.execute("CREATE TEMP TABLE keep AS SELECT * FROM marts.fct_income_growth WHERE year = 2023;"
                    " DELETE FROM marts.fct_income_growth WHERE year = 2023;"
                    " INSERT INTO marts.fct_income_growth SELECT * FROM keep")
        con.execute("UPDATE marts.fct_relief_wage_ratio SET labor_remuneration_wan = 12, remuneration_ratio = 0.24,"
                    " is_compliant = true WHERE project_id = 'P-002';"
                    " INSERT INTO marts.fct_relief_wage_ratio VALUES"
                    " ('P-004', 2023, '530103', '中央预算内投资', 20, 8, 0.4, 0.3, true)")
    finally:
        con.close()


@pytest.fixture()
def history(warehouse: Path) -> Path:
    add_history(warehouse)
    record_build(warehouse, "run-1", None)
    return warehouse


def publish_file(warehouse: Path, target: Path | None = None, *, changes: Changes | None = None):
    """What the serving asset does for the file: pending changes -> publish -> record."""
    target = target or warehouse.parent / "zengshou_serving.duckdb"
    key = serving_file_target(target.resolve())
    con = duckdb.connect(str(warehouse))
    try:
        changes = changes or pending_changes(con, key)
    finally:
        con.close()
    served = publish_serving_file(warehouse, target, changes)
    con = duckdb.connect(str(warehouse))
    try:
        record_applied(con, key, build_no=changes.build_no, catalog=served.catalog, mark=served.mark,
                       mode=served.mode, months=served.months, rows_written=sum(served.rows_written.values()))
    finally:
        con.close()
    return served


def publish_pg(warehouse: Path, bi: BiDatabase):
    key = postgres_target(bi.url, bi.prefix)
    con = duckdb.connect(str(warehouse))
    try:
        changes = pending_changes(con, key)
    finally:
        con.close()
    published = publish_postgres(warehouse, bi.url, role_prefix=bi.prefix, changes=changes)
    con = duckdb.connect(str(warehouse))
    try:
        record_applied(con, key, build_no=changes.build_no, catalog=published.catalog, mark=published.mark,
                       mode=published.mode, months=published.months,
                       rows_written=sum(published.rows_written.values()))
    finally:
        con.close()
    return published


WRITTEN = {"dim_region": 6, "fct_employment_duration": 4, "fct_income_growth": 2, "fct_relief_wage_ratio": 4,
           "kpi_scorecard": 11}
DELETED = {"dim_region": 6, "fct_employment_duration": 3, "fct_income_growth": 2, "fct_relief_wage_ratio": 3,
           "kpi_scorecard": 12}


# ---------------------------------------------------------------------------------------------------
# the serving DuckDB file


def _file_rows(path: Path, query: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def test_months_publish_writes_only_the_changed_months_and_equals_a_whole_publish(history: Path) -> None:
    first = publish_file(history)
    assert (first.mode, first.reason) == ("whole", "no earlier publish of this target is recorded")
    assert sum(first.rows_written.values()) == 35
    rebuild_june(history)
    record_build(history, "run-2", [JUNE])
    served = publish_file(history)
    assert served.mode == "months" and served.months == (JUNE,) and served.copy in ("reflink", "copy")
    assert served.rows_written == WRITTEN and served.rows_deleted == DELETED
    assert sum(served.rows_written.values()) == 27
    assert served.tables == {"dim_region": 6, "fct_employment_duration": 6, "fct_income_growth": 3,
                             "fct_relief_wage_ratio": 4, "kpi_scorecard": 17}
    assert sorted(p.name for p in history.parent.iterdir()) == ["zengshou.duckdb", "zengshou_serving.duckdb"]

    # The same warehouse published whole into another file: the same content, table for table.
    whole = publish_serving_file(history, history.parent / "whole" / "serving.duckdb")
    assert whole.mode == "whole"
    con = duckdb.connect(str(served.path), read_only=True)
    try:
        con.execute(f"ATTACH '{whole.path}' AS whole (READ_ONLY)")
        for table in TABLES:
            for a, b in (("zengshou_serving", "whole"), ("whole", "zengshou_serving")):
                diff = con.execute(f"SELECT count(*) FROM (SELECT * FROM {a}.marts.{table}"
                                   f" EXCEPT ALL SELECT * FROM {b}.marts.{table})").fetchone()[0]
                assert diff == 0, (table, a, b)

        def layout(db: str) -> list[tuple]:
            return sorted(con.execute(
                "SELECT schema_name, table_name, column_name, data_type, comment FROM duckdb_columns()"
                f" WHERE database_name = '{db}'").fetchall()) + sorted(con.execute(
                "SELECT schema_name, table_name, comment FROM duckdb_tables() WHERE database_name = ?"
                " UNION ALL SELECT schema_name, view_name, comment FROM duckdb_views()"
                " WHERE database_name = ? AND NOT internal", [db, db]).fetchall())

        assert layout("zengshou_serving") == layout("whole")
        assert ("marts_zh", "kpi_scorecard", "地区代码", "VARCHAR") in {r[:4] for r in layout("zengshou_serving")}
        # Known answers of state 2 through the Chinese view: 2023-06 only changed.
        assert con.execute('SELECT "快照月份", count(*), round(sum("实际值"), 4) FROM marts_zh.kpi_scorecard'
                           " GROUP BY 1 ORDER BY 1").fetchall() == [(MAY, 6, 2.4), (JUNE, 11, 7.8814)]
        assert con.execute("SELECT year, count(*), sum(months_worked) FROM marts.fct_employment_duration"
                           " GROUP BY 1 ORDER BY 1").fetchall() == [(2022, 2, 12), (2023, 4, 22)]
    finally:
        con.close()


def test_untouched_months_are_not_rewritten(history: Path) -> None:
    """Proof that a months publish writes nothing else: a 2023-05 value changed in the warehouse without
    any build recording 2023-05 stays as first published; a whole publish would carry it."""
    publish_file(history)
    rebuild_june(history)
    con = duckdb.connect(str(history))
    con.execute("UPDATE marts.kpi_scorecard SET actual_value = 0.45 WHERE as_of_month = '2023-05-01';"
                "UPDATE marts.fct_employment_duration SET months_worked = 11 WHERE year = 2022")
    con.close()
    record_build(history, "run-2", [JUNE])
    served = publish_file(history)
    assert served.mode == "months"
    assert _file_rows(served.path, "SELECT round(sum(actual_value), 4) FROM marts.kpi_scorecard"
                                   " WHERE as_of_month = '2023-05-01'") == [(2.4,)]
    assert _file_rows(served.path, "SELECT sum(months_worked) FROM marts.fct_employment_duration"
                                   " WHERE year = 2022") == [(12,)]
    whole = publish_serving_file(history, history.parent / "whole.duckdb")
    assert _file_rows(whole.path, "SELECT round(sum(actual_value), 4) FROM marts.kpi_scorecard"
                                  " WHERE as_of_month = '2023-05-01'") == [(2.7,)]


def test_no_build_since_the_last_publish_replaces_only_the_marts_without_months(history: Path) -> None:
    publish_file(history)
    served = publish_file(history)
    assert served.mode == "months" and served.months == ()
    assert served.rows_written == {"dim_region": 6, "fct_employment_duration": 0, "fct_income_growth": 0,
                                   "fct_relief_wage_ratio": 3, "kpi_scorecard": 0}


def _add_column(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE marts.fct_relief_wage_ratio ADD COLUMN note VARCHAR")
    con.close()


def _replace_file(path: Path) -> None:
    target = path.parent / "zengshou_serving.duckdb"
    con = duckdb.connect(str(target))
    con.execute("DELETE FROM marts.dim_region WHERE region_level = 'province'")   # someone edited the file
    con.close()


@pytest.mark.parametrize(("between", "reason"), [
    (lambda p: record_build(p, "run-3", [JUNE]), "2 dbt builds since the last publish"),
    (lambda p: None, "every month"),
    (lambda p: _add_column(p), "columns, types"),
    (lambda p: _replace_file(p), "not what the last publish left"),
    (lambda p: (p.parent / "zengshou_serving.duckdb").unlink(), "not what the last publish left"),
], ids=["missed build", "everything build", "columns changed", "file edited", "file gone"])
def test_whole_publish_whenever_unsure(history: Path, between, reason: str) -> None:
    publish_file(history)
    rebuild_june(history)
    record_build(history, "run-2", [JUNE] if reason != "every month" else None)
    between(history)
    served = publish_file(history)
    assert served.mode == "whole" and reason in served.reason
    assert sum(served.rows_written.values()) == sum(served.tables.values())
    assert _file_rows(served.path, "SELECT count(*) FROM marts.dim_region") == [(6,)]
    assert publish_file(history).mode == "months"       # and the next publish takes months again


def test_subset_build_or_no_record_publishes_whole(history: Path) -> None:
    served = publish_serving_file(history)                         # no record of this target: whole
    assert served.mode == "whole" and "asked for" in served.reason
    con = duckdb.connect(str(history))
    changes = pending_changes(con, serving_file_target(served.path.resolve()))
    con.close()
    assert changes.whole and changes.reason == "no earlier publish of this target is recorded"
    publish_file(history)
    rebuild_june(history)
    record_build(history, "run-2", None, whole=False)              # a subset of the models, months unknown
    served = publish_file(history)
    assert served.mode == "whole" and "subset" in served.reason


def test_reader_holding_the_file_keeps_its_snapshot_during_a_months_publish(history: Path) -> None:
    first = publish_file(history)
    reader = subprocess.Popen([sys.executable, "-c", READER, str(first.path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        old = json.loads(reader.stdout.readline())
        assert old[0] == 18
        rebuild_june(history)
        record_build(history, "run-2", [JUNE])
        assert publish_file(history).mode == "months"
        assert _file_rows(first.path, "SELECT count(*) FROM marts.kpi_scorecard") == [(17,)]
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert json.loads(reader.stdout.readline()) == old           # the open reader: the old file
        assert reader.wait(timeout=20) == 0, reader.stderr.read()
    finally:
        if reader.poll() is None:
            reader.kill()


def test_leftovers_of_a_killed_publish_are_removed(history: Path) -> None:
    """A publish killed mid-way leaves the file it was building (as large as the serving file) and its
    WAL: the next publish removes them when their process is gone, and leaves those of a live process
    and every other file alone."""
    publish_file(history)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    name = "zengshou_serving.duckdb"
    gone = [f".{name}.{dead.pid}.0123abcd.tmp", f".{name}.{dead.pid}.0123abcd.tmp.wal"]
    kept = [f".{name}.{alive.pid}.0123abcd.tmp", f".{name}.notes", f"{name}.{dead.pid}.0123abcd.tmp"]
    try:
        for leftover in gone + kept:
            (history.parent / leftover).write_bytes(b"x")
        rebuild_june(history)
        record_build(history, "run-2", [JUNE])
        assert publish_file(history).mode == "months"
        assert sorted(p.name for p in history.parent.iterdir()) == sorted(["zengshou.duckdb", name, *kept])
    finally:
        alive.kill()
        alive.wait()


# ---------------------------------------------------------------------------------------------------
# PostgreSQL



def _pg_security(bi: BiDatabase) -> list:
    """Everything a publish sets up besides the rows: policies, grants, RLS flags, comments, views."""
    return [
        bi.rows("SELECT tablename, policyname, roles::text, cmd, qual FROM pg_policies WHERE schemaname = 'marts'"
                " ORDER BY 1, 2"),
        bi.rows("SELECT grantee, table_schema, table_name, privilege_type FROM information_schema.role_table_grants"
                " WHERE table_schema IN ('marts', 'marts_zh') ORDER BY 1, 2, 3, 4"),
        bi.rows("SELECT c.relname, c.relrowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'marts' ORDER BY 1"),
        bi.rows("SELECT n.nspname, c.relname, a.attname, col_description(c.oid, a.attnum),"
                " obj_description(c.oid, 'pg_class') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0"
                " WHERE n.nspname IN ('marts', 'marts_zh') ORDER BY 1, 2, 3"),
        bi.rows("SELECT viewname, definition FROM pg_views WHERE schemaname = 'marts_zh' ORDER BY 1"),
        bi.rows("SELECT nspname, array_agg(DISTINCT acl::text) FROM pg_namespace, unnest(nspacl) acl"
                " WHERE nspname IN ('marts', 'marts_zh') GROUP BY 1 ORDER BY 1"),
    ]


def _pg_rows(bi: BiDatabase) -> dict[str, list]:
    return {t: sorted(bi.rows(f"SELECT * FROM marts.{t}"), key=repr) for t in TABLES}


@pytest.mark.postgres
def test_postgres_months_publish_writes_the_changed_months_only(history: Path, bi_db: BiDatabase) -> None:
    first = publish_pg(history, bi_db)
    assert first.mode == "whole" and sum(first.rows_written.values()) == 35
    security = _pg_security(bi_db)
    may = bi_db.rows("SELECT xmin::text, * FROM marts.kpi_scorecard WHERE as_of_month = '2023-05-01' ORDER BY 1")
    year_2022 = bi_db.rows("SELECT xmin::text, * FROM marts.fct_employment_duration WHERE year = 2022 ORDER BY 1")
    rebuild_june(history)
    record_build(history, "run-2", [JUNE])

    published = publish_pg(history, bi_db)
    assert published.mode == "months" and published.months == (JUNE,)
    assert published.rows_written == WRITTEN and published.rows_deleted == DELETED
    assert published.created_roles == [] and published.dropped_dependents == []
    assert published.rls_tables["kpi_scorecard"] == "region_code"
    # Untouched rows are the very same row versions (xmin: the transaction that wrote them).
    assert bi_db.rows("SELECT xmin::text, * FROM marts.kpi_scorecard WHERE as_of_month = '2023-05-01'"
                      " ORDER BY 1") == may
    assert bi_db.rows("SELECT xmin::text, * FROM marts.fct_employment_duration WHERE year = 2022"
                      " ORDER BY 1") == year_2022
    # Roles, grants, policies, comments and views exactly as the whole publish left them.
    assert _pg_security(bi_db) == security
    assert bi_db.rows("SELECT as_of_month, count(*), round(sum(actual_value)::numeric, 4)::float8"
                      " FROM marts.kpi_scorecard GROUP BY 1 ORDER BY 1") == [
        (MAY, 6, pytest.approx(2.4)), (JUNE, 11, pytest.approx(7.8814))]
    kunming = bi_db.login_member_of(f"{bi_db.prefix}_pref_530100")
    assert sorted(bi_db.rows("SELECT project_id FROM marts.fct_relief_wage_ratio", *kunming)) == [
        ("P-001",), ("P-004",)]
    assert bi_db.rows("SELECT count(*) FROM marts_zh.kpi_scorecard WHERE \"快照月份\" = '2023-06-01'",
                      *kunming) == [(6,)]                               # 530100/102/103 × 2 KPIs

    # Equal to a whole publish of the same warehouse: rows, and everything around them.
    months_rows = _pg_rows(bi_db)
    whole = publish_postgres(history, bi_db.url, role_prefix=bi_db.prefix)
    assert whole.mode == "whole"
    assert _pg_rows(bi_db) == months_rows
    assert _pg_security(bi_db) == security


@pytest.mark.postgres
def test_postgres_months_publish_failing_midway_rolls_back(history: Path, bi_db: BiDatabase,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The COPY of kpi_scorecard (the last table) fails on a NUL character after fct_employment_duration's
    2023 rows were already replaced in the transaction: everything, those included, rolls back."""
    publish_pg(history, bi_db)
    before = _pg_rows(bi_db)
    rebuild_june(history, bad_value=True)
    record_build(history, "run-2", [JUNE])

    def no_whole(*args, **kwargs):
        raise AssertionError("the months path was expected")

    monkeypatch.setattr(pg_publish, "_replace_all", no_whole)
    with pytest.raises(pg_publish.PublishError, match="rolled back"):
        publish_pg(history, bi_db)
    assert _pg_rows(bi_db) == before
    assert bi_db.rows("SELECT person_key, months_worked FROM marts.fct_employment_duration WHERE year = 2023"
                      " ORDER BY 1") == [("a" * 64, 6), ("b" * 64, 0), ("c" * 64, 12)]
    # Fixed, the next publish still takes the months (the database is as this warehouse left it).
    rebuild_june(history)
    assert publish_pg(history, bi_db).mode == "months"
    assert bi_db.rows("SELECT count(*) FROM marts.fct_employment_duration WHERE year = 2023") == [(4,)]


@pytest.mark.postgres
def test_postgres_published_from_elsewhere_is_published_whole(history: Path, bi_db: BiDatabase) -> None:
    publish_pg(history, bi_db)
    conn = bi_db.connect()
    with conn, conn.cursor() as cur:    # another publisher (a restored backup, another warehouse) was here
        cur.execute("COMMENT ON SCHEMA marts IS 'zengshou 数据集市 / marts (publish 0123456789abcdef)'")
    conn.close()
    rebuild_june(history)
    record_build(history, "run-2", [JUNE])
    published = publish_pg(history, bi_db)
    assert published.mode == "whole" and "not those this warehouse published last" in published.reason
    assert sum(published.rows_written.values()) == 36


# ---------------------------------------------------------------------------------------------------
# the serving asset and the GE checks


@pytest.mark.postgres
def test_asset_reports_mode_months_and_rows_per_target(history: Path, bi_db: BiDatabase,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.serving.test_asset import _materialize

    meta = _materialize(monkeypatch, history, bi_db.url, bi_db.prefix)
    assert (meta["serving_file_mode"], meta["postgres_mode"]) == ("whole", "whole")
    assert meta["serving_file_rows_written"] == meta["postgres_rows_written"] == 35
    assert meta["serving_file_months"] == meta["postgres_months"] == "all"
    rebuild_june(history)
    record_build(history, "run-2", [JUNE])
    meta = _materialize(monkeypatch, history, bi_db.url, bi_db.prefix)
    assert (meta["serving_file_mode"], meta["postgres_mode"]) == ("months", "months")
    assert meta["serving_file_months"] == meta["postgres_months"] == ["2023-06"]
    assert meta["serving_file_rows_written"] == meta["postgres_rows_written"] == 27
    assert meta["serving_file_rows_deleted"] == meta["postgres_rows_deleted"] == 26
    assert meta["serving_file_rows_written_by_mart"] == meta["postgres_rows_written_by_mart"] == WRITTEN
    con = duckdb.connect(str(history), read_only=True)
    applied = con.execute("SELECT target LIKE 'postgres:%', build_no, mode, months, rows_written, run_id"
                          " FROM meta.serving_applied ORDER BY 1").fetchall()
    con.close()
    assert [r[:5] for r in applied] == [(False, 2, "months", "2023-06", 27), (True, 2, "months", "2023-06", 27)]
    # What `zengshou run` prints after the transform job (runner._published).
    from dagster_project.runner import _published
    from dagster_project.settings import load_settings

    assert applied[0][5] == applied[1][5]
    assert _published(load_settings(), applied[0][5]) == (
        "published: serving file months 2023-06 (27 rows written), postgres months 2023-06 (27 rows written)")


def test_validation_scope_is_the_rebuilt_months() -> None:
    june = Changes((JUNE,), "run x rebuilt 2023-06")
    query, meta = validation_scope("marts.kpi_scorecard", june)
    assert query == "SELECT * FROM marts.kpi_scorecard WHERE \"as_of_month\" IN (DATE '2023-06-01')"
    assert meta["validated_months"] == ["2023-06"]
    query, _ = validation_scope("marts.fct_employment_duration", Changes((MAY, JUNE), "two months"))
    assert query == 'SELECT * FROM marts.fct_employment_duration WHERE "year" IN (2023)'
    assert validation_scope("marts.dim_region", june) == (
        "SELECT * FROM marts.dim_region",
        {"validated_months": "all", "validated_scope": "whole table: a mart without months"})
    assert validation_scope("marts.kpi_scorecard", Changes(None, "every month: asked for"))[0] == (
        "SELECT * FROM marts.kpi_scorecard")
    assert validation_scope("marts.kpi_scorecard", Changes((), "run x rebuilt no snapshot month"))[0] is None


def test_run_changes_reads_the_build_of_the_run(history: Path) -> None:
    record_build(history, "run-2", [JUNE])
    record_build(history, "run-3", None, whole=False)
    con = duckdb.connect(str(history))
    try:
        assert run_changes(con, "run-1").months is None
        assert run_changes(con, "run-2").months == (JUNE,)
        assert "subset" in run_changes(con, "run-3").reason
        assert run_changes(con, "run-9").reason == "this run built no marts"
    finally:
        con.close()


def test_ge_check_validates_only_the_rebuilt_year(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real GE on a fact with a bad 2022 row (13 months worked, above 12). Runs on one Dagster instance:
    A rebuilt everything -> both years validated, fails; B rebuilt no month -> A's verdict (failed)
    stands, nothing validated; C rebuilt 2023-06 -> year 2023 only, passes; D no month -> C's verdict
    (passed). E, on a fresh instance with no verdict to repeat, rebuilt no month -> whole table, fails."""
    from dagster_project.resources import build_resources
    from dagster_project.settings import load_settings

    path = tmp_path / "wh" / "zengshou.duckdb"
    path.parent.mkdir()
    con = duckdb.connect(str(path))
    con.execute("""
        CREATE SCHEMA marts;
        CREATE TABLE marts.fct_employment_duration (person_key VARCHAR, year INTEGER, as_of_month DATE,
            county_code VARCHAR, prefecture_code VARCHAR, household_type VARCHAR, months_worked INTEGER,
            is_employed BOOLEAN, work_region VARCHAR);
        INSERT INTO marts.fct_employment_duration VALUES
            (repeat('a', 64), 2022, '2022-12-01', '530102', '530100', '脱贫户', 13, true, '县内'),
            (repeat('a', 64), 2023, '2023-06-01', '530102', '530100', '脱贫户', 6, true, '县内'),
            (repeat('b', 64), 2023, '2023-06-01', '530302', '530300', '脱贫户', 0, false, NULL);""")
    con.close()
    months: list = [None]

    @dg.asset(key=["marts", "fct_employment_duration"])
    def build(context) -> None:   # stands in for the dbt build of the run (no annotation: see Dagster)
        record_build(path, context.run.run_id, months[0])

    monkeypatch.setenv("ZENGSHOU_WAREHOUSE", str(path))
    resources = build_resources(load_settings())
    check = ge_suite_check("marts.fct_employment_duration")
    instance = dg.DagsterInstance.ephemeral()

    def run(rebuilt: list | None, on: dg.DagsterInstance | None = None) -> tuple[bool, dict]:
        months[0] = rebuilt
        result = dg.materialize([build, check], instance=on or instance, resources=resources, raise_on_error=False)
        [evaluation] = result.get_asset_check_evaluations()
        return evaluation.passed, {k: v.value for k, v in evaluation.metadata.items()}

    passed, meta = run(None)                                                    # A
    assert not passed and meta["validated_months"] == "all"
    assert any("months_worked" in f for f in meta["ge_failed"])
    passed, meta = run([])                                                      # B
    assert not passed and meta["ge_evaluated"] == 0 and meta["validated_months"] == []
    assert meta["validated_scope"].endswith("stands")
    passed, meta = run([JUNE])                                                  # C
    assert passed and meta["validated_months"] == ["2023-06"] and meta["ge_evaluated"] > 10
    assert meta["validated_scope"].startswith("year of the months rebuilt") and meta["validated_years"] == [2023]
    passed, meta = run([])                                                      # D
    assert passed and meta["ge_evaluated"] == 0
    passed, meta = run([], dg.DagsterInstance.ephemeral())                     # E
    assert not passed and meta["validated_months"] == "all" and meta["ge_evaluated"] > 10


@pytest.mark.postgres
def test_restricted_month_list_keeps_its_row_security_in_a_months_publish(history: Path, bi_db: BiDatabase) -> None:
    """The early-warning list (county_roles_only, by month) in a months publish: 2023-06 loses 五华区's
    'returned' row; the county role sees its one remaining row, the analyst still nothing, and the
    serving file still leaves the list out."""
    from tests.serving.test_postgres import _add_worklist

    _add_worklist(history)
    publish_pg(history, bi_db)
    publish_file(history)
    con = duckdb.connect(str(history))
    con.execute("DELETE FROM marts.fct_early_warning WHERE reason = 'returned'")
    con.close()
    record_build(history, "run-2", [JUNE])
    published = publish_pg(history, bi_db)
    assert published.mode == "months" and "fct_early_warning" in published.restricted_tables
    assert (published.rows_deleted["fct_early_warning"], published.rows_written["fct_early_warning"]) == (4, 3)
    wuhua = bi_db.login_member_of(f"{bi_db.prefix}_county_530102")
    assert bi_db.rows("SELECT person_no, reason FROM marts.fct_early_warning", *wuhua) == [
        ("530102001000001101", "stalled")]
    analyst = bi_db.login_member_of(f"{bi_db.prefix}_analyst")
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        bi_db.rows("SELECT count(*) FROM marts.fct_early_warning", *analyst)
    served = publish_file(history)
    assert served.mode == "months" and served.withheld == ("fct_early_warning",)
    assert "fct_early_warning" not in served.rows_written and served.rows_written["fct_early_warning_counts"] == 9
