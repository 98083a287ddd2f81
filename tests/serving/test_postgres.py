"""Publishing to a real PostgreSQL 15: types, Chinese views and comments, reader roles with
per-prefecture row-level security, no personal data, and a failed publish leaves the old state."""

from __future__ import annotations

from pathlib import Path

import duckdb
import psycopg2
import pytest
from sqlalchemy.engine import make_url

from dagster_project.serving import PublishError, RoleNames, publish_postgres
from dagster_project.serving import postgres as pg_publish
from tests.serving import rls
from tests.serving.conftest import KUNMING, QUJING, REGIONS, BiDatabase, build_warehouse

pytestmark = pytest.mark.postgres

PERSONAL = {"id_number", "head_id_number", "name", "head_name", "phone", "证件号码", "姓名", "户主姓名",
            "户主证件号码", "户联系电话"}


def _publish(warehouse: Path, bi: BiDatabase):
    return publish_postgres(warehouse, bi.url, role_prefix=bi.prefix)



def _state(bi: BiDatabase) -> tuple:
    """What a reader sees: row counts, a checksum of the scorecard and the Chinese view's columns."""
    return (
        bi.rows("SELECT count(*), round(sum(actual_value)::numeric, 6) FROM marts.kpi_scorecard")[0],
        bi.rows("SELECT count(*) FROM marts.fct_relief_wage_ratio")[0],
        bi.rows("SELECT count(*) FROM marts_zh.kpi_scorecard")[0],
    )


def test_publish_types_views_and_comments(warehouse: Path, bi_db: BiDatabase) -> None:
    published = _publish(warehouse, bi_db)
    assert published.tables["kpi_scorecard"] == 12
    assert published.rls_tables == {"dim_region": "region_code", "kpi_scorecard": "region_code",
                                    "fct_employment_duration": "county_code", "fct_income_growth": "county_code",
                                    "fct_relief_wage_ratio": "county_code"}
    assert "password" not in published.database and ":***@" in published.database
    types = dict(((t, c), d) for t, c, d in bi_db.rows(
        "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'marts'"))
    assert types[("kpi_scorecard", "actual_value")] == "double precision"
    assert types[("kpi_scorecard", "as_of_month")] == "date"
    assert types[("kpi_scorecard", "region_code")] == "text"
    assert types[("fct_employment_duration", "is_employed")] == "boolean"
    assert types[("fct_employment_duration", "months_worked")] == "integer"
    assert types[("fct_income_growth", "wage_income_yuan")] == "numeric"
    # Values survive the COPY round trip: NULLs, decimals, booleans, Chinese text.
    assert bi_db.rows("SELECT wage_income_yuan, prior_year_wage_income_yuan, household_type FROM"
                        " marts.fct_income_growth ORDER BY county_code") == [
        (pytest.approx(12000.50), pytest.approx(10000.00), "脱贫户"), (pytest.approx(9000.00), None, "脱贫户")]
    # Chinese column names on the views, and the dbt descriptions as comments on tables and views.
    zh = bi_db.rows('SELECT "地区代码", "指标代码", "实际值", "状态" FROM marts_zh.kpi_scorecard'
                      " WHERE \"地区代码\" = '530302' AND \"指标代码\" = '第一季度完成年度就业目标进度'")
    assert zh == [("530302", "第一季度完成年度就业目标进度", pytest.approx(0.5302), "未达标")]  # SPEC §2.2 labels
    levels = {r[0] for r in bi_db.rows('SELECT DISTINCT "地区层级" FROM marts_zh.dim_region')}
    assert levels == {"省", "州市", "县市区"}
    assert bi_db.rows("SELECT DISTINCT status FROM marts.kpi_scorecard") == [("not_met",)]  # marts keep codes
    comments = bi_db.rows(
        "SELECT col_description('marts.kpi_scorecard'::regclass, 4),"
        " obj_description('marts.kpi_scorecard'::regclass, 'pg_class'),"
        " (SELECT col_description('marts_zh.kpi_scorecard'::regclass, attnum) FROM pg_attribute"
        "  WHERE attrelid = 'marts_zh.kpi_scorecard'::regclass AND attname = '地区代码')")[0]
    assert comments[0].startswith("地区代码") and "Region code" in comments[0]
    assert "记分卡" in comments[1]
    assert comments[2] == comments[0]
    # Re-publishing is idempotent (roles already there, schemas replaced).
    again = _publish(warehouse, bi_db)
    assert again.created_roles == [] and again.tables == published.tables


