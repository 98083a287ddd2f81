"""Great Expectations suites as non-blocking Dagster asset checks on published tables (the marts and
the HR raw tables): the blocking decisions are made at load time; these are findings to look at."""

import dagster as dg

from dagster_project.quality.ge_runner import validate
from dagster_project.resources import WarehouseResource

GE_SUITE_CHECK = "ge_suite"


def ge_suite_check(suite_name: str) -> dg.AssetChecksDefinition:
    """Check ``schema.table`` (asset key [schema, table]) against the stored suite of the same name."""
    schema, table = suite_name.split(".")
    key = dg.AssetKey([schema, table])

    @dg.asset_check(asset=key, name=GE_SUITE_CHECK,
                    description=f"Great Expectations suite {suite_name} (expectations/gx/expectations/).")
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        outcome = validate(warehouse.file, suite_name, f"SELECT * FROM {suite_name}", **warehouse.loader_options())
        return dg.AssetCheckResult(passed=outcome.success, severity=dg.AssetCheckSeverity.WARN,
                                   metadata=outcome.metadata())

    return _check
