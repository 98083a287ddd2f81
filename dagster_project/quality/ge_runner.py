"""Run a stored Great Expectations suite against a table or query in the DuckDB warehouse.

GE 1.24's SQL path closes its connection before reading results, and duckdb-engine then returns
nothing, so every expectation fails with "list index out of range" (STACK.md). GE keeps one persisted
connection for a short list of dialects; adding DuckDB to that list makes column and row-query
expectations compute real numbers. GE also loses the schema of *table* assets outside ``main`` when
it looks up column types, so batches are always *query* assets (``SELECT * FROM schema.table``).
Both facts are pinned by tests/test_ge_duckdb.py, which fails loudly when a GE upgrade changes them.

The pandas datasource would also work but is ~4x slower and needs the whole table in memory
(STACK.md figures); the SQL path lets DuckDB do the scanning.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.execution_engine import sqlalchemy_execution_engine as _sa_engine

from dagster_project.ingest.warehouse_lock import warehouse_lock
from dagster_project.quality import data_docs
from dagster_project.quality.data_docs import DataDocsPage, record_validation
from dagster_project.quality.suites import load_stored_suites
from dagster_project.settings import DEFAULT_DUCKDB_MEMORY_LIMIT, DEFAULT_WAREHOUSE_LOCK_TIMEOUT, EXPECTATIONS_DIR

_lock = threading.Lock()


class _DuckDBDialect(str):
    """Looks like GE's dialect enum members (str with ``.value``) for the persisted-connection list."""

    @property
    def value(self) -> str:
        return str(self)


def enable_duckdb_sql_path() -> None:
    """Make GE keep one connection open for DuckDB (idempotent)."""
    dialects = _sa_engine._PERSISTED_CONNECTION_DIALECTS
    if "duckdb" not in dialects:
        _sa_engine._PERSISTED_CONNECTION_DIALECTS = (*dialects, _DuckDBDialect("duckdb"))


@dataclass
class ExpectationOutcome:
    expectation: str            # expectation type
    target: str                 # column, rule name, or table
    success: bool
    observed: Any = None        # unexpected rows / observed value
    unexpected_count: int | None = None
    element_count: int | None = None
    error: str | None = None

    def describe(self) -> str:
        """What failed, in one short phrase: the error, else the unexpected count, else the observation."""
        if self.error:
            return self.error
        return str(self.unexpected_count if self.unexpected_count is not None else self.observed)


@dataclass
class SuiteOutcome:
    suite: str
    success: bool
    evaluated: int
    successful: int
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    data_docs: DataDocsPage | None = None

    @property
    def errors(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.error]

    def rule_counts(self) -> dict[str, int]:
        """Rows GE found breaking each row rule (UnexpectedRowsExpectation's observed count)."""
        return {o.target: int(o.observed) for o in self.outcomes
                if o.expectation == "unexpected_rows_expectation" and o.observed is not None}

    def metadata(self) -> dict[str, Any]:
        """A compact summary for Dagster asset-check metadata."""
        meta = {
            "ge_suite": self.suite,
            "ge_success": self.success,
            "ge_evaluated": self.evaluated,
            "ge_successful": self.successful,
            "ge_failed": [f"{o.expectation}({o.target}): {o.describe()}" for o in self.outcomes if not o.success][:25],
        }
        if self.data_docs:
            meta.update(self.data_docs.metadata())
        return meta


@functools.cache
def _stored_suites() -> dict[str, gx.ExpectationSuite]:
    return load_stored_suites()


def stored_suite(name: str) -> gx.ExpectationSuite:
    try:
        return _stored_suites()[name]
    except KeyError as exc:
        raise KeyError(f"no Great Expectations suite named {name!r} under {EXPECTATIONS_DIR}") from exc


def _release(engine: Any) -> None:
    """Close GE's persisted DuckDB connection: DuckDB refuses a second connection to the same file
    with another configuration (duckdb-engine sets a user agent) while one is open in the process,
    and GE's own ``close()`` leaves the persisted connection open."""
    connection = getattr(engine, "_connection", None)
    if connection is not None:
        connection.close()
        engine._connection = None
    engine.engine.dispose()


