"""dbt's data tests on a model built by month look at the months the build rebuilt, not the whole history
(dbt/macros/get_where_subquery.sql; issue 12: month 60 costs what month 2 costs).

On a copy of the known-answer warehouse (snapshots 2022-03, 2022-12, 2023-01, 2023-03), two rules are
broken by hand in rows of 2022 only:
  - one member row of 2022-03 gets county code 999999, which is no county (staging and raw alike, so a
    full refresh stages it again): the error test relationships(stg_monitoring__members.county_code);
  - one person-year of 2022 in fct_employment_duration is written twice: the error test
    unique_combination(person_key, year), on a mart rebuilt by year.
Which test fails is then worked out from the months asked for, as the transform asset asks for them
(meta.dbt_rebuild_request and the constant var):
  2023-03        neither (the broken rows are in 2022-03 and in year 2022)
  2022-12        the mart's only (year 2022; staging's 2022-12 rows are intact)
  2022-03        both
  no var         both (a `dbt test` by hand tests every row)
  --full-refresh the staging test, although the request is empty (a full build tests every row)
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from dagster_project.month_plan import REBUILD_REQUEST_TABLE, REBUILD_REQUEST_VARS
from tests.incremental_build import run_dbt

from .conftest import Published

STAGING_TEST = "test.zengshou.relationships_stg_monitoring__members_county_code__county_code__ref_yunnan_counties_"
MART_TEST = "test.zengshou.unique_combination_fct_employment_duration_person_key__year"
MODELS = ("--select", "stg_monitoring__members", "fct_employment_duration")


def _failed_tests(failed: list[str]) -> set[str]:
    """The generic tests among dbt's failed nodes, named without dbt's hash suffix."""
    return {line.split(":")[0].rsplit(".", 1)[0] for line in failed if line.startswith("test.")}


def _request(warehouse: Path, *months: str) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"CREATE OR REPLACE TABLE {REBUILD_REQUEST_TABLE} (month DATE NOT NULL PRIMARY KEY)")
        for m in months:
            con.execute(f"INSERT INTO {REBUILD_REQUEST_TABLE} VALUES (?)", [f"{m}-01"])


def test_data_tests_on_monthly_models_look_at_the_months_rebuilt(main_run: Published, tmp_path: Path) -> None:
    main_run.require_ok()
    warehouse, env = main_run.scenario.warehouse_copy(tmp_path)
    target = tmp_path / "target"
    with duckdb.connect(str(warehouse)) as con:
        for table in ("raw.monitoring_members", "staging.stg_monitoring__members"):
            con.execute(f"UPDATE {table} SET county_code = '999999' WHERE rowid = (SELECT min(rowid) FROM {table}"
                        f" WHERE as_of_month = DATE '2022-03-01')")
            assert con.execute(f"SELECT count(*) FROM {table} WHERE county_code = '999999'").fetchone() == (1,)
        con.execute("INSERT INTO marts.fct_employment_duration SELECT * FROM marts.fct_employment_duration"
                    " WHERE year = 2022 LIMIT 1")
        assert con.execute("SELECT count(*) FROM marts.fct_employment_duration WHERE year = 2022").fetchone()[0] > 1

    def failing(*args: str) -> set[str]:
        return _failed_tests(run_dbt(env, target, *args, check=False))

    _request(warehouse, "2023-03")
    assert failing("test", *MODELS, *REBUILD_REQUEST_VARS) == set()
    _request(warehouse, "2022-12")
    assert failing("test", *MODELS, *REBUILD_REQUEST_VARS) == {MART_TEST}
    _request(warehouse, "2022-03")
    assert failing("test", *MODELS, *REBUILD_REQUEST_VARS) == {STAGING_TEST, MART_TEST}
    assert failing("test", *MODELS) == {STAGING_TEST, MART_TEST}
    _request(warehouse)
    assert failing("build", "--full-refresh", "--select", "stg_monitoring__members", *REBUILD_REQUEST_VARS) \
        == {STAGING_TEST}
