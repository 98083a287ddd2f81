"""The serving DuckDB file: only the marts (+ Chinese views), swapped in atomically, and a BI reader
that holds the old file open neither blocks the publish nor sees a half-written file."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from dagster_project.serving import PersonalDataError, publish_serving_file, serving_file_path
from tests.serving.conftest import build_warehouse

READER = r"""
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
def snapshot():
    return con.execute("SELECT count(*), round(sum(actual_value), 6) FROM marts.kpi_scorecard").fetchone()
print(json.dumps(snapshot()), flush=True)
sys.stdin.readline()                      # hold the file open until the test has published again
print(json.dumps(snapshot()), flush=True)
print(json.dumps(con.execute("SELECT count(*) FROM marts_zh.kpi_scorecard").fetchone()), flush=True)
"""


def _snapshot(path: Path) -> tuple:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return tuple(con.execute("SELECT count(*), round(sum(actual_value), 6) FROM marts.kpi_scorecard").fetchone())
    finally:
        con.close()


def test_serving_file_holds_only_the_marts_with_chinese_views(warehouse: Path) -> None:
    published = publish_serving_file(warehouse)
    assert published.path == serving_file_path(warehouse) == warehouse.parent / "zengshou_serving.duckdb"
    assert published.tables == {"dim_region": 6, "fct_employment_duration": 3, "fct_income_growth": 2,
                                "fct_relief_wage_ratio": 3, "kpi_scorecard": 12}
    # Nothing but the published file is left next to the warehouse (no temp file, no WAL).
    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["zengshou.duckdb", "zengshou_serving.duckdb"]

    con = duckdb.connect(str(published.path), read_only=True)
    try:
        schemas = {r[0] for r in con.execute(
            "SELECT DISTINCT schema_name FROM duckdb_tables() UNION SELECT DISTINCT schema_name FROM duckdb_views()"
            " WHERE NOT internal").fetchall()}
        assert schemas == {"marts", "marts_zh"}
        columns = con.execute("SELECT schema_name, table_name, column_name, comment FROM duckdb_columns()"
                              " WHERE schema_name IN ('marts', 'marts_zh')").fetchall()
        names = {c[2].lower() for c in columns}
        assert not names & {"id_number", "name", "phone", "证件号码", "姓名", "户联系电话"}
        zh = {(t, c) for s, t, c, _ in columns if s == "marts_zh"}
        assert ("kpi_scorecard", "地区代码") in zh and ("fct_employment_duration", "务工时间（月）") in zh
        comment = next(cm for s, t, c, cm in columns if (s, t, c) == ("marts", "kpi_scorecard", "region_code"))
        assert comment.startswith("地区代码")
        row = con.execute('SELECT "地区名称", "实际值" FROM marts_zh.kpi_scorecard WHERE "地区代码" = \'530100\''
                          " AND \"指标代码\" = '第一季度完成年度就业目标进度'").fetchone()
        assert row[0] == "昆明市" and row[1] == pytest.approx(0.51)
        dtype = con.execute("SELECT data_type FROM duckdb_columns() WHERE table_name = 'fct_income_growth'"
                            " AND schema_name = 'marts' AND column_name = 'wage_income_yuan'").fetchone()[0]
        assert dtype == "DECIMAL(18,2)"
    finally:
        con.close()


def test_reader_holding_the_file_open_neither_blocks_nor_sees_a_partial_publish(warehouse: Path) -> None:
    first = publish_serving_file(warehouse)
    old = _snapshot(first.path)
    reader = subprocess.Popen([sys.executable, "-c", READER, str(first.path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert tuple(json.loads(reader.stdout.readline())) == old      # the reader has the file open
        build_warehouse(warehouse, version=3)                             # the next run changes the marts
        started = time.monotonic()
        second = publish_serving_file(warehouse)                          # ... and publishes while it reads
        assert time.monotonic() - started < 10
        new = _snapshot(second.path)                                      # a new connection: new data
        assert new != old and new[0] == old[0]
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert tuple(json.loads(reader.stdout.readline())) == old        # the open reader: the old snapshot
        assert json.loads(reader.stdout.readline()) == [old[0]]
        assert reader.wait(timeout=20) == 0, reader.stderr.read()
    finally:
        if reader.poll() is None:
            reader.kill()
    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["zengshou.duckdb", "zengshou_serving.duckdb"]


def test_personal_data_is_never_published(warehouse: Path) -> None:
    publish_serving_file(warehouse)
    before = _snapshot(serving_file_path(warehouse))
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE TABLE marts.leaky (county_code VARCHAR, id_number VARCHAR)")
    con.close()
    with pytest.raises(PersonalDataError, match="id_number"):
        publish_serving_file(warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute("DROP TABLE marts.leaky; CREATE TABLE marts.leaky (county_code VARCHAR, note VARCHAR);"
                " INSERT INTO marts.leaky VALUES ('530102', '53010219900101123X')")
    con.close()
    with pytest.raises(PersonalDataError, match="resident ID"):
        publish_serving_file(warehouse)
    # The previous serving file is untouched and no temp file is left behind.
    assert _snapshot(serving_file_path(warehouse)) == before
    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["zengshou.duckdb", "zengshou_serving.duckdb"]


def test_missing_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothing to publish"):
        publish_serving_file(tmp_path / "none.duckdb")


def test_restricted_list_is_not_copied_into_the_serving_file(person_warehouse: Path) -> None:
    """A mart with meta zengshou_publish: county_roles_only (the early-warning list) goes to the county
    roles of PostgreSQL only: the serving file has no row-level security, so neither marts nor marts_zh
    there hold it; the other person-level marts (with their region columns) are copied."""
    published = publish_serving_file(person_warehouse)
    assert published.withheld == ("fct_early_warning_test",)
    assert "fct_early_warning_test" not in published.tables and published.tables["fct_training"] == 4
    con = duckdb.connect(str(published.path), read_only=True)
    try:
        names = {(s, t) for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() UNION ALL"
            " SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    finally:
        con.close()
    assert ("marts", "fct_training") in names and ("marts_zh", "fct_training") in names
    assert not {t for _, t in names} & {"fct_early_warning_test"}


def test_unknown_publishing_rule_is_refused(person_warehouse: Path, mart_manifest: Path) -> None:
    """A typo in the meta must not publish a restricted list to everyone."""
    from dagster_project.serving.catalog import RowSecurityError

    manifest = json.loads(mart_manifest.read_text("utf-8"))
    node = manifest["nodes"]["model.zengshou.fct_early_warning_test"]
    node["meta"]["zengshou_publish"] = node["config"]["meta"]["zengshou_publish"] = "county_role_only"
    mart_manifest.write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    with pytest.raises(RowSecurityError, match="unknown meta zengshou_publish: 'county_role_only'"):
        publish_serving_file(person_warehouse)
    assert not serving_file_path(person_warehouse).exists()


def test_chinese_views_show_labels_not_codes(warehouse: Path) -> None:
    """SPEC §2.2: statuses, region levels and KPI codes read in Chinese in marts_zh; no text value of any
    marts_zh view is an English code (^[a-z_]+$), while marts keeps the codes."""
    published = publish_serving_file(warehouse)
    con = duckdb.connect(str(published.path), read_only=True)
    try:
        assert english_codes_in_chinese_views(con) == []
        rows = con.execute('SELECT DISTINCT "地区层级", "指标代码", "状态" FROM marts_zh.kpi_scorecard'
                           " WHERE \"地区代码\" IN ('530000', '530100', '530102')").fetchall()
        assert {r[0] for r in rows} == {"省", "州市", "县市区"}
        assert {r[1] for r in rows} == {"脱贫人口务工规模与上年度末之比", "第一季度完成年度就业目标进度"}
        assert {r[2] for r in rows} == {"未达标"}          # 0.5..0.51 against 1.00 and 0.90
        assert con.execute("SELECT DISTINCT status FROM marts.kpi_scorecard").fetchall() == [("not_met",)]
        assert {r[0] for r in con.execute('SELECT "地区层级" FROM marts_zh.dim_region').fetchall()} == {
            "省", "州市", "县市区"}
    finally:
        con.close()


def english_codes_in_chinese_views(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(view, column, value) of every text value in a marts_zh view that looks like an English code.
    Keyed hashes (person_key, household_key …: hex digests, not codes) are not scanned."""
    found = []
    columns = con.execute(
        "SELECT z.table_name, z.column_name FROM duckdb_columns() z JOIN duckdb_columns() m"
        " ON m.schema_name = 'marts' AND m.table_name = z.table_name AND m.column_index = z.column_index"
        " WHERE z.schema_name = 'marts_zh' AND z.data_type = 'VARCHAR' AND NOT m.column_name LIKE '%\\_key' ESCAPE '\\'"
        " ORDER BY 1, 2").fetchall()
    for view, column in columns:
        hits = con.execute(f'SELECT DISTINCT "{column}" FROM marts_zh."{view}"'
                           f" WHERE regexp_full_match(\"{column}\", '[a-z_]+') LIMIT 5").fetchall()
        found += [(view, column, h[0]) for h in hits]
    return found
