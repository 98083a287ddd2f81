"""dbt/models/staging/sources.yml is generated from source_shapes.py and hr_schema.py (issue 11 #5):
the committed file is what the generator writes, and it declares every raw column the loaders write."""

from __future__ import annotations

import yaml

from dagster_project.dbt_sources import drift, sources_yml, write_sources_yml
from dagster_project.hr_schema import metadata as hr_metadata
from dagster_project.source_shapes import HOUSEHOLD_COLUMNS, HR_TABLES, MEMBER_COLUMNS, RELIEF_COLUMNS


def test_committed_sources_yml_is_generated() -> None:
    problem = drift()
    assert problem is None, problem


def _tables() -> dict[str, list[dict]]:
    (source,) = yaml.safe_load(sources_yml())["sources"]
    assert source["name"] == "raw" and source["schema"] == "raw"
    return {t["name"]: t["columns"] for t in source["tables"]}


def test_generated_sources_follow_the_shapes() -> None:
    """Worked out from the shapes by hand: every exported column in export order, then the loader's."""
    tables = _tables()
    assert list(tables) == ["monitoring_members", "monitoring_households", "relief_projects",
                            *(f"hr_{t}" for t in HR_TABLES)]
    members = [c["name"] for c in tables["monitoring_members"]]
    assert members == [*MEMBER_COLUMNS.values(), "county_code", "prefecture_code", "as_of_month", "batch_id",
                       "source_row", "extra_fields"]
    households = [c["name"] for c in tables["monitoring_households"]]
    assert households[:len(HOUSEHOLD_COLUMNS)] == [*HOUSEHOLD_COLUMNS.values()]
    assert [c["name"] for c in tables["relief_projects"]] == [*RELIEF_COLUMNS.values(), "county_code",
                                                              "prefecture_code", "report_file", "report_year",
                                                              "batch_id", "source_row"]
    for table in HR_TABLES:
        names = [c["name"] for c in tables[f"hr_{table}"]]
        assert names == [c.name for c in hr_metadata.tables[table].columns] + ["_loaded_at"]


def test_descriptions_keep_the_chinese_headers_and_mark_personal_data() -> None:
    members = {c["name"]: c["description"] for c in _tables()["monitoring_members"]}
    assert members["months_worked"] == "务工时间（月） (as exported, VARCHAR)"
    assert members["id_number"] == ("证件号码 (as exported, VARCHAR) — personal data: hashed or dropped in "
                                    "staging, never beyond")
    households = {c["name"]: c["description"] for c in _tables()["monitoring_households"]}
    assert households["head_name"].startswith("户主姓名 (as exported, VARCHAR) — personal data")
    jobseeker = {c["name"]: c["description"] for c in _tables()["hr_jobseeker"]}
    assert jobseeker["reg_id"] == "primary key" and jobseeker["phone"] == "personal data: hashed or dropped in staging"
    assert jobseeker["registered_on"] == "registered_on"


def test_drift_names_the_command(tmp_path) -> None:
    """A stale or missing file is reported with the command that regenerates it; writing it fixes it."""
    stale = tmp_path / "sources.yml"
    assert "is missing" in drift(stale)
    stale.write_text(sources_yml().replace("      - name: hr_rural_talent", "      - name: hr_rural_talents"), "utf-8")
    problem = drift(stale)
    assert problem and "differs" in problem and "python -m dagster_project.dbt_sources (make sources)" in problem
    assert write_sources_yml(stale) is True and write_sources_yml(stale) is False
    assert drift(stale) is None
