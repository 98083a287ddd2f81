"""Great Expectations Data Docs: after each validation, store its result and render its page into a
static HTML site that data engineers open in a browser (``<warehouse dir>/data_docs/index.html``).

Why not the GE file context under expectations/gx: loading it rewrites the stored suite JSON files
with new random ids (see ge_runner). Here an *ephemeral* context is configured with

- an in-memory expectations store (the reviewed suites under expectations/gx/expectations/ are never
  read or written by this module),
- a file-backed validation results store in ``<docs dir>_validations/`` (outside the site, so a web
  server publishing the site does not serve the raw JSON), and
- one local Data Docs site in the docs dir,

and only the new validation's page is rendered by GE's renderer and view each time (context and site
builder kept per folder and process: ``_site``, ``_render_page``). The index is not
GE's (its list is built by JavaScript from CDN libraries, so offline it showed only a heading): it is
static HTML written by ``data_docs_site.render_index`` from the site's list of validations
(``<docs dir>_index.json``), and every GE page is rewritten to need no network
(``data_docs_site.offline_page``). A raw batch's page also states the verdict the loader applied
(``record_batch_verdict``): GE calls the batch "Failed" whenever rows were quarantined.

Personal data: a validation of a raw or landing table can list unexpected *values* (GE's
partial_unexpected_list), which there may be 证件号码, 姓名 or phone numbers. Only validations of
``marts.*`` suites (keyed hashes and codes by contract, SPEC §4) keep their sample values; for every
other suite the samples are removed before the result is stored or rendered — the counts stay.

Building docs never fails a validation: any error is logged and ``record_validation`` returns None.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import json
import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from dagster_project.quality import data_docs_site as site

log = logging.getLogger("zengshou.data_docs")

SITE_NAME = "zengshou"
KEEP_PER_SUITE = 50              # newest validations kept (JSON + page) per suite
# The index lists the latest result of every suite and the newest INDEX_LIMIT validations (about four
# runs' worth); older pages stay on disk, linked from each run's check metadata. (GE's own index, which
# re-read every listed result after each validation, is no longer built: see data_docs_site.)
INDEX_LIMIT = 100
PUBLIC_SAMPLE_PREFIXES = ("marts.",)
SAMPLE_KEYS = ("partial_unexpected_list", "partial_unexpected_counts", "partial_unexpected_index_list",
               "unexpected_list", "unexpected_index_list", "unexpected_index_query", "unexpected_rows",
               "details")

_lock = threading.Lock()


@dataclass(frozen=True)
class DataDocsPage:
    """Where the page of one validation was written, and the site's index."""

    page: Path
    index: Path

    @property
    def url(self) -> str:
        return self.page.as_uri()

    def metadata(self) -> dict[str, Any]:
        """Asset-check metadata linking to the page (clickable URL and a copyable path)."""
        import dagster as dg

        return {
            "ge_data_docs": dg.MetadataValue.url(self.url),
            "ge_data_docs_path": dg.MetadataValue.path(str(self.page)),
            "ge_data_docs_index": dg.MetadataValue.path(str(self.index)),
        }


def data_docs_dir(warehouse: Path, configured: Path | None = None) -> Path:
    """The Data Docs folder: ``configured`` (ZENGSHOU_DATA_DOCS_DIR, passed down from the settings through
    ``WarehouseResource.data_docs_dir``), else ``<warehouse dir>/data_docs`` (data/warehouse/data_docs)."""
    return Path(configured).resolve() if configured is not None else Path(warehouse).resolve().parent / "data_docs"


def _store_dir(docs_dir: Path) -> Path:
    return docs_dir.with_name(docs_dir.name + "_validations")


def _slug(text: str, limit: int = 80) -> str:
    """A file-name-safe batch label: 'SELECT * FROM marts.kpi_scorecard' -> 'marts.kpi_scorecard'."""
    m = re.search(r"\bfrom\s+([\w.\"]+)\s*$", text.strip(), flags=re.IGNORECASE)
    if m:
        text = m.group(1).replace('"', "")
    slug = re.sub(r"[^\w.-]+", "_", text, flags=re.ASCII).strip("._")
    return (slug or "batch")[:limit]