def test_prefecture_role_sees_only_its_prefecture_and_counties(warehouse: Path, bi_db: BiDatabase) -> None:
    _publish(warehouse, bi_db)
    roles = RoleNames(bi_db.prefix)
    kunming = bi_db.login_member_of(roles.prefecture("530100"))
    qujing = bi_db.login_member_of(roles.prefecture("530300"))
    province = bi_db.login_member_of(roles.province)

    for view in ("marts.kpi_scorecard", "marts.dim_region"):
        codes = {r[0] for r in bi_db.rows(f"SELECT region_code FROM {view}", *kunming)}
        assert codes == KUNMING, view        # no province row, no other prefecture
    assert {r[0] for r in bi_db.rows('SELECT "地区代码" FROM marts_zh.kpi_scorecard', *kunming)} == KUNMING
    assert {r[0] for r in bi_db.rows("SELECT region_code FROM marts.kpi_scorecard", *qujing)} == QUJING
    assert {r[0] for r in bi_db.rows("SELECT county_code FROM marts.fct_employment_duration", *kunming)} == {
        "530102", "530103"}
    assert bi_db.rows("SELECT project_id FROM marts.fct_relief_wage_ratio", *qujing) == [("P-002",)]
    assert bi_db.rows('SELECT "项目编号" FROM marts_zh.fct_relief_wage_ratio', *qujing) == [("P-002",)]
    # The province role sees every row, the province's included.
    all_codes = {r[0] for r in REGIONS}
    assert {r[0] for r in bi_db.rows("SELECT region_code FROM marts.kpi_scorecard", *province)} == all_codes
    assert len(bi_db.rows("SELECT * FROM marts.fct_relief_wage_ratio", *province)) == 3
    # A login user holding no reader role cannot even look into the schemas.
    outsider = bi_db.login_member_of(None)
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        bi_db.rows("SELECT count(*) FROM marts.kpi_scorecard", *outsider)


