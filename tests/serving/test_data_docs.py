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


def test_pages_reuse_compiled_templates_and_render_as_ge_does(ge_warehouse: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """data_docs_view: the second page of a process compiles no Jinja template (GE's own view compiled
    every template of every page again), and the page reads the same as one rendered by GE's own view."""
    import jinja2
    from great_expectations.render.view import DefaultJinjaPageView

    from dagster_project.quality import data_docs_view

    def text(page) -> str:  # the page's words; GE stamps times and ids into it, so not its bytes
        words = " ".join(re.sub(r"<[^>]+>", " ", page.page.read_text("utf-8")).split())
        return re.sub(r"\d{8}T\d{6}\.\d+Z|\d{4}-\d{2}-\d{2}[T ][\d:.]+(\+00:00)?", "<time>", words)

    result = _ge_result(ge_warehouse, "marts.pin", "SELECT * FROM landing.members")
    compiled: list[str] = []
    original = jinja2.Environment.compile

    def counting_compile(env, source, name=None, *args, **kwargs):
        compiled.append(name)
        return original(env, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting_compile)
    data_docs_view.TEMPLATE_CODE.clear()
    first = record_validation(result, docs_dir=tmp_path / "cached", run_name="same")
    assert first is not None and len(compiled) >= 10       # a page uses ≈ 18 templates
    compiled.clear()
    second = record_validation(result, docs_dir=tmp_path / "cached", run_name="same")
    assert second is not None and compiled == []

    # The same result through GE's own view (the validations section's view set back to GE's).
    monkeypatch.setattr(data_docs_view, "CachedJinjaPageView", DefaultJinjaPageView)
    plain = record_validation(result, docs_dir=tmp_path / "plain", run_name="same")
    assert plain is not None and len(compiled) >= 10
    assert text(second) == text(plain)


def test_index_lists_only_the_newest_validations(ge_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GE re-reads every listed result whenever it rebuilds the index, so the index is capped at
    INDEX_LIMIT (here 2): the newest runs are linked, older ones are not; their pages stay on disk."""
    monkeypatch.setattr(data_docs, "INDEX_LIMIT", 2)
    result = _ge_result(ge_warehouse, "marts.pin", "SELECT * FROM landing.members")
    pages = [record_validation(result, ge_warehouse, batch_label="SELECT * FROM landing.members",
                               run_name=f"run-{i}") for i in range(4)]
    assert all(p is not None and p.page.exists() for p in pages)
    index = pages[-1].index.read_text("utf-8")
    linked = sorted(run for run in ("run-0", "run-1", "run-2", "run-3") if f"/{run}/" in index)
    assert linked == ["run-2", "run-3"]


# ---------------------------------------------------------------------------------------------------
# Offline: the index and every page render with no network; raw batch pages state the loader's verdict
# ---------------------------------------------------------------------------------------------------
CHROMIUM_INSTALL = "apt-get update && apt-get install -y chromium fonts-noto-cjk"
NO_NETWORK = ["--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9", "--disable-quic"]


def _chromium() -> str:
    """The chromium binary; skip without it locally, fail in CI (a missing browser is a broken build there)."""
    import os
    import shutil

    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe:
        return exe
    reason = f"chromium not installed ({CHROMIUM_INSTALL})"
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(f"CI is set but {reason}")
    pytest.skip(reason)


def _offline_chromium(page: Path, tmp_path: Path, *, screenshot: Path | None = None) -> str:
    """The DOM of ``page`` after headless Chromium rendered it with every host unresolvable and a proxy
    to nowhere (so nothing could load from a network); optionally a 1400x1600 screenshot."""
    import subprocess

    common = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
              "--window-size=1400,1600", *NO_NETWORK]
    if screenshot is not None:
        shot = subprocess.run([*common, f"--user-data-dir={tmp_path / 'chromium-shot'}", f"--screenshot={screenshot}",
                               page.as_uri()], capture_output=True, text=True, timeout=120)
        assert shot.returncode == 0 and screenshot.is_file(), shot.stderr[-2000:]
    dom = subprocess.run([*common, f"--user-data-dir={tmp_path / 'chromium-dom'}", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0 and "<html" in dom.stdout, dom.stderr[-2000:]
    return dom.stdout


def _table_rows(dom: str, table_id: str) -> list[str]:
    m = re.search(rf'<table[^>]*id="{table_id}"[^>]*>.*?<tbody>(.*?)</tbody>', dom, re.S)
    assert m, f"table #{table_id} is not in the rendered page"
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in re.findall(r"<tr>(.*?)</tr>", m.group(1), re.S)]


def _dead_links(site: Path) -> list[str]:
    """Every href/src of every page of the site that points at nothing: a local file that does not exist,
    an #anchor with no element of that id, or anything remote (the site must work with no network)."""
    dead = []
    for page in sorted(site.rglob("*.html")):
        text = page.read_text("utf-8")
        for target in re.findall(r'(?:href|src)="([^"]*)"', text):
            if re.match(r"(?:https?:)?//", target):
                dead.append(f"{page.relative_to(site)}: remote {target}")
                continue
            path, _, anchor = target.partition("#")
            doc = (page.parent / path).resolve() if path else page
            if not doc.is_file():
                dead.append(f"{page.relative_to(site)}: {target} (no such file)")
            elif anchor and not re.search(rf"\bid=\"?{re.escape(anchor)}[\"\s>]", doc.read_text("utf-8")):
                dead.append(f"{page.relative_to(site)}: {target} (no such anchor)")
    return dead


@pytest.fixture()
def loaded_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Two member files loaded by the real loader with ZENGSHOU_MAX_REJECT_RATE = 0.10, and one mart
    validation: 2023-01 has 15 good rows and 1 with a broken ID checksum (1/16 = 6.25 %, accepted);
    2023-03 has 15 good rows and 3 broken ones (3/18 = 16.67 % > 10 %, rejected)."""
    from dagster_project.ingest.batch_pipeline import load_landed_file
    from dagster_project.ingest.file_sources import MONITORING_MEMBERS, monitoring_file
    from dagster_project.settings import load_settings
    from tests.knownanswer.landing import Landing, break_checksum, make_id
    from tests.knownanswer.scenario import members_rows

    warehouse = tmp_path / "warehouse" / "zengshou.duckdb"
    warehouse.parent.mkdir()
    settings = load_settings({"ZENGSHOU_LANDING_DIR": str(tmp_path / "landing"), "ZENGSHOU_WAREHOUSE": str(warehouse),
                              "ZENGSHOU_PII_SALT": "docs-test-salt", "ZENGSHOU_MAX_REJECT_RATE": "0.10"})
    landing = Landing(settings.landing_dir)
    for month, bad in (("2023-01", 1), ("2023-03", 3)):
        rows = members_rows(month)
        for i in range(bad):
            extra = dict(rows[4], 姓名=f"坏号{i}", 人口编号=f"bad-{i}")
            extra["证件号码"] = break_checksum(make_id("530102", "19910101", 51 + 2 * i))
            rows.append(extra)
        landing.write_members(month, rows)
    loads = {month: load_landed_file(monitoring_file(settings.landing_dir, month, MONITORING_MEMBERS),
                                     settings.warehouse, max_reject_rate=settings.max_reject_rate)
             for month in ("2023-01", "2023-03")}
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE SCHEMA IF NOT EXISTS landing; CREATE OR REPLACE TABLE landing.members (id_number VARCHAR,"
                " months INTEGER); INSERT INTO landing.members VALUES ('x', 3), ('x', 13)")
    con.close()
    mart = record_validation(_ge_result(warehouse, "marts.pin", "SELECT * FROM landing.members"), warehouse,
                             batch_label="SELECT * FROM landing.members", run_name="mart-run")
    return {"site": warehouse.parent / "data_docs", "loads": loads, "mart": mart}


def test_the_site_renders_offline_with_the_batch_verdicts(loaded_site: dict, tmp_path: Path) -> None:
    site, loads = loaded_site["site"], loaded_site["loads"]
    accepted, rejected = loads["2023-01"], loads["2023-03"]
    assert (accepted.outcome.status, accepted.outcome.rows_read, accepted.outcome.rows_quarantined) == (
        "published", 16, 1)
    assert (rejected.outcome.status, rejected.outcome.rows_read) == ("rejected", 18)

    # The index: the validation list is in the DOM Chromium rendered with no network.
    dom = _offline_chromium(site / "index.html", tmp_path, screenshot=tmp_path / "index.png")
    rows = _table_rows(dom, "validations")
    assert len(rows) == 3, rows
    by_suite = {("members__2023_01" in r, "members__2023_03" in r, "marts.pin" in r): r for r in rows}
    acc, rej, mart = by_suite[(True, False, False)], by_suite[(False, True, False)], by_suite[(False, False, True)]
    assert "已接受 accepted：隔离 1/16 行（6.25%），未超过上限 10.00%" in acc, acc
    assert "已拒绝 rejected：隔离比例 16.67% 超过上限 10.00%" in rej, rej
    assert "✘ 1 条未满足" in mart and "1/2" in mart, mart  # GE's own outcome; no batch verdict for a mart
    assert len(_table_rows(dom, "latest-per-suite")) == 2  # raw.monitoring_members and marts.pin

    # Each raw batch page states the verdict the loader applied, also when opened offline.
    page_dom = _offline_chromium(accepted.validation.data_docs.page, tmp_path)
    text = " ".join(re.sub(r"<[^>]+>", " ", page_dom).split())
    assert "批次结论：已接受并发布 / Batch verdict: accepted" in text
    assert "读入 16 行，发布 15 行，隔离 1 行（6.25%），未超过上限 ZENGSHOU_MAX_REJECT_RATE = 10.00%" in text
    assert "Status: Failed" not in text and "期望 Expectations: ✘ 未全部满足" not in text  # the mark is CSS
    assert "id_checksum" in text  # GE's own content is all there
    rejected_text = " ".join(re.sub(r"<[^>]+>", " ", rejected.validation.data_docs.page.read_text("utf-8")).split())
    assert "批次结论：已拒绝 / Batch verdict: rejected" in rejected_text and "16.67%" in rejected_text
    assert "全部 18 行记入隔离区" in rejected_text

    # No script, no remote stylesheet or image, and no link to anything that does not exist.
    for page in site.rglob("*.html"):
        assert "<script" not in page.read_text("utf-8"), page
    assert _dead_links(site) == []
    assert (site / "static" / "zengshou.css").is_file()


def test_page_reads_as_ges_own_incremental_build(ge_warehouse: Path, tmp_path: Path) -> None:
    """record_validation renders the new page itself with the folder's site builder (kept per process)
    instead of calling GE's build_data_docs; the page reads as the one GE's build writes from the same
    stored result, and a folder removed while the process runs is written again, static files too."""
    import shutil

    from dagster_project.quality import data_docs_site

    def text(html: str) -> str:
        words = " ".join(re.sub(r"<[^>]+>", " ", html).split())
        return re.sub(r"\d{8}T\d{6}\.\d+Z|\d{4}-\d{2}-\d{2}[T ][\d:.]+(\+00:00)?", "<time>", words)

    result = _ge_result(ge_warehouse, "marts.pin", "SELECT * FROM landing.members")
    docs = tmp_path / "docs"
    page = record_validation(result, docs_dir=docs, run_name="own")
    assert page is not None and (docs / "static" / "styles").is_dir()
    ours = page.page.read_text("utf-8")
    page.page.unlink()
    context = data_docs._context(docs.resolve())          # a fresh context: GE's own build of the same result
    context.build_data_docs(site_names=[data_docs.SITE_NAME],
                            resource_identifiers=context.validation_results_store.list_keys(), build_index=False)
    rel = page.page.relative_to(docs.resolve()).as_posix()
    assert text(ours) == text(data_docs_site.offline_page(page.page.read_text("utf-8"), rel))

    for path in (docs, tmp_path / "docs_validations", tmp_path / "docs_index.json"):
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    again = record_validation(result, docs_dir=docs, run_name="again")
    assert again is not None and again.page.exists() and (docs / "static" / "styles").is_dir()
    assert again.page.name in again.index.read_text("utf-8")