def _scrubbed(result: Any) -> dict:
    data = result.to_json_dict()
    if str(data.get("suite_name", "")).startswith(PUBLIC_SAMPLE_PREFIXES):
        return data
    for r in data.get("results", []):
        res = r.get("result")
        if isinstance(res, dict):
            for key in SAMPLE_KEYS:
                res.pop(key, None)
    return data


def _context(docs_dir: Path) -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults

    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults())
    config.stores[config.validation_results_store_name] = {
        "class_name": "ValidationResultsStore",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(_store_dir(docs_dir))},
    }
    config.data_docs_sites = {SITE_NAME: {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "validation_results_limit": INDEX_LIMIT},
        # GE's page view with the templates compiled once per process (data_docs_view: 4.8 s of a run).
        "site_section_builders": {"validations": {"view": {
            "module_name": "dagster_project.quality.data_docs_view", "class_name": "CachedJinjaPageView"}}},
    }}
    return gx.get_context(project_config=config, mode="ephemeral")


# The context and site builder of each Data Docs folder, built once per process: rebuilding them for every
# validation (a context, and a site builder for the build and another for the page URL) and letting GE's
# build list every stored result of the site (three times, once per section) and copy its static files
# again cost ≈ 25 ms of CPU per validation. Only touched under ``_site_lock``.
_MAX_SITES = 8                   # Data Docs folders remembered per process (tests use many)
_static_copied: set[Path] = set()


@functools.lru_cache(maxsize=_MAX_SITES)
def _site(docs_dir: Path) -> tuple[Any, Any]:
    """(context, SiteBuilder) of the Data Docs folder ``docs_dir``."""
    context = _context(docs_dir)
    builder = context._init_site_builder_for_data_docs_site_creation(
        site_name=SITE_NAME, site_config=context.variables.data_docs_sites[SITE_NAME])
    return context, builder


def _render_page(docs_dir: Path, context: Any, builder: Any, key: Any) -> None:
    """Render the page of the stored result ``key`` only: what GE's incremental build
    (``build_data_docs(resource_identifiers=[key], build_index=False)``) does for it, without listing
    every stored result to find it. The sections and their run-name filters are GE's (a run named
    '…profiling…' would go to the profiling section). GE's static files are copied once per process and
    folder, again when they are gone."""
    from great_expectations.data_context.types.resource_identifiers import SiteSectionIdentifier
    from great_expectations.render.util import resource_key_passes_run_name_filter

    for section in builder.site_section_builders.values():
        if section.source_store is not context.validation_results_store:
            continue   # the expectations section: suites are not rendered here
        if section.run_name_filter and not resource_key_passes_run_name_filter(key, section.run_name_filter):
            continue
        rendered = section.renderer_class.render(section.source_store.get(key))
        section.target_store.set(SiteSectionIdentifier(site_section_name=section.name, resource_identifier=key),
                                 section.view_class.render(rendered, data_context_id=section.data_context_id,
                                                           show_how_to_buttons=section.show_how_to_buttons))
    if docs_dir not in _static_copied or not (docs_dir / "static").is_dir():
        builder.target_store.copy_static_assets()
        _static_copied.add(docs_dir)


def _prune(docs_dir: Path, suite_name: str, keep: int) -> None:
    """Keep the newest ``keep`` validations of a suite (layout: <suite parts>/<run name>/<run time>/<batch>)."""
    suite_dir = _store_dir(docs_dir).joinpath(*suite_name.split("."))
    results = sorted(suite_dir.glob("*/*/*.json"), key=lambda p: p.parent.name, reverse=True)
    for old in results[keep:]:  # (the index drops entries whose page is gone: _write_index)
        rel = old.relative_to(_store_dir(docs_dir))
        page = docs_dir.joinpath("validations", rel).with_suffix(".html")
        for path in (old, page):
            path.unlink(missing_ok=True)
            for parent in (path.parent, path.parent.parent):
                with contextlib.suppress(OSError):
                    parent.rmdir()  # only when empty


