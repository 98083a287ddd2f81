"""Great Expectations suites: generated from the row rules (raw tables) and from the mart contract
(marts), and stored in the GE file context under ``expectations/`` where Data Docs and reviewers
read them. ``python -m dagster_project.quality.suites`` rewrites the stored suites; a test fails
when the stored files and this code drift apart.
"""

from __future__ import annotations

import json
import os
import uuid

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no network here: never phone home

import great_expectations as gx
from great_expectations import expectations as gxe

from dagster_project.marts import MARTS_SCHEMA, mart_names
from dagster_project.quality.rules import (
    SERVICE_TYPES,
    TALENT_TYPES,
    Rule,
    household_rules,
    hr_rules,
    member_rules,
    relief_rules,
)
from dagster_project.settings import EXPECTATIONS_DIR
from dagster_project.source_shapes import HOUSEHOLD_COLUMNS, HR_TABLES, MEMBER_COLUMNS, RELIEF_COLUMNS

REGION_LEVELS = ["province", "prefecture", "county"]
STATUSES = ["met", "not_met", "no_target", "no_data"]
PROGRESS_STATUSES = ["on_track", "behind", "not_due", "no_target", "no_data"]  # SPEC §2.1
WORK_REGIONS = ["县内", "县外省内", "省外", "国外"]
# 证书类型: the three certificate categories of the national skills certification system (人社部).
CERTIFICATE_TYPES = ["职业资格证书", "职业技能等级证书", "专项职业能力证书"]
GROUP_DIMENSIONS = ["key_assistance_county", "relocated", "monitoring_category", "returnee"]
YES_NO_UNKNOWN = ["是", "否", "未知"]
KEY_LENGTH = 64  # person_key / household_key: hex HMAC-SHA256
RECONCILIATION_CHECKS = ["public_post", "jobseeker_employed", "hr_not_in_monitoring"]
WARNING_REASONS = ["stalled", "returned", "unserved"]
WARNING_LABELS_ZH = ["断工", "返乡回流", "有意愿未就业未服务"]


def _rule_expectation(rule: Rule) -> gxe.Expectation:
    return gxe.UnexpectedRowsExpectation(
        unexpected_rows_query=f"SELECT * FROM {{batch}} WHERE {rule.sql('{batch}')}",
        description=f"{rule.name}: {rule.reason}",
        meta={"rule": rule.name},
    )


def raw_suite(name: str, columns: list[str], rules: list[Rule]) -> gx.ExpectationSuite:
    """Every exported column present, at least one row, and one expectation per row rule."""
    suite = gx.ExpectationSuite(name=name)
    suite.add_expectation(gxe.ExpectTableRowCountToBeBetween(min_value=1))
    for column in ["county_code", *columns]:
        suite.add_expectation(gxe.ExpectColumnToExist(column=column))
    for rule in rules:
        suite.add_expectation(_rule_expectation(rule))
    return suite


def _not_null(suite: gx.ExpectationSuite, *columns: str) -> None:
    for column in columns:
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))


def _rows_breaking(name: str, condition: str, reason: str) -> gxe.UnexpectedRowsExpectation:
    """A row rule on a mart: the rows where ``condition`` holds are unexpected."""
    return gxe.UnexpectedRowsExpectation(unexpected_rows_query=f"SELECT * FROM {{batch}} WHERE {condition}",
                                         description=f"{name}: {reason}", meta={"rule": name})


def _region_expectations(suite: gx.ExpectationSuite) -> gx.ExpectationSuite:
    """A person-level mart carries its region (issue 13 #6: PostgreSQL row-level security filters on
    it): county_code and prefecture_code exist, are 6-digit codes when known, and agree (a Yunnan
    county's prefecture is its first four digits + 00). NULL is allowed: an unplaced row is visible
    to the province and analyst roles only."""
    for column in ("county_code", "prefecture_code"):
        suite.add_expectation(gxe.ExpectColumnToExist(column=column))
        suite.add_expectation(gxe.ExpectColumnValueLengthsToEqual(column=column, value=6))
    suite.add_expectation(_rows_breaking(
        "region_consistent",
        "county_code IS NOT NULL AND prefecture_code IS NOT NULL"
        " AND substr(county_code, 1, 4) || '00' <> prefecture_code",
        "县级代码与州市代码不一致 / county_code and prefecture_code disagree"))
    return suite


