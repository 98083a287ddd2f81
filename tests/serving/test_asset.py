"""The serving_publish asset: publishes the serving file (always) and PostgreSQL (when configured),
with paths, row counts and durations in its metadata."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.assets.serving import MART_KEYS, serving_publish
from dagster_project.resources import build_resources
from dagster_project.settings import load_settings
from tests.serving.conftest import BiDatabase


def _materialize(monkeypatch: pytest.MonkeyPatch, warehouse: Path, bi_url: str | None, prefix: str = "") -> dict:
    monkeypatch.setenv("ZENGSHOU_WAREHOUSE", str(warehouse))
    monkeypatch.delenv("ZENGSHOU_SERVING_FILE", raising=False)
    if bi_url:
        monkeypatch.setenv("ZENGSHOU_BI_DB_URL", bi_url)
        monkeypatch.setenv("ZENGSHOU_BI_ROLE_PREFIX", prefix)
    else:
        monkeypatch.delenv("ZENGSHOU_BI_DB_URL", raising=False)
    # The settings of this environment, as the code location builds them, become the asset's resources.
    result = dg.materialize([serving_publish], instance=dg.DagsterInstance.ephemeral(),
                            resources=build_resources(load_settings()))
    assert result.success
    [event] = result.get_asset_materialization_events()
    assert event.asset_key == dg.AssetKey(["serving", "marts_published"])
    return {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}


def test_asset_definition() -> None:
    """The lineage names every mart published: each model under dbt/models/marts/ (the files, not the
    code's list) is a parent of serving/marts_published in the code location's asset graph."""
    from tests.test_definitions import load_definitions

    spec = next(iter(serving_publish.specs))
    assert spec.group_name == "serving"
    assert {d.asset_key for d in spec.deps} == set(MART_KEYS)
    models = Path(__file__).resolve().parents[2] / "dbt" / "models" / "marts"
    marts = {dg.AssetKey(["marts", sql.stem]) for sql in models.rglob("*.sql")}
    assert {"kpi_scorecard", "dim_region", "fct_employment_duration", "fct_income_growth",
            "fct_relief_wage_ratio"} <= {k.path[-1] for k in marts}
    parents = load_definitions().resolve_asset_graph().get(dg.AssetKey(["serving", "marts_published"])).parent_keys
    assert marts <= set(parents) and set(MART_KEYS) == marts


def test_asset_publishes_the_serving_file_without_postgres(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    meta = _materialize(monkeypatch, warehouse, None)
    assert meta["serving_file"] == str(warehouse.parent / "zengshou_serving.duckdb")
    assert meta["rows"]["kpi_scorecard"] == 12 and meta["total_rows"] == 26
    assert meta["postgres"].startswith("not configured")
    con = duckdb.connect(meta["serving_file"], read_only=True)
    assert con.execute("SELECT count(*) FROM marts.dim_region").fetchone() == (6,)
    con.close()


@pytest.mark.postgres
def test_asset_publishes_to_postgres_when_configured(warehouse: Path, bi_db: BiDatabase,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    meta = _materialize(monkeypatch, warehouse, bi_db.url, bi_db.prefix)
    assert "***" in meta["postgres"]
    assert meta["postgres_rls_tables"]["kpi_scorecard"] == "region_code"
    assert f"{bi_db.prefix}_pref_530100" in meta["postgres_roles"]
    assert meta["duration_seconds"] >= meta["postgres_seconds"]