@contextlib.contextmanager
def _site_lock(docs_dir: Path):
    """One writer of the site at a time, across threads and processes (Dagster's multiprocess
    executor runs checks in parallel processes; two index builds at once would tear index.html)."""
    lock_path = _store_dir(docs_dir) / ".lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, lock_path.open("a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def record_validation(result: Any, warehouse: Path | None = None, *, docs_dir: Path | None = None,
                      batch_label: str | None = None, run_name: str | None = None,
                      keep: int = KEEP_PER_SUITE) -> DataDocsPage | None:
    """Store a GE ``ExpectationSuiteValidationResult`` and render its Data Docs page and the index.

    ``batch_label`` names the validated batch (a query such as 'SELECT * FROM marts.kpi_scorecard' is
    reduced to 'marts.kpi_scorecard'); ``run_name`` groups the pages of one run (e.g. the Dagster run
    id). Returns the page, or None when the docs could not be built (logged, never raised).
    """
    if docs_dir is None and warehouse is None:
        raise ValueError("record_validation needs the warehouse path or docs_dir")
    docs_dir = Path(docs_dir).resolve() if docs_dir is not None else data_docs_dir(Path(warehouse))
    try:
        from great_expectations.core import ExpectationSuiteValidationResult
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        data = _scrubbed(result)
        suite_name = data.get("suite_name") or "unnamed"
        label = batch_label or ((data.get("meta") or {}).get("batch_spec") or {}).get("query") or suite_name
        run_id = RunIdentifier(run_name=_slug(run_name or "zengshou", 40), run_time=dt.datetime.now(dt.UTC))
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
            run_id=run_id,
            batch_identifier=_slug(label),
        )
        # Name the run and the batch on the page and in the index (GE leaves them as "__none__"/"batch").
        meta = data.setdefault("meta", {})
        meta["run_id"] = run_id.to_json_dict()
        meta.setdefault("validation_time", run_id.run_time.strftime("%Y%m%dT%H%M%S.%fZ"))
        if isinstance(meta.get("batch_spec"), dict):
            meta["batch_spec"]["data_asset_name"] = key.batch_identifier
        if isinstance(meta.get("active_batch_definition"), dict):
            meta["active_batch_definition"]["data_asset_name"] = key.batch_identifier
        with _site_lock(docs_dir):
            context, builder = _site(docs_dir)
            context.validation_results_store.set(key, ExpectationSuiteValidationResult(**data))
            _prune(docs_dir, suite_name, keep)
            _render_page(docs_dir, context, builder, key)
            url = builder.get_resource_url(resource_identifier=key, only_if_exists=True)
            page = Path(url.removeprefix("file://")) if url else None
            if page is None or not page.exists():
                log.warning("Data Docs: the page of %s was not written under %s", suite_name, docs_dir)
                return None
            rel = page.relative_to(docs_dir).as_posix()
            page.write_text(site.offline_page(page.read_text("utf-8"), rel), "utf-8")
            stats = data.get("statistics") or {}
            entries = [e for e in _entries(docs_dir) if e["page"] != rel]  # (a new list lists it already)
            entries.append({"suite": suite_name, "batch": key.batch_identifier, "run_name": run_id.run_name,
                            "run_time": run_id.run_time.isoformat(), "page": rel, "success": bool(data.get("success")),
                            "evaluated": int(stats.get("evaluated_expectations") or 0),
                            "successful": int(stats.get("successful_expectations") or 0), "verdict": None})
            _write_index(docs_dir, entries)
        return DataDocsPage(page=page, index=docs_dir / "index.html")
    except Exception as exc:  # docs are a convenience: never fail the validation over them
        log.warning("Data Docs could not be built under %s: %s", docs_dir, exc, exc_info=True)
        return None