def _pace(suite: gx.ExpectationSuite) -> None:
    """SPEC §2.1 on a scorecard: progress_status filled from its closed list, the KPI's Chinese name
    present, and in December the pace agrees with the annual status (met ↔ on_track …)."""
    _not_null(suite, "progress_status", "kpi_label_zh")
    suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="progress_status", value_set=PROGRESS_STATUSES))
    suite.add_expectation(_rows_breaking(
        "december_pace_agrees_with_status",
        "extract(month FROM as_of_month) = 12 AND progress_status IS DISTINCT FROM CASE status "
        "WHEN 'met' THEN 'on_track' WHEN 'not_met' THEN 'behind' ELSE status END",
        "12月进度状态与年度状态不一致 / in December progress_status must agree with status"))


def mart_suite_names() -> tuple[str, ...]:
    """One suite per mart model of the dbt manifest (dagster_project/marts.py), named marts.<model>."""
    return tuple(f"{MARTS_SCHEMA}.{name}" for name in mart_names())


def mart_suites() -> list[gx.ExpectationSuite]:
    """Expectations on the published marts: what BI users rely on beyond the dbt contract. Every mart
    of the manifest needs one (its `ge_suite` check reads it): a new mart without a suite stops here."""
    suites = [*_monitoring_mart_suites(), *_hr_mart_suites(), _group_scorecard_suite(), *_warning_suites()]
    built, marts = {s.name for s in suites}, set(mart_suite_names())
    if built != marts:
        raise RuntimeError(f"GE suites and dbt marts differ: marts without a suite {sorted(marts - built)}, "
                           f"suites of no mart {sorted(built - marts)} (dagster_project/quality/suites.py)")
    return sorted(suites, key=lambda s: s.name)


def _monitoring_mart_suites() -> list[gx.ExpectationSuite]:
    """The scorecard, the monitoring and relief facts, the region dimension and the reconciliation."""
    score = gx.ExpectationSuite(name="marts.kpi_scorecard")
    _not_null(score, "as_of_month", "year", "region_level", "region_code", "region_name", "kpi_code", "status")
    score.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="region_level", value_set=REGION_LEVELS))
    score.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="status", value_set=STATUSES))
    score.add_expectation(gxe.ExpectColumnValueLengthsToEqual(column="region_code", value=6))
    score.add_expectation(gxe.ExpectCompoundColumnsToBeUnique(column_list=["as_of_month", "region_code", "kpi_code"]))
    score.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="denominator", min_value=0))
    _pace(score)

    duration = gx.ExpectationSuite(name="marts.fct_employment_duration")
    _not_null(duration, "person_key", "year", "as_of_month", "county_code", "household_type", "months_worked")
    duration.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="months_worked", min_value=0, max_value=12))
    duration.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="work_region", value_set=WORK_REGIONS))
    duration.add_expectation(gxe.ExpectColumnValueLengthsToEqual(column="person_key", value=64))
    duration.add_expectation(gxe.ExpectCompoundColumnsToBeUnique(column_list=["person_key", "year"]))
    _region_expectations(duration)

    income = gx.ExpectationSuite(name="marts.fct_income_growth")
    _not_null(income, "household_key", "year", "as_of_month", "county_code", "household_type", "household_size")
    income.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="household_size", min_value=1))
    income.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="wage_income_yuan", min_value=0))
    income.add_expectation(gxe.ExpectCompoundColumnsToBeUnique(column_list=["household_key", "year"]))
    _region_expectations(income)

    relief = gx.ExpectationSuite(name="marts.fct_relief_wage_ratio")
    _not_null(relief, "project_id", "year", "county_code", "fund_source")
    relief.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="central_funds_wan", min_value=0))
    relief.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="labor_remuneration_wan", min_value=0))
    relief.add_expectation(gxe.ExpectCompoundColumnsToBeUnique(column_list=["year", "project_id"]))

    region = gx.ExpectationSuite(name="marts.dim_region")
    _not_null(region, "region_code", "region_level", "region_name")
    region.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="region_code"))
    region.add_expectation(gxe.ExpectTableRowCountToEqual(value=146))
    # The tolerance is data, not suite: dbt writes ZENGSHOU_RECONCILIATION_TOLERANCE (default 0.05) into
    # the mart's `tolerance` column when it builds the table, so this stored suite never changes with
    # it and the check compares each rate with the tolerance of the same build.
    recon = gx.ExpectationSuite(name="marts.fct_system_reconciliation")
    _not_null(recon, "as_of_month", "check_code", "compared_count", "mismatch_count", "tolerance")
    recon.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="check_code", value_set=RECONCILIATION_CHECKS))
    recon.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="tolerance", min_value=0, max_value=1))
    recon.add_expectation(_rows_breaking("reconciliation_within_tolerance", "mismatch_rate > tolerance",
                                         "两系统不一致率超过容忍度 ZENGSHOU_RECONCILIATION_TOLERANCE"))
    return [score, duration, income, relief, region, recon]


