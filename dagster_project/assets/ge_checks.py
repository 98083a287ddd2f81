"""Great Expectations suites as non-blocking Dagster asset checks on published tables (the marts and
the HR raw tables): the blocking decisions are made at load time; these are findings to look at.

A mart rebuilt by month (issue 12) is validated on the months the run's dbt build rebuilt (a year mart:
those months' years), not its whole history: the other months did not change since they were last
validated. The whole table is validated when the build rebuilt everything, built only a subset of the
models (its months are not recorded), or when the check runs without a build in its run; marts without
months are always validated whole. The check's metadata says what was validated (serving/changes.py).
"""

import dagster as dg

from dagster_project.ingest.warehouse import warehouse_reader
from dagster_project.marts import mart_models
from dagster_project.quality.ge_runner import validate
from dagster_project.resources import WarehouseResource
from dagster_project.serving.changes import Changes, everything, month_labels, partition_filter, run_changes

GE_SUITE_CHECK = "ge_suite"


def validation_scope(suite_name: str, changes: Changes) -> tuple[str | None, dict]:
    """The query a mart's suite validates (None: nothing changed to validate) and metadata saying which
    months it covers."""
    schema, table = suite_name.split(".")
    whole = f"SELECT * FROM {suite_name}"
    partition = next((m.partition for m in mart_models() if m.name == table), None) if schema == "marts" else None
    if partition is None or changes.months is None:
        why = changes.reason if partition else "a mart without months" if schema == "marts" else "not a mart"
        return whole, {"validated_months": "all", "validated_scope": f"whole table: {why}"}
    months = month_labels(changes.months)
    where = partition_filter(partition, changes.months)
    if where is None:
        return None, {"validated_months": [], "validated_scope": f"nothing: {changes.reason}"}
    scope = f"{partition[0]} of the months rebuilt ({changes.reason})"
    return f"{whole} WHERE {where}", {"validated_months": months, "validated_scope": scope}


def ge_suite_check(suite_name: str) -> dg.AssetChecksDefinition:
    """Check ``schema.table`` (asset key [schema, table]) against the stored suite of the same name."""
    schema, table = suite_name.split(".")
    key = dg.AssetKey([schema, table])

    @dg.asset_check(asset=key, name=GE_SUITE_CHECK,
                    description=f"Great Expectations suite {suite_name} (expectations/gx/expectations/).")
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        changes = everything("not a mart")
        if schema == "marts":
            with warehouse_reader(warehouse.file, warehouse.lock_timeout) as con:
                changes = run_changes(con, context.run.run_id) if con is not None else everything("no warehouse yet")
        query, scope = validation_scope(suite_name, changes)
        if query is None:   # the run rebuilt no month: this mart's rows are those validated before
            return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.WARN,
                                       metadata={"ge_suite": suite_name, "ge_evaluated": 0, **scope})
        outcome = validate(warehouse.file, suite_name, query, **warehouse.loader_options())
        return dg.AssetCheckResult(passed=outcome.success, severity=dg.AssetCheckSeverity.WARN,
                                   metadata={**outcome.metadata(), **scope})

    return _check
