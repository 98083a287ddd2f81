"""Great Expectations Data Docs: after each validation, store its result and render its page into a
static HTML site that data engineers open in a browser (``<warehouse dir>/data_docs/index.html``).

Why not the GE file context under expectations/gx: loading it rewrites the stored suite JSON files
with new random ids (see ge_runner). Here an *ephemeral* context is configured with

- an in-memory expectations store (the reviewed suites under expectations/gx/expectations/ are never
  read or written by this module),
- a file-backed validation results store in ``<docs dir>_validations/`` (outside the site, so a web
  server publishing the site does not serve the raw JSON), and
- one local Data Docs site in the docs dir,

and only the new validation's page plus the index are rendered each time (incremental build).

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
import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

log = logging.getLogger("zengshou.data_docs")

SITE_NAME = "zengshou"
DOCS_DIR_ENV = "ZENGSHOU_DATA_DOCS_DIR"
KEEP_PER_SUITE = 50              # newest validations kept (JSON + page) per suite
# The index lists the newest validations only: GE re-reads every listed result each time it rebuilds
# the index (after each validation), ~6 ms apiece. At 500 (GE's usual) and 26 suites x 50 kept, that
# was ~3 s per validation, ~80 s per run, once the site filled up; 100 keeps ~4 runs' worth in view
# (older pages stay on disk, linked from each run's check metadata).
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


def data_docs_dir(warehouse: Path) -> Path:
    """``<warehouse dir>/data_docs`` (data/warehouse/data_docs by default), or ZENGSHOU_DATA_DOCS_DIR."""
    override = os.environ.get(DOCS_DIR_ENV)
    return Path(override).expanduser().resolve() if override else Path(warehouse).resolve().parent / "data_docs"


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
    }}
    return gx.get_context(project_config=config, mode="ephemeral")


def _prune(docs_dir: Path, suite_name: str, keep: int) -> None:
    """Keep the newest ``keep`` validations of a suite (layout: <suite parts>/<run name>/<run time>/<batch>)."""
    suite_dir = _store_dir(docs_dir).joinpath(*suite_name.split("."))
    results = sorted(suite_dir.glob("*/*/*.json"), key=lambda p: p.parent.name, reverse=True)
    for old in results[keep:]:
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
            context = _context(docs_dir)
            context.validation_results_store.set(key, ExpectationSuiteValidationResult(**data))
            _prune(docs_dir, suite_name, keep)
            context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=[key])
            urls = context.get_docs_sites_urls(resource_identifier=key, site_name=SITE_NAME)
        page = Path(urls[0]["site_url"].removeprefix("file://")) if urls and urls[0].get("site_url") else None
        if page is None or not page.exists():
            log.warning("Data Docs: the page of %s was not written under %s", suite_name, docs_dir)
            return None
        return DataDocsPage(page=page, index=docs_dir / "index.html")
    except Exception as exc:  # docs are a convenience: never fail the validation over them
        log.warning("Data Docs could not be built under %s: %s", docs_dir, exc, exc_info=True)
        return None