def _hr_fact_suite(name: str, id_column: str, *not_null: str) -> gx.ExpectationSuite:
    """An HR fact mart: its id and the columns deciding which snapshots a row counts for are filled,
    one row per id, and person_key is a 64-character keyed hash (it joins to the monitoring marts)."""
    suite = gx.ExpectationSuite(name=name)
    _not_null(suite, id_column, "person_key", *not_null)
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column=id_column))
    suite.add_expectation(gxe.ExpectColumnValueLengthsToEqual(column="person_key", value=KEY_LENGTH))
    return suite


def _hr_mart_suites() -> list[gx.ExpectationSuite]:
    """The HR-platform fact marts (marts/hr): the base suite of ``_hr_fact_suite`` plus the code lists,
    amounts and date order the HR KPIs read. A row breaking them is still published (SPEC §3: odd
    values are reported, not rejected), so these are warnings for the BI user, not load decisions."""
    service = _hr_fact_suite("marts.fct_employment_service", "service_id", "service_type", "service_date")
    service.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="service_type", value_set=list(SERVICE_TYPES)))

    jobseeker = _hr_fact_suite("marts.fct_jobseeker", "reg_id", "registered_on")
    jobseeker.add_expectation(gxe.ExpectColumnValueLengthsToEqual(column="county_code", value=6))

    brand = _hr_fact_suite("marts.fct_labor_brand_member", "member_id", "brand_name", "joined_on")
    brand.add_expectation(gxe.ExpectColumnValueLengthsToEqual(column="county_code", value=6))

    post = _hr_fact_suite("marts.fct_public_welfare_post", "assignment_id", "start_date")
    post.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="monthly_subsidy_yuan", min_value=0))
    post.add_expectation(_rows_breaking("post_end_before_start", "end_date < start_date",
                                        "离岗日期早于上岗日期 / end_date before start_date"))

    talent = _hr_fact_suite("marts.fct_rural_talent", "talent_id", "county_code", "village_name")
    talent.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="talent_type", value_set=list(TALENT_TYPES)))

    certificate = _hr_fact_suite("marts.fct_skill_certificate", "certificate_no", "issued_on")
    certificate.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="certificate_type",
                                                                value_set=CERTIFICATE_TYPES))

    suites = [service, jobseeker, brand, post, talent, certificate, _subsidy_payment_suite(), _training_suite()]
    return [_region_expectations(s) for s in suites]


