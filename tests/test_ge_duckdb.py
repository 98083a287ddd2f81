"""Pins the Great Expectations + DuckDB behaviour the quality layer is built on (see ge_runner).

If a GE or duckdb-engine upgrade fixes the SQL path, `test_unpatched_ge_still_fails_on_duckdb` fails:
then drop the patch. If an upgrade breaks the patch, the known-count tests fail. Either way, loudly.
"""

from pathlib import Path

import duckdb
import pytest

from dagster_project.quality import ge_runner

# 14 rows: months 0..13 (13 is out of range), one NULL code and one code outside the set.
ROWS = [(i, "普通劳动力") for i in range(12)] + [(12, None), (13, "壮劳力")]


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "ge.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA landing; CREATE TABLE landing.t (months INTEGER, skill VARCHAR)")
    con.executemany("INSERT INTO landing.t VALUES (?, ?)", ROWS)
    con.close()
    return path


def _suite():
    import great_expectations as gx
    from great_expectations import expectations as gxe

    from dagster_project.quality.suites import active_context

    active_context()  # building suites needs an active context
    suite = gx.ExpectationSuite(name="pin")
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="months", min_value=0, max_value=12))
    suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="skill", value_set=["普通劳动力"]))
    suite.add_expectation(gxe.UnexpectedRowsExpectation(
        unexpected_rows_query="SELECT * FROM {batch} WHERE months > 12 OR skill IS NULL"))
    return suite


def _run(warehouse: Path, monkeypatch, query: str = "SELECT * FROM landing.t"):
    suite = _suite()
    monkeypatch.setitem(ge_runner._stored_suites(), "pin", suite)
    return ge_runner.validate(warehouse, "pin", query)


def test_patched_ge_counts_known_answers_on_duckdb(warehouse: Path, monkeypatch) -> None:
    outcome = _run(warehouse, monkeypatch)
    by_type = {o.expectation: o for o in outcome.outcomes}
    between = by_type["expect_column_values_to_be_between"]
    assert (between.success, between.unexpected_count, between.element_count) == (False, 1, 14)  # 13
    in_set = by_type["expect_column_values_to_be_in_set"]
    assert (in_set.success, in_set.unexpected_count) == (False, 1)  # 壮劳力; NULL is not "unexpected"
    rows = by_type["unexpected_rows_expectation"]
    assert (rows.success, rows.observed) == (False, 2)  # months 13 and the NULL skill
    assert not outcome.errors


def test_patched_ge_passes_clean_data(warehouse: Path, monkeypatch) -> None:
    outcome = _run(warehouse, monkeypatch, "SELECT * FROM landing.t WHERE months <= 11")
    assert outcome.success and outcome.successful == 3 and not outcome.errors


def test_unpatched_ge_still_fails_on_duckdb(warehouse: Path, monkeypatch) -> None:
    """The reason the patch exists. When this fails, GE fixed DuckDB: remove enable_duckdb_sql_path."""
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine

    original = tuple(d for d in engine._PERSISTED_CONNECTION_DIALECTS if d != "duckdb")
    monkeypatch.setattr(engine, "_PERSISTED_CONNECTION_DIALECTS", original)
    monkeypatch.setattr(ge_runner, "enable_duckdb_sql_path", lambda: None)
    outcome = _run(warehouse, monkeypatch)
    assert not outcome.success
    computed = [o for o in outcome.outcomes if o.unexpected_count is not None or o.observed is not None]
    assert computed == [], "GE computed results on DuckDB without the patch: the patch may be obsolete"


def test_ge_releases_the_warehouse(warehouse: Path, monkeypatch) -> None:
    """After a validation the loader can open the file again (GE's connection must be closed)."""
    _run(warehouse, monkeypatch)
    con = duckdb.connect(str(warehouse))
    assert con.execute("SELECT count(*) FROM landing.t").fetchone()[0] == 14
    con.close()