# One GE context with its SQL datasource per warehouse URL (the memory cap is part of the URL), kept for
# the process, and one query asset per query in it: building them cost ≈ 60 ms of CPU per validation (a
# context, a datasource whose connection test opened the warehouse, an asset and a batch definition, each
# re-serialised into the context's stores), about a third of a validation. What must not outlive a
# validation — the DuckDB connection — is still closed by ``_release`` and the engines disposed after
# each one; the next validation connects again. The newest _MAX_SOURCES warehouses are kept (tests use
# many temporary ones); a forgotten one is built again when it comes back. Only called under ``_lock``.
_MAX_SOURCES = 8


@functools.lru_cache(maxsize=_MAX_SOURCES)
def _datasource(url: str) -> Any:
    """An ephemeral GE context (in-memory stores: nothing written to disk) with the SQL datasource of
    ``url``, its connection tested once (a failed test raises and nothing is kept)."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context.data_sources.add_sql(name="warehouse", connection_string=url)


def _batch_definition(source: Any, query: str) -> Any:
    """The whole-table batch definition of the datasource's query asset for ``query`` (one asset per
    distinct query, named by its hash)."""
    name = "batch_" + hashlib.sha256(query.encode("utf-8")).hexdigest()[:16]
    try:
        return source.get_asset(name).get_batch_definition("whole")
    except LookupError:
        return source.add_query_asset(name=name, query=query).add_batch_definition_whole_table("whole")


def _target(config: Any) -> str:
    kwargs = config.kwargs
    if config.meta and "rule" in config.meta:
        return str(config.meta["rule"])
    if "column" in kwargs:
        return str(kwargs["column"])
    if "column_list" in kwargs:
        return ",".join(kwargs["column_list"])
    return "table"


def warehouse_url(warehouse: Path, memory_limit: str) -> str:
    """SQLAlchemy URL GE reads the warehouse through, with the same memory cap as every connection."""
    return f"duckdb:///{warehouse}?memory_limit={memory_limit}"


def validate(warehouse: Path, suite_name: str, query: str, *, memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT,
             lock_timeout: float = DEFAULT_WAREHOUSE_LOCK_TIMEOUT,
             data_docs_dir: Path | None = None) -> SuiteOutcome:
    """Validate ``query``'s rows in the warehouse against the stored suite ``suite_name``.

    How the warehouse is opened and where the Data Docs page goes are the caller's settings, passed in
    (from ``WarehouseResource``): ``memory_limit`` caps GE's DuckDB instance, ``lock_timeout``
    is how long to wait for another writer, ``data_docs_dir`` None = ``<warehouse dir>/data_docs``."""
    enable_duckdb_sql_path()
    suite = stored_suite(suite_name)
    # GE contexts are not thread-safe; validations are short. GE opens the warehouse read-write through
    # duckdb-engine, so it takes the writer lock like every other connection (ingest/warehouse_lock.py).
    with _lock, warehouse_lock(warehouse, timeout=lock_timeout, purpose="Great Expectations validation"):
        source = _datasource(warehouse_url(warehouse, memory_limit))
        batch = _batch_definition(source, query).get_batch()
        try:
            result = batch.validate(suite, result_format="SUMMARY")
        finally:
            _release(batch.data.execution_engine)
            source.get_engine().dispose()
    outcomes = []
    for r in result.results:
        info = r.exception_info or {}
        error = info.get("exception_message") if info.get("raised_exception") else None
        if not error and isinstance(info, dict):
            error = next((v.get("exception_message") for v in info.values()
                          if isinstance(v, dict) and v.get("raised_exception")), None)
        res = r.result or {}
        outcomes.append(ExpectationOutcome(
            expectation=r.expectation_config.type, target=_target(r.expectation_config), success=bool(r.success),
            observed=res.get("observed_value"), unexpected_count=res.get("unexpected_count"),
            element_count=res.get("element_count"), error=error,
        ))
    docs = record_validation(result, docs_dir=data_docs.data_docs_dir(warehouse, data_docs_dir),  # never raises
                             batch_label=query)
    stats = result.statistics
    return SuiteOutcome(suite_name, bool(result.success), int(stats["evaluated_expectations"]),
                        int(stats["successful_expectations"]), outcomes, docs)