def _subsidy_payment_suite() -> gx.ExpectationSuite:
    """Subsidies due: one row per assignment and period month (a second row would count a subsidy
    twice in subsidy_on_time_full_rate), amounts not negative. person_key is NULL when the
    assignment is unknown, so it is not required here (only its length when present)."""
    payment = gx.ExpectationSuite(name="marts.fct_subsidy_payment")
    _not_null(payment, "payment_id", "assignment_id", "period_month")
    payment.add_expectation(gxe.ExpectCompoundColumnsToBeUnique(column_list=["assignment_id", "period_month"]))
    payment.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="amount_due_yuan", min_value=0))
    payment.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="amount_paid_yuan", min_value=0))
    payment.add_expectation(gxe.ExpectColumnValueLengthsToEqual(column="person_key", value=KEY_LENGTH))
    return payment


def _training_suite() -> gx.ExpectationSuite:
    """Trainings: end_date decides the year a training counts in, so it may not precede start_date."""
    training = _hr_fact_suite("marts.fct_training", "training_id")
    training.add_expectation(_rows_breaking("training_end_before_start", "end_date < start_date",
                                            "结业日期早于开班日期 / end_date before start_date"))
    return training


def _group_scorecard_suite() -> gx.ExpectationSuite:
    """The key-group scorecard: one row per snapshot × region × group × KPI, the group values the
    notice names (monitoring_category keeps any exported category, so only the yes/no/unknown
    dimensions have a closed list), and KPI values within the range their definition allows."""
    group = gx.ExpectationSuite(name="marts.kpi_scorecard_by_group")
    _not_null(group, "as_of_month", "region_code", "kpi_code", "status")
    group.add_expectation(gxe.ExpectCompoundColumnsToBeUnique(
        column_list=["as_of_month", "region_code", "group_dimension", "group_value", "kpi_code"]))
    group.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="status", value_set=STATUSES))
    _pace(group)
    dimensions, yes_no = ", ".join(f"'{d}'" for d in GROUP_DIMENSIONS), ", ".join(f"'{v}'" for v in YES_NO_UNKNOWN)
    group.add_expectation(_rows_breaking(
        "group_value_known",
        f"group_dimension IS NULL OR group_value IS NULL OR group_dimension NOT IN ({dimensions}) "
        f"OR (group_dimension <> 'monitoring_category' AND group_value NOT IN ({yes_no}))",
        "分组维度不在 4 个维度之内，或 是/否 维度的分组值不是 是、否、未知 / unknown group dimension or value"))
    group.add_expectation(_rows_breaking(
        "kpi_value_in_range",
        "(kpi_code IN ('out_of_province_share', 'organized_outflow_share') AND NOT actual_value BETWEEN 0 AND 1) "
        "OR (kpi_code = 'avg_employment_months' AND NOT actual_value BETWEEN 0 AND 12) "
        "OR (kpi_code = 'employment_vs_prior_year' AND actual_value < 0) "
        "OR (kpi_code = 'wage_income_per_capita_growth' AND actual_value < -1)",
        "指标值超出定义范围（占比 0–1、平均务工月数 0–12、人数比 >= 0、增长率 >= -1）/ KPI value out of its range"))
    return group


def _warning_suites() -> list[gx.ExpectationSuite]:
    """The early-warning worklist (SPEC §2.3) and its counts. The worklist is what county staff act on:
    every row must name a person they can look up (户编号 / 人口编号, county), a known reason, and the
    months that explain it (a stalled row whose months grew would send staff to the wrong door)."""
    worklist = gx.ExpectationSuite(name="marts.fct_early_warning")
    _not_null(worklist, "as_of_month", "year", "county_code", "household_no", "person_no", "reason", "months_worked")
    worklist.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="reason", value_set=WARNING_REASONS))
    worklist.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="reason_label_zh", value_set=WARNING_LABELS_ZH))
    worklist.add_expectation(gxe.ExpectColumnValueLengthsToEqual(column="county_code", value=6))
    worklist.add_expectation(gxe.ExpectCompoundColumnsToBeUnique(
        column_list=["as_of_month", "county_code", "household_no", "person_no", "reason"]))
    worklist.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="months_worked", min_value=0, max_value=12))
    worklist.add_expectation(_rows_breaking(
        "warning_months_explain_reason",
        "(reason = 'stalled' AND (months_worked = 0 OR previous_months_worked IS NULL "
        "OR months_worked > previous_months_worked)) "
        "OR (reason = 'returned' AND work_region IS NOT NULL AND work_region <> '县内') "
        "OR (reason = 'unserved' AND months_worked > 0)",
        "预警原因与务工月数、务工地域不符 / reason contradicted by the months worked or the work region"))

    counts = gx.ExpectationSuite(name="marts.fct_early_warning_counts")
    _not_null(counts, "as_of_month", "county_code", "reason", "persons")
    counts.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="reason", value_set=WARNING_REASONS))
    counts.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="persons", min_value=0))
    counts.add_expectation(gxe.ExpectCompoundColumnsToBeUnique(column_list=["as_of_month", "county_code", "reason"]))
    return [_region_expectations(worklist), _region_expectations(counts)]


