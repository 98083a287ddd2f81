"""Every person-level mart of the dbt project carries its region (issue 13 #6), read from the model
contracts in the dbt manifest (dagster_project/marts.py) without building anything: a new mart about
people without county_code / prefecture_code fails here, before publishing would refuse it
(catalog.check_row_security)."""

from __future__ import annotations

from dagster_project.marts import MartModel, mart_models
from dagster_project.serving.catalog import PERSON_LEVEL_COLUMNS, PUBLISH_RULES
from dagster_project.settings import DBT_PROJECT_DIR


def _mart_models() -> dict[str, MartModel]:
    return {m.name: m for m in mart_models()}


def test_every_person_level_mart_has_county_and_prefecture_columns() -> None:
    models = _mart_models()
    sql_models = {p.stem for p in (DBT_PROJECT_DIR / "models" / "marts").rglob("*.sql")}
    contracted = {name for name, model in models.items() if model.columns}
    assert sql_models <= contracted, f"marts without a yml contract: {sorted(sql_models - contracted)}"
    person_level = []
    for name, model in models.items():
        columns = set(model.columns)
        if columns & PERSON_LEVEL_COLUMNS:
            person_level.append(name)
            assert {"county_code", "prefecture_code"} <= columns, f"{name} is person-level without its region"
    # The marts of issue 13 #6, and the monitoring facts, are among them.
    assert {"fct_training", "fct_employment_service", "fct_subsidy_payment", "fct_skill_certificate",
            "fct_employment_duration", "fct_income_growth", "fct_jobseeker"} <= set(person_level)


def test_publishing_rules_in_the_yml_are_known() -> None:
    for name, model in _mart_models().items():
        rule = model.publish
        assert rule is None or rule in PUBLISH_RULES, f"{name}: unknown zengshou_publish {rule!r}"
        if rule == "county_roles_only":
            assert "county_code" in model.columns, f"{name}: a county_roles_only list needs county_code"
    # the early-warning list is the restricted one (SPEC §2.3), read from its meta in the manifest
    assert {n for n, m in _mart_models().items() if m.publish == "county_roles_only"} == {"fct_early_warning"}
