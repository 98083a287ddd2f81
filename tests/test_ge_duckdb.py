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


def _counts(outcome) -> tuple:
    by_type = {o.expectation: o for o in outcome.outcomes}
    between = by_type["expect_column_values_to_be_between"]
    return (between.unexpected_count, between.element_count, by_type["unexpected_rows_expectation"].observed)


def test_reused_context_sees_rows_written_between_validations(warehouse: Path, monkeypatch) -> None:
    """ge_runner keeps one GE context, datasource and query asset per process and warehouse: a second
    validation of the same query after another connection changed the rows must count the new rows,
    and the file must be free after each validation."""
    assert _counts(_run(warehouse, monkeypatch)) == (1, 14, 2)        # month 13; month 13 + the NULL skill
    con = duckdb.connect(str(warehouse))
    con.execute("INSERT INTO landing.t VALUES (14, NULL), (15, '普通劳动力')")
    con.close()
    # months 13, 14, 15 out of range of 16 rows; rows: the NULL skill (12), 13, 14 (NULL too), 15
    assert _counts(_run(warehouse, monkeypatch)) == (3, 16, 4)
    con = duckdb.connect(str(warehouse))
    con.execute("DELETE FROM landing.t WHERE months >= 12")
    con.close()
    assert _counts(_run(warehouse, monkeypatch)) == (0, 12, 0)


def test_more_warehouses_than_remembered(tmp_path: Path, warehouse: Path, monkeypatch) -> None:
    """One process validating more warehouses (and memory caps) than ge_runner keeps datasources for:
    each is validated on its own rows, the oldest is forgotten and comes back."""
    import shutil

    copies = []
    for i in range(ge_runner._MAX_SOURCES + 1):
        copy = tmp_path / f"copy{i}" / "ge.duckdb"
        copy.parent.mkdir()
        shutil.copy(warehouse, copy)
        con = duckdb.connect(str(copy))
        con.execute(f"DELETE FROM landing.t WHERE months < {i}")    # copy i keeps months i..13: 14 - i rows
        con.close()
        copies.append(copy)
    for i, copy in enumerate([*copies, copies[0]]):
        i = i % len(copies)
        # months i..13: 13 out of range; rows: 13 and the NULL skill (month 12) while i <= 12
        assert _counts(_run(copy, monkeypatch)) == (1, 14 - i, 2)
    suite = _suite()
    monkeypatch.setitem(ge_runner._stored_suites(), "pin", suite)
    small = ge_runner.validate(copies[1], "pin", "SELECT * FROM landing.t", memory_limit="300MB")
    assert _counts(small) == (1, 13, 2)
    assert ge_runner._datasource.cache_info().currsize <= ge_runner._MAX_SOURCES