def _index_store(docs_dir: Path) -> Path:
    """``<docs dir>_index.json`` beside the site (inside the results store GE would take it for a result)."""
    return docs_dir.with_name(docs_dir.name + "_index.json")


def _entries(docs_dir: Path) -> list[dict[str, Any]]:
    """The site's validations, one entry per page (suite, batch, run, GE statistics, batch verdict).
    A site written before this list existed is listed from its stored results once, and its pages are
    made offline too."""
    store = _index_store(docs_dir)
    if store.exists():
        try:
            return list(json.loads(store.read_text("utf-8")))
        except ValueError:
            log.warning("Data Docs: %s is unreadable; listing the stored results again", store)
    entries = []
    for result in sorted(_store_dir(docs_dir).rglob("*.json")):
        rel = result.relative_to(_store_dir(docs_dir))
        page = docs_dir.joinpath("validations", rel).with_suffix(".html")
        if not page.exists():
            continue
        try:
            data = json.loads(result.read_text("utf-8"))
        except ValueError:
            continue
        page_rel = page.relative_to(docs_dir).as_posix()
        page.write_text(site.offline_page(page.read_text("utf-8"), page_rel), "utf-8")
        stats, run = data.get("statistics") or {}, (data.get("meta") or {}).get("run_id") or {}
        entries.append({"suite": data.get("suite_name") or ".".join(rel.parts[:-3]), "batch": result.stem,
                        "run_name": run.get("run_name") or rel.parts[-3], "run_time": run.get("run_time") or "",
                        "page": page_rel, "success": bool(data.get("success")),
                        "evaluated": int(stats.get("evaluated_expectations") or 0),
                        "successful": int(stats.get("successful_expectations") or 0), "verdict": None})
    return entries


def _write_index(docs_dir: Path, entries: list[dict[str, Any]]) -> None:
    """Store the list (entries whose page was pruned are dropped) and write index.html and the stylesheet."""
    entries = [e for e in entries if (docs_dir / e["page"]).exists()]
    store = _index_store(docs_dir)
    store.parent.mkdir(parents=True, exist_ok=True)
    tmp = store.with_suffix(".tmp")
    tmp.write_text(json.dumps(entries, ensure_ascii=False), "utf-8")
    tmp.replace(store)
    css = docs_dir / "static" / site.CSS_NAME
    css.parent.mkdir(parents=True, exist_ok=True)
    if not css.exists() or css.read_text("utf-8") != site.CSS:
        css.write_text(site.CSS, "utf-8")
    index = docs_dir / "index.html"
    tmp_index = index.with_suffix(".html.tmp")
    tmp_index.write_text(site.render_index(entries, INDEX_LIMIT), "utf-8")
    tmp_index.replace(index)


def record_batch_verdict(page: DataDocsPage | None, outcome: Any, max_reject_rate: float) -> None:
    """State on a raw batch's page, and in the index, the verdict the loader applied to the batch.

    ``outcome`` is the loader's BatchOutcome (status published | rejected, reason, rows_read,
    rows_loaded, rows_quarantined, batch_id, partition_key). Never raises: the page is a convenience."""
    if page is None:
        return
    docs_dir = page.index.parent
    try:
        verdict = {k: getattr(outcome, k, None) for k in ("status", "reason", "rows_read", "rows_loaded",
                                                          "rows_quarantined", "batch_id", "partition_key")}
        verdict["max_reject_rate"] = max_reject_rate
        with _site_lock(docs_dir):
            rel = page.page.relative_to(docs_dir).as_posix()
            entries = _entries(docs_dir)
            entry = next((e for e in entries if e["page"] == rel), None)
            if entry is None or not page.page.exists():
                return
            entry["verdict"] = verdict
            page.page.write_text(site.with_verdict(page.page.read_text("utf-8"), verdict, entry["success"]), "utf-8")
            _write_index(docs_dir, entries)
    except Exception as exc:  # never fail a load over its docs
        log.warning("Data Docs: the verdict of %s could not be written: %s", page.page, exc, exc_info=True)
