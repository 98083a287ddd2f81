"""Fixtures of the serving tests: a small hand-made warehouse, and the PostgreSQL test database with a
publisher that may create roles (the reader roles are cluster-wide, so they get a per-session prefix
and are dropped again at the end)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg2
import pytest
from sqlalchemy.engine import make_url

from tests import pg

# Two prefectures and the province: 昆明市 530100 (五华区 530102, 盘龙区 530103) and
# 曲靖市 530300 (麒麟区 530302).
REGIONS = [
    ("530000", "province", "云南省", None, None, None),
    ("530100", "prefecture", "昆明市", "530000", None, None),
    ("530102", "county", "五华区", "530100", False, None),
    ("530103", "county", "盘龙区", "530100", False, None),
    ("530300", "prefecture", "曲靖市", "530000", None, None),
    ("530302", "county", "麒麟区", "530300", True, True),
]
KUNMING = {"530100", "530102", "530103"}
QUJING = {"530300", "530302"}


def build_warehouse(path: Path, version: int = 1) -> None:
    """Marts with known rows (``version`` scales the scorecard values so a re-publish is visible), plus
    raw / meta / quarantine tables holding personal data that must never be published."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute("""
            CREATE SCHEMA marts; CREATE SCHEMA raw; CREATE SCHEMA meta; CREATE SCHEMA quarantine;
            CREATE TABLE marts.dim_region (region_code VARCHAR, region_level VARCHAR, region_name VARCHAR,
                parent_code VARCHAR, is_former_poverty_county BOOLEAN, is_key_assistance_county BOOLEAN);
            CREATE TABLE marts.kpi_scorecard (as_of_month DATE, year INTEGER, region_level VARCHAR,
                region_code VARCHAR, region_name VARCHAR, kpi_code VARCHAR, actual_value DOUBLE,
                numerator DOUBLE, denominator DOUBLE, target_value DOUBLE, comparator VARCHAR, status VARCHAR);
            CREATE TABLE marts.fct_employment_duration (person_key VARCHAR, year INTEGER, as_of_month DATE,
                county_code VARCHAR, household_type VARCHAR, months_worked INTEGER, is_employed BOOLEAN,
                work_region VARCHAR);
            CREATE TABLE marts.fct_income_growth (household_key VARCHAR, year INTEGER, as_of_month DATE,
                county_code VARCHAR, household_type VARCHAR, household_size INTEGER,
                wage_income_yuan DECIMAL(18,2), prior_year_wage_income_yuan DECIMAL(18,2),
                prior_year_household_size INTEGER);
            CREATE TABLE marts.fct_relief_wage_ratio (project_id VARCHAR, year INTEGER, county_code VARCHAR,
                fund_source VARCHAR, central_funds_wan DECIMAL(18,4), labor_remuneration_wan DECIMAL(18,4),
                remuneration_ratio DOUBLE, required_ratio DOUBLE, is_compliant BOOLEAN);
            CREATE TABLE raw.monitoring_members (id_number VARCHAR, name VARCHAR, phone VARCHAR);
            INSERT INTO raw.monitoring_members VALUES ('53010219900101123X', '张三', '13800000000');
            CREATE TABLE quarantine.rejected_rows (original_values VARCHAR);
            INSERT INTO quarantine.rejected_rows VALUES ('{"证件号码": "53010219900101123X"}');
            CREATE TABLE meta.load_batches (batch_id VARCHAR);
        """)
        con.executemany("INSERT INTO marts.dim_region VALUES (?, ?, ?, ?, ?, ?)", REGIONS)
        kpis = []
        for code, level, name, *_ in REGIONS:
            for kpi, target in (("employment_vs_prior_year", 1.0), ("q1_progress", 0.9)):
                value = 0.5 + int(code[-3:]) / 10000 * version
                kpis.append(("2023-06-01", 2023, level, code, name, kpi, value, value * 100, 100.0, target, ">=",
                             "met" if value >= target else "not_met"))
        con.executemany("INSERT INTO marts.kpi_scorecard VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", kpis)
        con.executemany("INSERT INTO marts.fct_employment_duration VALUES (?, 2023, '2023-06-01', ?, ?, ?, ?, ?)", [
            ("a" * 64, "530102", "脱贫户", 6, True, "县内"),
            ("b" * 64, "530103", "脱贫户", 0, False, None),
            ("c" * 64, "530302", "一般农户", 12, True, "省外"),
        ])
        con.executemany("INSERT INTO marts.fct_income_growth VALUES (?, 2023, '2023-06-01', ?, '脱贫户', ?, ?, ?, ?)", [
            ("h" * 64, "530102", 4, 12000.50, 10000.00, 4),
            ("i" * 64, "530302", 3, 9000.00, None, None),
        ])
        con.executemany("INSERT INTO marts.fct_relief_wage_ratio VALUES (?, 2023, ?, ?, ?, ?, ?, ?, ?)", [
            ("P-001", "530102", "中央预算内投资", 100, 35, 0.35, 0.3, True),
            ("P-002", "530302", "中央财政衔接推进乡村振兴补助资金", 50, 5, 0.1, 0.2, False),
            ("P-003", None, "其他", 10, 1, 0.1, None, None),   # a prefecture-level project: no county
        ])
    finally:
        con.close()


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse" / "zengshou.duckdb"
    path.parent.mkdir()
    build_warehouse(path)
    return path


@dataclass(frozen=True)
class BiDatabase:
    url: str            # SQLAlchemy URL of the publishing user (owner of the database)
    prefix: str         # reader-role prefix of this session
    port: int
    dbname: str

    def connect(self, user: str | None = None, password: str | None = None):
        parsed = make_url(self.url)
        return psycopg2.connect(host=parsed.host, port=parsed.port, dbname=parsed.database,
                                user=user or parsed.username, password=password or parsed.password)

    def rows(self, query: str, user: str | None = None, password: str | None = None) -> list[tuple]:
        """``query``'s rows, as the publishing user or as ``user`` (a reader login)."""
        conn = self.connect(user, password)
        try:
            with conn.cursor() as cur:
                cur.execute(query)
                return cur.fetchall()
        finally:
            conn.close()

    def login_member_of(self, group: str | None) -> tuple[str, str]:
        """A login user that is a member of ``group`` (how an administrator hands a role out)."""
        user, password = f"{self.prefix}_u{secrets.token_hex(3)}", secrets.token_hex(12)
        member = f' IN ROLE "{group}"' if group else ""
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(f'CREATE ROLE "{user}" LOGIN PASSWORD %s{member}', (password,))
        return user, password


