"""Great Expectations suites as non-blocking Dagster asset checks on published tables (the marts and
the HR raw tables): the blocking decisions are made at load time; these are findings to look at.

A mart rebuilt by month (issue 12) is validated on the months the run's dbt build rebuilt (a year mart:
those months' years), not its whole history: the other months did not change since they were last
validated. The whole table is validated when the build rebuilt everything, built only a subset of the
models (its months are not recorded), or when the check runs without a build in its run; marts without
months are always validated whole. The check's metadata says what was validated (serving/changes.py).

A build that rebuilt no month changed no row of a month mart: its check repeats the verdict the check
gave on the previous build (a "passed" there would tell the alert sensor a failure was resolved when
nothing was looked at), and validates the whole table when that verdict is not at hand.
"""

import dagster as dg

from dagster_project.ingest.warehouse import warehouse_reader
from dagster_project.marts import YEAR, mart_models
from dagster_project.quality.ge_runner import validate
from dagster_project.resources import WarehouseResource
from dagster_project.serving.changes import Changes, everything, month_labels, partition_filter, run_changes

GE_SUITE_CHECK = "ge_suite"


def mart_partition(suite_name: str) -> tuple[str, str] | None:
    """The partition (column, month | year) of the mart ``marts.<name>``; None for any other table."""
    schema, table = suite_name.split(".")
    return next((m.partition for m in mart_models() if m.name == table), None) if schema == "marts" else None


def validation_scope(suite_name: str, changes: Changes) -> tuple[str | None, dict]:
    """The query a mart's suite validates (None: nothing changed to validate) and metadata saying which
    months (a year mart: also which years) it covers."""
    schema = suite_name.split(".")[0]
    whole = f"SELECT * FROM {suite_name}"
    partition = mart_partition(suite_name)
    if partition is None or changes.months is None:
        why = changes.reason if partition else "a mart without months" if schema == "marts" else "not a mart"
        return whole, {"validated_months": "all", "validated_scope": f"whole table: {why}"}
    months = month_labels(changes.months)
    where = partition_filter(partition, changes.months)
    if where is None:
        return None, {"validated_months": [], "validated_scope": f"nothing: {changes.reason}"}
    meta: dict = {"validated_months": months,
                  "validated_scope": f"{partition[0]} of the months rebuilt ({changes.reason})"}
    if partition[1] == YEAR:
        meta["validated_years"] = sorted({m.year for m in changes.months})
    return f"{whole} WHERE {where}", meta


def _previous_verdict(context: dg.AssetCheckExecutionContext, check: dg.AssetCheckKey,
                      previous_run: str | None) -> bool | None:
    """Whether this check passed in ``previous_run`` (the run of the build before this run's), when its
    latest evaluation outside this run is from that run; None otherwise (then validate)."""
    if previous_run is None:
        return None
    try:
        records = context.instance.event_log_storage.get_asset_check_execution_history(check, limit=5)
    except Exception:   # an instance without check history: validate instead
        return None
    latest = next((r for r in records if r.run_id != context.run.run_id), None)
    if latest is None or latest.run_id != previous_run or latest.status.value not in ("SUCCEEDED", "FAILED"):
        return None
    return latest.status.value == "SUCCEEDED"


def ge_suite_check(suite_name: str) -> dg.AssetChecksDefinition:
    """Check ``schema.table`` (asset key [schema, table]) against the stored suite of the same name."""
    schema, table = suite_name.split(".")
    key = dg.AssetKey([schema, table])

    @dg.asset_check(asset=key, name=GE_SUITE_CHECK,
                    description=f"Great Expectations suite {suite_name} (expectations/gx/expectations/).")
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        changes = everything("not a mart" if schema != "marts" else "a mart without months")
        if mart_partition(suite_name) is not None:
            with warehouse_reader(warehouse.file, warehouse.lock_timeout) as con:
                changes = run_changes(con, context.run.run_id) if con is not None else everything("no warehouse yet")
        query, scope = validation_scope(suite_name, changes)
        if query is None:   # the run rebuilt no month: this mart's rows are those validated before
            verdict = _previous_verdict(context, dg.AssetCheckKey(key, GE_SUITE_CHECK), changes.previous_run)
            if verdict is not None:
                scope["validated_scope"] += f"; the verdict on the previous build (run {changes.previous_run}) stands"
                return dg.AssetCheckResult(passed=verdict, severity=dg.AssetCheckSeverity.WARN,
                                           metadata={"ge_suite": suite_name, "ge_evaluated": 0, **scope})
            query, scope = f"SELECT * FROM {suite_name}", {
                "validated_months": "all", "validated_scope": "whole table: no month rebuilt, and no verdict "
                                                              "on the previous build to repeat"}
        outcome = validate(warehouse.file, suite_name, query, **warehouse.loader_options())
        return dg.AssetCheckResult(passed=outcome.success, severity=dg.AssetCheckSeverity.WARN,
                                   metadata={**outcome.metadata(), **scope})

    return _check