def raw_suites() -> list[gx.ExpectationSuite]:
    return [
        raw_suite("raw.monitoring_members", list(MEMBER_COLUMNS.values()), member_rules()),
        raw_suite("raw.monitoring_households", list(HOUSEHOLD_COLUMNS.values()), household_rules()),
        raw_suite("raw.relief_projects", list(RELIEF_COLUMNS.values()), relief_rules()),
    ]


HR_SUITE_NAMES = tuple(f"raw.hr_{table}" for table in HR_TABLES)


def hr_raw_suites() -> list[gx.ExpectationSuite]:
    """The HR tables: one row per primary key, and one expectation per row rule of ``hr_rules`` (the
    same text the pipeline quarantines with). Validated on each staged pull before it is published
    (GE's per-rule counts must equal the pipeline's) and again on the published raw table."""
    suites = []
    for table, columns in HR_TABLES.items():
        suite = gx.ExpectationSuite(name=f"raw.hr_{table}")
        suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column=columns[0]))
        for rule in hr_rules(table):
            suite.add_expectation(_rule_expectation(rule))
        suites.append(suite)
    assert tuple(s.name for s in suites) == HR_SUITE_NAMES
    return suites


def all_suites() -> dict[str, gx.ExpectationSuite]:
    return {s.name: s for s in [*raw_suites(), *hr_raw_suites(), *mart_suites()]}


def active_context() -> None:
    """Building suites needs an active GE context. An ephemeral one: loading the file context would
    rewrite the stored suite files (new random ids) on every start."""
    gx.get_context(mode="ephemeral")


def load_stored_suites() -> dict[str, gx.ExpectationSuite]:
    """Every suite stored under expectations/gx/expectations/, keyed by name."""
    active_context()
    root = EXPECTATIONS_DIR / "gx" / "expectations"
    suites = {}
    for path in sorted(root.rglob("*.json")):
        data = json.loads(path.read_text("utf-8"))
        suites[data["name"]] = gx.ExpectationSuite(**data)
    return suites


def comparable(suite_dict: dict) -> list[str]:
    """A suite's expectations without GE's random ids, in a stable order (for drift checks)."""
    keys = ("type", "kwargs", "meta", "description")
    return sorted(json.dumps({k: e[k] for k in keys if k in e}, sort_keys=True, ensure_ascii=False)
                  for e in suite_dict["expectations"])


def stored_path(name: str):
    return EXPECTATIONS_DIR.joinpath("gx", "expectations", *name.split(".")).with_suffix(".json")


def suite_json(suite: gx.ExpectationSuite) -> str:
    """The suite as stored: ids derived from the suite name and position, so files never churn."""
    data = suite.to_json_dict()
    data["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"zengshou:{suite.name}"))
    for i, expectation in enumerate(data["expectations"]):
        expectation["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"zengshou:{suite.name}:{i}"))
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_suites() -> list[str]:
    """Write every suite into the file context at expectations/ (the reviewed, committed copy)."""
    active_context()
    written = []
    for suite in all_suites().values():
        path = stored_path(suite.name)
        text = suite_json(suite)
        if not path.exists() or path.read_text("utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
            written.append(suite.name)
    return written


if __name__ == "__main__":
    print("\n".join(write_suites()))
