"""Warning check: odd values that no rule of SPEC forbids. Real exports must not lose rows for rules
nobody wrote down, so these are only counted and shown (severity WARN), never quarantined."""

from __future__ import annotations

import dagster as dg
import duckdb

from dagster_project.ingest.file_batch import FileSource

UNUSUAL_VALUES = "unusual_values"

_QUERIES: dict[str, dict[str, str]] = {
    "monitoring.members": {
        "employed_without_employer_name": "TRY_CAST(months_worked AS INTEGER) > 0 AND employer_name IS NULL",
        "employed_without_channel": "TRY_CAST(months_worked AS INTEGER) > 0 AND employment_channel IS NULL",
        "id_type_not_resident_card": "id_type IS NOT NULL AND id_type NOT LIKE '%身份证%'",
        "abroad_but_not_employed": "is_abroad = '是' AND TRY_CAST(months_worked AS INTEGER) = 0",
        "extra_columns_present": "extra_fields IS NOT NULL",
    },
    "monitoring.households": {
        "wage_income_empty": "wage_income_yuan IS NULL",
        "negative_income": "TRY_CAST(wage_income_yuan AS DOUBLE) < 0 OR TRY_CAST(business_income_yuan AS DOUBLE) < 0",
        "extra_columns_present": "extra_fields IS NOT NULL",
    },
}


def count_unusual(con: duckdb.DuckDBPyConnection, source: FileSource, month: str) -> dict[str, int]:
    """Rows of the published month breaking each unusual-value query, on the caller's connection (the
    asset opens it through ``WarehouseResource.connect``, with the settings' memory cap and lock timeout)."""
    queries = _QUERIES.get(source.name, {})
    if not queries:
        return {}
    counts = ", ".join(f"count_if({q})" for q in queries.values())
    row = con.execute(f"SELECT {counts} FROM {source.raw_table} WHERE as_of_month = ?", [f"{month}-01"]).fetchone()
    return dict(zip(queries, (int(v) for v in row), strict=True))


def unusual_values_check(con: duckdb.DuckDBPyConnection, source: FileSource, month: str,
                         key: dg.AssetKey) -> dg.AssetCheckResult:
    counts = count_unusual(con, source, month)
    return dg.AssetCheckResult(
        asset_key=key, check_name=UNUSUAL_VALUES, passed=not any(counts.values()),
        severity=dg.AssetCheckSeverity.WARN, metadata={k: v for k, v in counts.items()},
    )
