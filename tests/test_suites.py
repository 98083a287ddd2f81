"""The stored GE suites (expectations/) are the ones the code generates from the row rules."""

import pytest

from dagster_project.quality.suites import active_context, all_suites, stored_path, suite_json


def test_stored_suites_match_the_rules() -> None:
    active_context()
    for name, suite in all_suites().items():
        path = stored_path(name)
        assert path.exists(), f"{path} missing: run `make expectations`"
        assert path.read_text("utf-8") == suite_json(suite), f"{name} drifted: run `make expectations`"


def test_every_raw_rule_has_an_expectation() -> None:
    from dagster_project.ingest.file_sources import RULES, SUITE_OF

    active_context()
    suites = all_suites()
    for source, rules in RULES.items():
        metas = {e.meta.get("rule") for e in suites[SUITE_OF[source]].expectations if e.meta}
        assert {r.name for r in rules} <= metas


def test_every_mart_has_a_suite() -> None:
    """Each published mart model (dbt/models/marts/**) gets a GE suite, hence a `ge_suite` asset check:
    the manifest's list of marts (dagster_project/marts.py) is the model files, and names the suites."""
    from dagster_project.quality.suites import mart_suite_names, mart_suites
    from dagster_project.settings import DBT_PROJECT_DIR

    active_context()
    models = {f"marts.{p.stem}" for p in (DBT_PROJECT_DIR / "models" / "marts").rglob("*.sql")}
    assert models == set(mart_suite_names())
    assert {s.name for s in mart_suites()} == models


def test_every_mart_has_a_ge_suite_check() -> None:
    """The `ge_suite` asset checks follow the manifest too: one per mart, on the mart's asset key."""
    from dagster_project.assets.transform import MART_CHECKS
    from dagster_project.marts import mart_asset_keys

    checked = {key.asset_key for check in MART_CHECKS for key in check.check_keys}
    assert checked == set(mart_asset_keys()) and len(MART_CHECKS) == len(checked)


def test_a_new_mart_without_a_suite_is_named(monkeypatch) -> None:
    """Adding a mart to dbt without writing its suite stops `make expectations` (and this module)
    with the mart's name, instead of leaving the mart unchecked."""
    from dagster_project.quality import suites

    names = (*suites.mart_names(), "fct_brand_new")
    monkeypatch.setattr(suites, "mart_names", lambda: names)
    active_context()
    with pytest.raises(RuntimeError, match=r"marts without a suite \['marts.fct_brand_new'\]"):
        suites.mart_suites()