def test_analyst_is_read_only_and_finds_no_personal_data(warehouse: Path, bi_db: BiDatabase) -> None:
    _publish(warehouse, bi_db)
    analyst = bi_db.login_member_of(RoleNames(bi_db.prefix).analyst)
    columns = bi_db.rows(("SELECT table_schema, table_name, column_name FROM information_schema.columns"
                            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"), *analyst)
    schemas = {c[0] for c in columns}
    assert schemas == {"marts", "marts_zh"}          # raw / meta / quarantine were never published
    assert not {c[2].lower() for c in columns} & PERSONAL
    assert len(bi_db.rows("SELECT * FROM marts.kpi_scorecard", *analyst)) == 12
    conn = bi_db.connect(*analyst)
    try:
        for statement in ("DELETE FROM marts.kpi_scorecard", "CREATE TABLE marts.mine (x int)",
                          "UPDATE marts.dim_region SET region_name = 'x'"):
            with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(statement)
            conn.rollback()
    finally:
        conn.close()


def test_failed_publish_rolls_back_and_the_previous_state_stays_readable(warehouse: Path,
                                                                          bi_db: BiDatabase) -> None:
    _publish(warehouse, bi_db)
    before = _state(bi_db)
    # The next run's marts carry a value PostgreSQL refuses (a NUL character) in the last table copied,
    # after the other marts were already loaded into the staging schema.
    build_warehouse(warehouse, version=5)
    con = duckdb.connect(str(warehouse))
    con.execute("INSERT INTO marts.kpi_scorecard (as_of_month, year, region_level, region_code, kpi_code, status)"
                " VALUES ('2023-07-01', 2023, 'county', '530102', 'bad' || chr(0) || 'code', 'no_data')")
    con.close()
    with pytest.raises(PublishError, match="rolled back"):
        _publish(warehouse, bi_db)
    assert _state(bi_db) == before
    assert bi_db.rows("SELECT count(*) FROM pg_namespace WHERE nspname = 'marts__publishing'") == [(0,)]


def test_connection_lost_before_commit_keeps_the_previous_state(warehouse: Path, bi_db: BiDatabase,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _publish(warehouse, bi_db)
    before = _state(bi_db)
    build_warehouse(warehouse, version=7)

    def kill_own_backend(cur) -> None:
        # By now the old schemas are dropped and the new ones renamed in, inside the transaction.
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
        assert bi_db.rows(f"SELECT pg_terminate_backend({pid})") == [(True,)]

    monkeypatch.setattr(pg_publish, "_before_commit", kill_own_backend)
    with pytest.raises(PublishError, match="rolled back"):
        _publish(warehouse, bi_db)
    assert _state(bi_db) == before
    monkeypatch.undo()
    _publish(warehouse, bi_db)
    assert _state(bi_db) != before                   # and the next publish goes through


def test_publisher_that_may_not_create_roles_gets_the_statements_to_run(warehouse: Path,
                                                                       bi_db: BiDatabase) -> None:
    user, password = bi_db.login_member_of(None)
    with bi_db.connect() as conn, conn.cursor() as cur:
        cur.execute(f'GRANT CREATE ON DATABASE "{bi_db.dbname}" TO "{user}"')
    url = make_url(bi_db.url).set(username=user, password=password).render_as_string(hide_password=False)
    fresh = f"{bi_db.prefix}new"                     # reader roles that do not exist yet
    with pytest.raises(PublishError, match=f"CREATE ROLE {fresh}_analyst NOLOGIN") as raised:
        publish_postgres(warehouse, url, role_prefix=fresh)
    assert password not in str(raised.value)
    assert bi_db.rows(f"SELECT count(*) FROM pg_roles WHERE rolname LIKE '{fresh}%'") == [(0,)]


def test_bad_url_is_a_clear_error(warehouse: Path) -> None:
    with pytest.raises(PublishError, match="PostgreSQL URL"):
        publish_postgres(warehouse, "mysql://u:p@localhost/db")
    with pytest.raises(PublishError, match="cannot connect"):
        publish_postgres(warehouse, "postgresql://nobody:secret@127.0.0.1:1/none")


# ---------------------------------------------------------------------------------------------------
# row security by region for every kind of role (issue 13 #6) and the restricted list (issue 10 §2.3)


def _login(bi: BiDatabase, group: str):
    return bi.connect(*bi.login_member_of(group))      # over TCP, with a password


def test_every_role_sees_only_its_region_in_every_table_and_view(person_warehouse: Path,
                                                                bi_db: BiDatabase) -> None:
    published = _publish(person_warehouse, bi_db)
    roles = RoleNames(bi_db.prefix)
    assert {roles.county("530102"), roles.county("530103"), roles.county("530302")} <= set(published.roles)
    assert published.restricted_tables == ["fct_early_warning_test"]
    assert published.rls_tables["fct_training"] == "prefecture_code"
    marts = rls.published_marts(person_warehouse)
    kinds = {
        "analyst": (roles.analyst, rls.analyst()),
        "province": (roles.province, rls.province()),
        "prefecture 昆明市": (roles.prefecture("530100"), rls.prefecture("530100", {"530102", "530103"})),
        "county 五华区 (昆明市)": (roles.county("530102"), rls.county("530102", "530100")),
        "county 麒麟区 (曲靖市)": (roles.county("530302"), rls.county("530302", "530300")),
    }
    owner = bi_db.connect()
    seen = {}
    try:
        for kind, (group, reach) in kinds.items():
            reader = _login(bi_db, group)
            try:
                seen[kind] = rls.assert_sees_only_its_region(owner, reader, reach, marts)
            finally:
                reader.close()
    finally:
        owner.close()
    # Known answers, worked out from conftest's rows (T4 has no region: province / analyst only).
    warning = "marts.fct_early_warning_test"  # the list: in marts only, never a marts_zh view (SPEC §2.3)
    assert all("marts_zh.fct_early_warning_test" not in by_relation for by_relation in seen.values())
    assert seen["analyst"][warning] == 0      # denied
    assert seen["province"][warning] == 4
    assert seen["prefecture 昆明市"][warning] == 3
    assert seen["county 五华区 (昆明市)"][warning] == 2
    assert seen["county 麒麟区 (曲靖市)"][warning] == 1
    for schema in ("marts", "marts_zh"):
        training = f"{schema}.fct_training"
        assert seen["analyst"][training] == 4
        assert seen["province"][training] == 4
        assert seen["prefecture 昆明市"][training] == 2
        assert seen["county 五华区 (昆明市)"][training] == 1
        assert seen["county 麒麟区 (曲靖市)"][training] == 1
        # A table with prefecture_code only: the prefecture sees its row, a county role nothing.
        assert seen["prefecture 昆明市"][f"{schema}.fct_jobseeker_by_prefecture"] == 1
        assert seen["county 五华区 (昆明市)"][f"{schema}.fct_jobseeker_by_prefecture"] == 0
        assert seen["county 五华区 (昆明市)"][f"{schema}.kpi_scorecard"] == 2       # its own 2 KPIs only
        assert seen["county 五华区 (昆明市)"][f"{schema}.dim_region"] == 1


def test_restricted_list_is_invisible_to_the_analyst(person_warehouse: Path, bi_db: BiDatabase) -> None:
    _publish(person_warehouse, bi_db)
    roles = RoleNames(bi_db.prefix)
    analyst = bi_db.login_member_of(roles.analyst)
    # The analyst can neither read the list nor find it in information_schema; marts_zh has no view of
    # the list at all (SPEC §2.3: marts_zh shows counts per county and reason, not the list).
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        bi_db.rows("SELECT count(*) FROM marts.fct_early_warning_test", *analyst)
    assert not bi_db.rows("SELECT 1 FROM pg_views WHERE schemaname = 'marts_zh'"
                            " AND viewname = 'fct_early_warning_test'")
    listed = {r[0] for r in bi_db.rows("SELECT table_name FROM information_schema.tables"
                                         " WHERE table_schema IN ('marts', 'marts_zh')", *analyst)}
    assert "fct_early_warning_test" not in listed and "fct_training" in listed
    # Who holds SELECT on it: province, prefecture and county roles only.
    holders = {r[0] for r in bi_db.rows(
        "SELECT grantee FROM information_schema.role_table_grants WHERE table_schema = 'marts'"
        " AND table_name = 'fct_early_warning_test' AND privilege_type = 'SELECT'")}
    holders.discard(make_url(bi_db.url).username)                    # the owner
    assert roles.analyst not in holders
    assert holders == {roles.province, roles.prefecture("530100"), roles.prefecture("530300"),
                       roles.county("530102"), roles.county("530103"), roles.county("530302")}
    # A county user looks people up by 户编号/人口编号 in its own county.
    wuhua = bi_db.login_member_of(roles.county("530102"))
    query = "SELECT household_no, person_no, reason FROM marts.fct_early_warning_test"
    assert sorted(bi_db.rows(query, *wuhua)) == [
        ("530102001001000001", "53010200100100000101", "stalled"),
        ("530102001001000002", "53010200100100000201", "unserved")]


def test_person_level_mart_without_a_region_column_fails_publishing(person_warehouse: Path,
                                                                    bi_db: BiDatabase) -> None:
    from dagster_project.serving import publish_serving_file
    from dagster_project.serving.catalog import RowSecurityError

    _publish(person_warehouse, bi_db)
    before = _state(bi_db)
    con = duckdb.connect(str(person_warehouse))
    con.execute("CREATE TABLE marts.fct_skill_certificate (certificate_no VARCHAR, person_key VARCHAR,"
                " issued_on DATE);"
                " INSERT INTO marts.fct_skill_certificate VALUES ('Z1', repeat('c', 64), '2023-03-20')")
    con.close()
    with pytest.raises(RowSecurityError, match=r"fct_skill_certificate .*none of the region columns"):
        _publish(person_warehouse, bi_db)
    with pytest.raises(RowSecurityError, match="fct_skill_certificate"):
        publish_serving_file(person_warehouse)
    assert _state(bi_db) == before                   # PostgreSQL untouched
    assert bi_db.rows("SELECT to_regclass('marts.fct_skill_certificate')") == [(None,)]


# ---------------------------------------------------------------------------------------------------
# The real early-warning marts (issue 10 §2.3; dbt/models/marts/warnings/_warnings.yml declares the list
# zengshou_publish: county_roles_only), published with the project's own yml, hand rows:
#   五华区 530102 (昆明市): 2 people on the list; 盘龙区 530103 (昆明市): 1; 麒麟区 530302 (曲靖市): 1.


WORKLIST = [  # county, prefecture, household_no, person_no, reason, label, months, previous
    ("530102", "530100", "530102001000001", "530102001000001101", "stalled", "断工", 4, 4),
    ("530102", "530100", "530102001000002", "530102001000002301", "returned", "返乡回流", 5, 4),
    ("530103", "530100", "530103001000007", "530103001000007201", "unserved", "有意愿未就业未服务", 0, 0),
    ("530302", "530300", "530302001000004", "530302001000004101", "stalled", "断工", 3, 3),
]
WARNING_COUNTIES = {"530102": ("530100", "五华区"), "530103": ("530100", "盘龙区"), "530302": ("530300", "麒麟区")}
REASON_LABELS = {"stalled": "断工", "returned": "返乡回流", "unserved": "有意愿未就业未服务"}


def _add_worklist(path: Path) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("""
            CREATE TABLE marts.fct_early_warning (as_of_month DATE, year INTEGER, county_code VARCHAR,
                prefecture_code VARCHAR, township_name VARCHAR, village_name VARCHAR, household_no VARCHAR,
                person_no VARCHAR, reason VARCHAR, reason_label_zh VARCHAR, months_worked INTEGER,
                previous_months_worked INTEGER, work_region VARCHAR, previous_work_region VARCHAR);
            CREATE TABLE marts.fct_early_warning_counts (as_of_month DATE, year INTEGER, prefecture_code VARCHAR,
                county_code VARCHAR, county_name VARCHAR, reason VARCHAR, reason_label_zh VARCHAR,
                persons INTEGER);""")
        con.executemany("INSERT INTO marts.fct_early_warning VALUES "
                        "('2023-06-01', 2023, ?, ?, '某乡', '某村', ?, ?, ?, ?, ?, ?, NULL, NULL)", WORKLIST)
        counts = [(pref, county, name, reason, label, sum(1 for w in WORKLIST if w[0] == county and w[4] == reason))
                  for county, (pref, name) in WARNING_COUNTIES.items() for reason, label in REASON_LABELS.items()]
        con.executemany("INSERT INTO marts.fct_early_warning_counts VALUES ('2023-06-01', 2023, ?, ?, ?, ?, ?, ?)",
                        counts)
    finally:
        con.close()


def test_early_warning_list_by_role(warehouse: Path, bi_db: BiDatabase) -> None:
    """A county role sees its own county's list only, its prefecture both its counties, another
    prefecture's county its own row, the province everything; the analyst no list at all, only the
    counts (all counties). The serving file holds the counts and not the list."""
    from dagster_project.serving import publish_serving_file

    _add_worklist(warehouse)
    published = _publish(warehouse, bi_db)
    assert "fct_early_warning" in published.restricted_tables
    assert "fct_early_warning_counts" not in published.restricted_tables
    roles = RoleNames(bi_db.prefix)
    list_q = "SELECT county_code, person_no, reason FROM marts.fct_early_warning ORDER BY person_no"
    counts_q = "SELECT county_code, sum(persons) FROM marts.fct_early_warning_counts GROUP BY 1 ORDER BY 1"
    everyone = sorted((w[0], w[3], w[4]) for w in WORKLIST)
    cases = {  # role -> (list rows it sees, counts per county it sees)
        roles.county("530102"): ([r for r in everyone if r[0] == "530102"], [("530102", 2)]),
        roles.prefecture("530100"): ([r for r in everyone if r[0] in ("530102", "530103")],
                                     [("530102", 2), ("530103", 1)]),
        roles.county("530302"): ([r for r in everyone if r[0] == "530302"], [("530302", 1)]),
        roles.province: (everyone, [("530102", 2), ("530103", 1), ("530302", 1)]),
    }
    for group, (want_list, want_counts) in cases.items():
        user = bi_db.login_member_of(group)
        assert sorted(bi_db.rows(list_q, *user)) == want_list, group
        assert [(c, int(n)) for c, n in bi_db.rows(counts_q, *user)] == want_counts, group
    # 五华区's staff look people up by 户编号 / 人口编号, with the Chinese reason label.
    wuhua = bi_db.login_member_of(roles.county("530102"))
    assert sorted(bi_db.rows("SELECT household_no, person_no, reason_label_zh FROM marts.fct_early_warning",
                        *wuhua)) == [("530102001000001", "530102001000001101", "断工"),
                                     ("530102001000002", "530102001000002301", "返乡回流")]
    # The analyst: no list (not even a marts_zh view of it), the counts of every county in both schemas.
    analyst = bi_db.login_member_of(roles.analyst)
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        bi_db.rows("SELECT count(*) FROM marts.fct_early_warning", *analyst)
    assert not bi_db.rows("SELECT 1 FROM pg_views WHERE schemaname = 'marts_zh' AND viewname = 'fct_early_warning'")
    assert [(c, int(n)) for c, n in bi_db.rows(counts_q, *analyst)] == [("530102", 2), ("530103", 1),
                                                                           ("530302", 1)]
    zh_counts = 'SELECT "县级代码", "预警原因", "预警人数" FROM marts_zh.fct_early_warning_counts WHERE "预警人数" > 0'
    assert sorted(bi_db.rows(zh_counts, *analyst)) == [("530102", "断工", 1), ("530102", "返乡回流", 1),
                                                          ("530103", "有意愿未就业未服务", 1), ("530302", "断工", 1)]
    served = publish_serving_file(warehouse)
    assert "fct_early_warning_counts" in served.tables and "fct_early_warning" not in served.tables