@pytest.fixture(scope="session")
def bi_db(postgres_url: str) -> Iterator[BiDatabase]:
    parsed = make_url(postgres_url)
    prefix = f"zst{secrets.token_hex(3)}"
    pg.psql(f'ALTER ROLE "{parsed.username}" CREATEROLE;', parsed.port)
    try:
        yield BiDatabase(postgres_url, prefix, parsed.port, parsed.database)
    finally:
        roles = [r for r in pg.psql(f"SELECT rolname FROM pg_roles WHERE rolname LIKE '{prefix}%';",
                                    parsed.port).split() if r]
        if roles:
            names = ", ".join(f'"{r}"' for r in roles)
            pg.psql(f"DROP OWNED BY {names} CASCADE;", parsed.port, database=parsed.database)
            pg.psql(f"DROP ROLE {names};", parsed.port)


# Person-level marts added on top of build_warehouse for the row-security tests (issue 13 #6), with a
# restricted person list (issue 10 §2.3). Their regions: 五华区 530102 and 盘龙区 530103 (昆明市
# 530100), 麒麟区 530302 (曲靖市 530300), and NULL (a row whose region is unknown).
PERSON_MARTS_YML = """version: 2
models:
  - name: fct_early_warning_test
    description: 就业不稳预警名单（测试）/ Early-warning list (test mart).
    config:
      meta: {zengshou_publish: county_roles_only}
    columns:
      - name: household_no
        description: 户编号 / Household number of the monitoring system.
      - name: person_no
        description: 人口编号 / Person number of the monitoring system.
      - name: reason
        description: 预警原因 / Reason.
"""


def add_person_marts(path: Path) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("""
            CREATE TABLE marts.fct_training (training_id VARCHAR, person_key VARCHAR, county_code VARCHAR,
                prefecture_code VARCHAR, end_date DATE, is_completed BOOLEAN);
            INSERT INTO marts.fct_training VALUES
                ('T1', repeat('a', 64), '530102', '530100', '2023-02-15', true),
                ('T2', repeat('b', 64), '530103', '530100', '2023-03-01', true),
                ('T3', repeat('c', 64), '530302', '530300', '2023-01-20', false),
                ('T4', repeat('x', 64), NULL, NULL, '2023-03-10', true);
            CREATE TABLE marts.fct_jobseeker_by_prefecture (person_key VARCHAR, prefecture_code VARCHAR,
                registered_on DATE);
            INSERT INTO marts.fct_jobseeker_by_prefecture VALUES
                (repeat('a', 64), '530100', '2023-01-05'), (repeat('c', 64), '530300', '2023-01-06');
            CREATE TABLE marts.fct_early_warning_test (as_of_month DATE, county_code VARCHAR,
                prefecture_code VARCHAR, household_no VARCHAR, person_no VARCHAR, reason VARCHAR,
                months_worked INTEGER);
            INSERT INTO marts.fct_early_warning_test VALUES
                ('2023-06-01', '530102', '530100', '530102001001000001', '53010200100100000101', 'stalled', 5),
                ('2023-06-01', '530102', '530100', '530102001001000002', '53010200100100000201', 'unserved', 0),
                ('2023-06-01', '530103', '530100', '530103002001000007', '53010300200100000702', 'returned', 3),
                ('2023-06-01', '530302', '530300', '530302003002000004', '53030200300200000401', 'stalled', 4);
        """)
    finally:
        con.close()


def manifest_node(model: dict) -> dict:
    """A model of a dbt yml as the manifest holds it (the fields dagster_project/marts.py reads)."""
    config = model.get("config") or {}
    return {
        "resource_type": "model", "name": model["name"], "description": model.get("description", ""),
        "meta": {**(model.get("meta") or {}), **(config.get("meta") or {})},
        "config": {"schema": "marts", "meta": {**(model.get("meta") or {}), **(config.get("meta") or {})}},
        "columns": {c["name"]: {"name": c["name"], "description": c.get("description", ""),
                                "meta": c.get("meta") or {}} for c in model.get("columns") or []},
        "tags": [],
    }


@pytest.fixture()
def mart_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project's dbt manifest plus the models of PERSON_MARTS_YML, read by the catalog instead of
    the real one (the restricted test list is declared the way a real mart declares it)."""
    import json

    import yaml

    from dagster_project import marts

    manifest = json.loads(marts.manifest_path().read_text("utf-8"))
    for model in yaml.safe_load(PERSON_MARTS_YML)["models"]:
        manifest["nodes"][f"model.zengshou.{model['name']}"] = manifest_node(model)
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    monkeypatch.setattr(marts, "manifest_path", lambda: path)
    return path


@pytest.fixture()
def person_warehouse(warehouse: Path, mart_manifest: Path) -> Path:
    add_person_marts(warehouse)
    return warehouse
