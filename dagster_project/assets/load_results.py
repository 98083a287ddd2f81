"""Turn a file batch's outcome into what a data engineer reads in the Dagster UI: asset metadata and
asset-check results (the blocking ``batch_accepted`` check carries Great Expectations' summary)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dagster as dg

from dagster_project.ingest.batch_pipeline import FileLoad

BATCH_ACCEPTED = "batch_accepted"
BATCH_ACCEPTED_DOC = (
    "Blocking. The batch was validated by its Great Expectations suite (one expectation per row rule) and "
    "published: readable, every required column present, quarantined share at most ZENGSHOU_MAX_REJECT_RATE, "
    "and GE's per-rule counts equal to the quarantine's. A failed batch is not published; the last good "
    "data of the partition stays in place."
)


def batch_metadata(load: FileLoad) -> dict[str, Any]:
    out = load.outcome
    meta: dict[str, Any] = {
        "batch_id": out.batch_id,
        "file": dg.MetadataValue.path(str(load.landed.path)),
        "encoding": out.encoding or "unreadable",
        "status": out.status,
        "rows_read": out.rows_read,
        "rows_loaded": out.rows_loaded,
        "rows_quarantined": out.rows_quarantined,
        "reject_rate": round(out.rows_quarantined / out.rows_read, 6) if out.rows_read else 0.0,
        "rows_by_rule": dg.MetadataValue.json(out.rule_counts),
        "extra_columns": ", ".join(out.extra_columns) or "none",
        # How the file was read: the header's row (title rows above it skipped), the CSV delimiter, and
        # rows that are not data (fully blank; a ledger's 合计/总计 row), skipped and not in rows_read.
        "header_row": out.header_row or 0,
        "delimiter": out.delimiter or "n/a",
        "rows_skipped_blank": out.rows_skipped_blank,
        "rows_skipped_total": out.rows_skipped_total,
    }
    if out.reason:
        meta["reason"] = out.reason
    return meta


def batch_events(load: FileLoad, asset_key: dg.AssetKey, checks: list[dg.AssetCheckResult],
                 partition: str | None = None) -> Iterator[dg.MaterializeResult | dg.AssetObservation
                                                          | dg.AssetCheckResult]:
    """A published batch materializes the asset; a rejected one changed nothing, so it is only
    *observed* (same metadata: what was read and why it was refused) and nothing downstream —
    automation conditions, freshness, lineage — mistakes it for new data. Its checks report either way."""
    if load.outcome.published:
        yield dg.MaterializeResult(asset_key=asset_key, metadata=batch_metadata(load), check_results=checks)
        return
    yield dg.AssetObservation(asset_key=asset_key, metadata=batch_metadata(load), partition=partition)
    yield from checks


def batch_check(load: FileLoad, asset_key: dg.AssetKey) -> dg.AssetCheckResult:
    out = load.outcome
    meta: dict[str, Any] = {"batch_id": out.batch_id, "rows_read": out.rows_read,
                            "rows_quarantined": out.rows_quarantined, "reason": out.reason or "passed"}
    if load.validation is not None:
        meta.update(load.validation.metadata())
    return dg.AssetCheckResult(asset_key=asset_key, check_name=BATCH_ACCEPTED, passed=out.published,
                               severity=dg.AssetCheckSeverity.ERROR, metadata=meta)
