"""Great Expectations Data Docs: a page per validation in a local site with an index, linked from
check metadata; stored suites untouched; sample values of non-mart suites (personal data) removed."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import duckdb
import pytest

from dagster_project.quality import data_docs, ge_runner
from dagster_project.quality.data_docs import data_docs_dir, record_validation
from dagster_project.settings import EXPECTATIONS_DIR

ID_NUMBER = "53010219900101123X"


def _stored_suites_digest() -> dict[str, str]:
    root = EXPECTATIONS_DIR / "gx" / "expectations"
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.json"))}


def _ge_result(warehouse: Path, suite_name: str, query: str):
    """A GE validation result produced the way ge_runner.validate produces it."""
    import great_expectations as gx
    from great_expectations import expectations as gxe

    from dagster_project.quality.suites import active_context

    ge_runner.enable_duckdb_sql_path()
    active_context()
    suite = gx.ExpectationSuite(name=suite_name)
    suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="id_number", value_set=["x"]))
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="months", min_value=0, max_value=12))
    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_sql(name="warehouse", connection_string=f"duckdb:///{warehouse}")
    batch = source.add_query_asset(name="batch", query=query).add_batch_definition_whole_table("whole").get_batch()
    try:
        return batch.validate(suite, result_format="SUMMARY")
    finally:
        ge_runner._release(batch.data.execution_engine)
        source.get_engine().dispose()


@pytest.fixture()
def ge_warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse" / "zengshou.duckdb"
    path.parent.mkdir()
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA landing; CREATE TABLE landing.members (id_number VARCHAR, months INTEGER);"
                f" INSERT INTO landing.members VALUES ('{ID_NUMBER}', 3), ('530102199001011234', 13)")
    con.close()
    return path


def test_validation_page_and_index_are_written(ge_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(data_docs.DOCS_DIR_ENV, raising=False)
    before = _stored_suites_digest()
    result = _ge_result(ge_warehouse, "marts.pin", "SELECT * FROM landing.members")
    page = record_validation(result, ge_warehouse, batch_label="SELECT * FROM landing.members", run_name="run-1")
    assert page is not None
    docs = ge_warehouse.parent / "data_docs"
    assert data_docs_dir(ge_warehouse) == docs and page.index == docs / "index.html"
    assert page.index.exists() and page.page.exists() and page.page.is_relative_to(docs / "validations")
    assert page.page.name == "landing.members.html" and "run-1" in page.page.parts
    text = " ".join(re.sub(r"<[^>]+>", " ", page.page.read_text("utf-8")).split())
    assert "greater than or equal to 0.0 and less than or equal to 12.0" in text
    assert "Run Name run-1" in text and "landing.members" in text
    assert page.page.name in page.index.read_text("utf-8")
    meta = page.metadata()
    assert meta["ge_data_docs"].value == page.url and page.url.startswith("file://")
    # The raw results are kept outside the site folder.
    assert list((ge_warehouse.parent / "data_docs_validations").rglob("*.json"))
    assert not list(docs.rglob("*.json"))
    # The project's stored suites are never rewritten, and ge_runner still validates afterwards.
    outcome = ge_runner.validate(ge_warehouse, "marts.dim_region", "SELECT * FROM landing.members")
    assert not outcome.success                        # wrong table on purpose: it runs, and fails
    assert _stored_suites_digest() == before


def test_sample_values_of_non_mart_suites_are_removed(ge_warehouse: Path, tmp_path: Path) -> None:
    result = _ge_result(ge_warehouse, "raw.pin", "SELECT * FROM landing.members")
    assert ID_NUMBER in json.dumps(result.to_json_dict(), ensure_ascii=False)    # GE does list the values
    page = record_validation(result, docs_dir=tmp_path / "docs")
    assert page is not None
    assert ID_NUMBER not in page.page.read_text("utf-8")
    stored = "".join(p.read_text("utf-8") for p in (tmp_path / "docs_validations").rglob("*.json"))
    assert ID_NUMBER not in stored and '"unexpected_count": 2' in stored   # counts stay


def test_old_validations_are_pruned_and_errors_never_raise(ge_warehouse: Path, tmp_path: Path) -> None:
    result = _ge_result(ge_warehouse, "marts.pin", "SELECT * FROM landing.members")
    docs = tmp_path / "docs"
    pages = [record_validation(result, docs_dir=docs, run_name=f"run-{i}", keep=2) for i in range(3)]
    assert all(pages)
    assert not pages[0].page.exists() and pages[1].page.exists() and pages[2].page.exists()
    assert len(list((tmp_path / "docs_validations").rglob("*.json"))) == 2
    assert record_validation(object(), docs_dir=docs) is None          # logged, not raised


def test_index_lists_only_the_newest_validations(ge_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GE re-reads every listed result whenever it rebuilds the index, so the index is capped at
    INDEX_LIMIT (here 2): the newest runs are linked, older ones are not; their pages stay on disk."""
    monkeypatch.delenv(data_docs.DOCS_DIR_ENV, raising=False)
    monkeypatch.setattr(data_docs, "INDEX_LIMIT", 2)
    result = _ge_result(ge_warehouse, "marts.pin", "SELECT * FROM landing.members")
    pages = [record_validation(result, ge_warehouse, batch_label="SELECT * FROM landing.members",
                               run_name=f"run-{i}") for i in range(4)]
    assert all(p is not None and p.page.exists() for p in pages)
    index = pages[-1].index.read_text("utf-8")
    linked = sorted(run for run in ("run-0", "run-1", "run-2", "run-3") if f"/{run}/" in index)
    assert linked == ["run-2", "run-3"]
