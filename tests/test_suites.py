"""The stored GE suites (expectations/) are the ones the code generates from the row rules."""

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
    """Each published mart model (dbt/models/marts/**) gets a GE suite, hence a `ge_suite` asset check."""
    from dagster_project.quality.suites import MART_SUITE_NAMES
    from dagster_project.settings import DBT_PROJECT_DIR

    models = {f"marts.{p.stem}" for p in (DBT_PROJECT_DIR / "models" / "marts").rglob("*.sql")}
    assert models == set(MART_SUITE_NAMES)
