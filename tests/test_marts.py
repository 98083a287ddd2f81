"""The list of marts is the dbt manifest's (dagster_project/marts.py, issue 11 #5): it agrees with the
model files and with the dbt assets of the definitions, and what is checked, served and reported
follows it. Reads the manifest only (no warehouse), so it takes seconds."""

from __future__ import annotations

import dagster as dg

from dagster_project.marts import mart_asset_keys, mart_models, mart_names, models_from_manifest
from dagster_project.settings import DBT_PROJECT_DIR


def test_marts_are_the_model_files_of_the_marts_folder() -> None:
    files = {p.stem for p in (DBT_PROJECT_DIR / "models" / "marts").rglob("*.sql")}
    assert set(mart_names()) == files
    assert list(mart_names()) == sorted(files)
    # a few of them by hand, and the one restricted list (its meta in _marts yml)
    assert {"kpi_scorecard", "dim_region", "fct_relief_wage_ratio", "fct_early_warning"} <= files
    publish = {m.name: m.publish for m in mart_models()}
    assert publish["fct_early_warning"] == "county_roles_only" and publish["kpi_scorecard"] is None


def test_mart_keys_are_the_dbt_assets_of_schema_marts() -> None:
    """The manifest-derived keys are exactly the marts in the asset graph (the dbt assets' keys)."""
    from dagster_project.assets.transform import zengshou_dbt

    graph = {key for key in zengshou_dbt.keys if key.path[0] == "marts"}
    assert graph == set(mart_asset_keys())


def test_models_from_manifest_reads_meta_labels_and_descriptions() -> None:
    """A hand-written manifest fragment: only models of schema marts count; meta on the model or in
    its config gives the publishing rule; descriptions are folded onto one line."""
    manifest = {"nodes": {
        "model.p.b": {"resource_type": "model", "name": "b", "description": "乙表\n  / Table B",
                      "config": {"schema": "marts", "meta": {"zengshou_publish": "county_roles_only"}},
                      "columns": {"x": {"description": "甲 / X", "meta": {"label_zh": "甲列"}}}},
        "model.p.a": {"resource_type": "model", "name": "a", "description": "", "meta": {"zengshou_publish": "all"},
                      "config": {"schema": "marts"}, "columns": {}},
        "model.p.s": {"resource_type": "model", "name": "s", "config": {"schema": "staging"}},
        "test.p.t": {"resource_type": "test", "name": "t", "config": {"schema": "marts"}},
    }}
    models = models_from_manifest(manifest)
    assert [m.name for m in models] == ["a", "b"]
    a, b = models
    assert a.publish == "all" and a.description is None
    assert b.publish == "county_roles_only" and b.description == "乙表 / Table B"
    assert b.columns["x"].label_zh == "甲列" and b.columns["x"].description == "甲 / X"
    assert b.asset_key == dg.AssetKey(["marts", "b"])


def test_partitions_are_the_by_month_models_of_the_manifest() -> None:
    """Which marts publishing and validation take by month (issue 12 §3) is the meta zengshou_partition
    that dbt's by_month_config sets; the list below is the marts' own config lines, read by hand."""
    partitions = {m.name: m.partition for m in mart_models()}
    by_month = {"kpi_scorecard", "kpi_scorecard_by_group", "fct_system_reconciliation", "fct_early_warning",
                "fct_early_warning_counts"}
    assert {n for n, p in partitions.items() if p == ("as_of_month", "month")} == by_month
    assert {n for n, p in partitions.items() if p == ("year", "year")} == {"fct_employment_duration",
                                                                           "fct_income_growth"}
    assert all(p is None for n, p in partitions.items() if n not in by_month | {"fct_employment_duration",
                                                                                "fct_income_growth"})


def test_partition_meta_is_believed_only_with_its_config() -> None:
    """A model whose config no longer deletes and inserts by the column is taken whole, whatever its meta."""
    meta = {"zengshou_partition": {"column": "as_of_month", "by": "month"}}
    config = {"schema": "marts", "materialized": "incremental", "incremental_strategy": "delete+insert",
              "unique_key": "as_of_month", "meta": meta}
    nodes = {
        "model.p.ok": {"resource_type": "model", "name": "ok", "config": config},
        "model.p.table": {"resource_type": "model", "name": "table", "config": {**config, "materialized": "table"}},
        "model.p.key": {"resource_type": "model", "name": "key", "config": {**config, "unique_key": "county_code"}},
        "model.p.odd": {"resource_type": "model", "name": "odd",
                        "config": {**config, "meta": {"zengshou_partition": {"column": "as_of_month", "by": "year"}}}},
    }
    got = {m.name: m.partition for m in models_from_manifest({"nodes": nodes})}
    assert got == {"ok": ("as_of_month", "month"), "table": None, "key": None, "odd": None}
