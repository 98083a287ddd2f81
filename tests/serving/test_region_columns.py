"""Every person-level mart of the dbt project carries its region (issue 13 #6), read from the model
contracts without building anything: a new mart about people without county_code / prefecture_code
fails here, before publishing would refuse it (catalog.check_row_security)."""

from __future__ import annotations

import yaml

from dagster_project.serving.catalog import PERSON_LEVEL_COLUMNS, PUBLISH_META_KEY, PUBLISH_RULES
from dagster_project.settings import DBT_PROJECT_DIR


def _mart_models() -> dict[str, dict]:
    models = {}
    for path in sorted((DBT_PROJECT_DIR / "models" / "marts").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text("utf-8")) or {}).get("models") or []:
            models[model["name"]] = model
    return models


def test_every_person_level_mart_has_county_and_prefecture_columns() -> None:
    models = _mart_models()
    sql_models = {p.stem for p in (DBT_PROJECT_DIR / "models" / "marts").rglob("*.sql")}
    assert sql_models <= set(models), f"marts without a yml contract: {sorted(sql_models - set(models))}"
    person_level = []
    for name, model in models.items():
        columns = {c["name"] for c in model.get("columns") or []}
        if columns & PERSON_LEVEL_COLUMNS:
            person_level.append(name)
            assert {"county_code", "prefecture_code"} <= columns, f"{name} is person-level without its region"
    # The marts of issue 13 #6, and the monitoring facts, are among them.
    assert {"fct_training", "fct_employment_service", "fct_subsidy_payment", "fct_skill_certificate",
            "fct_employment_duration", "fct_income_growth", "fct_jobseeker"} <= set(person_level)


def test_publishing_rules_in_the_yml_are_known() -> None:
    for name, model in _mart_models().items():
        meta = {**(model.get("meta") or {}), **((model.get("config") or {}).get("meta") or {})}
        rule = meta.get(PUBLISH_META_KEY)
        assert rule is None or rule in PUBLISH_RULES, f"{name}: unknown {PUBLISH_META_KEY} {rule!r}"
        if rule == "county_roles_only":
            columns = {c["name"] for c in model.get("columns") or []}
            assert "county_code" in columns, f"{name}: a county_roles_only list needs county_code"
