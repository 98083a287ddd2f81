"""Load one landed file end to end: stage and flag it, validate it with Great Expectations, then
publish or reject it. Great Expectations counts each rule's bad rows independently of the loader;
the two must agree, or the batch is not published (a disagreement means a bug, not bad data)."""

from __future__ import annotations

from dataclasses import dataclass

from dagster_project.ingest.file_batch import BatchOutcome, finish_batch, stage_file
from dagster_project.ingest.file_sources import RULES, SUITE_OF, LandedFile
from dagster_project.ingest.readers import file_sha256
from dagster_project.ingest.warehouse import connect, ensure_counties, last_batch
from dagster_project.quality.data_docs import record_batch_verdict
from dagster_project.quality.ge_runner import SuiteOutcome, validate
from dagster_project.settings import Settings


@dataclass
class FileLoad:
    landed: LandedFile
    outcome: BatchOutcome
    validation: SuiteOutcome | None


def is_new_or_changed(settings: Settings, landed: LandedFile) -> bool:
    """True unless the latest attempt for this source partition read a file with the same content."""
    if not settings.warehouse.exists():
        return True
    with connect(settings.warehouse) as con:
        last = last_batch(con, landed.source.name, landed.partition_key)
    return last is None or last[0] != file_sha256(landed.path)


def _validation_failure(staged_counts: dict[str, int], ge: SuiteOutcome) -> str | None:
    if ge.errors:
        first = ge.errors[0]
        return f"Great Expectations 校验无法执行: {first.expectation}({first.target}): {first.error}"
    ge_counts = ge.rule_counts()
    if ge_counts != staged_counts:
        diff = {k: (staged_counts.get(k), ge_counts.get(k)) for k in staged_counts.keys() | ge_counts.keys()
                if staged_counts.get(k) != ge_counts.get(k)}
        return f"隔离规则计数与 Great Expectations 不一致 (loader, GE): {diff}"
    return None


def load_landed_file(settings: Settings, landed: LandedFile) -> FileLoad:
    source = landed.source
    with connect(settings.warehouse) as con:
        ensure_counties(con)
        staged = stage_file(con, source, landed.path, landed.partition_key, landed.constants, RULES[source.name])
    ge, failure = None, None
    if staged.landing_table and not staged.blocking_reason:
        # The warehouse connection is closed here: GE opens its own.
        ge = validate(settings.warehouse, SUITE_OF[source.name], f"SELECT * FROM {staged.landing_table}")
        failure = _validation_failure(staged.rule_counts, ge)
    with connect(settings.warehouse) as con:
        outcome = finish_batch(con, staged, settings.max_reject_rate, failure)
    if ge is not None:  # the batch's Data Docs page states this verdict (GE alone says "Failed")
        record_batch_verdict(ge.data_docs, outcome, settings.max_reject_rate)
    return FileLoad(landed, outcome, ge)
