"""Row rules of SPEC §3 and §3.2: the single definition of what makes an exported row unacceptable.

Each rule is a SQL predicate over a staged batch table (raw column names, all VARCHAR) that is TRUE
for a bad row. The loader evaluates the predicates to quarantine rows, and the Great Expectations
suites are generated from the same predicates (``UnexpectedRowsExpectation``), so GE's count per rule
and the quarantine's count per rule come from one text. Predicates avoid ``{`` ``}`` because GE passes
queries through ``str.format`` to fill in ``{batch}``.

Anything odd that no rule names (an empty employer, a rare code) is *not* here: SPEC says it is
counted by a warning check, never rejected.
"""

from __future__ import annotations

from dataclasses import dataclass

from dagster_project import hr_schema
from dagster_project.source_shapes import (
    EMPLOYMENT_CHANNELS,
    EXCEL_NUMERIC_ID,
    HOUSEHOLD_TYPES,
    LABOR_SKILLS,
    MONITORING_CATEGORIES,
    YES_NO,
)

BATCH = "{batch}"  # placeholder for the staged batch table, filled by the loader and by GE


@dataclass(frozen=True)
class Rule:
    name: str
    reason: str       # Chinese, shown to the engineer who fixes the row
    predicate: str    # SQL, TRUE when the row breaks the rule; may reference {batch}

    def sql(self, batch_table: str) -> str:
        return f"coalesce(({self.predicate.replace(BATCH, batch_table)}), false)"


def _in_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number_invalid(col: str) -> str:
    """GB 11643: 17 digits, then the check character '10X98765432'[sum(d_i * w_i) mod 11].

    The 17 digits are read as one BIGINT n (cast once per row: the one-element list lets the lambda
    name it) and d_i = n // 10^(17-i) % 10, which is integer arithmetic DuckDB vectorises — about 3x
    faster on a province file than taking 17 one-character substrings per row.
    """
    terms = " + ".join(f"(n // {10 ** (17 - i)} % 10) * {w}" for i, w in enumerate(_WEIGHTS, start=1))
    checksum = f"list_transform([TRY_CAST(substr({col}, 1, 17) AS BIGINT)], lambda n: {terms})[1]"
    return (
        f"NOT ({col} IS NOT NULL AND length({col}) = 18"
        f" AND regexp_full_match({col}, '[0-9]+[0-9Xx]')"
        f" AND substr('10X98765432', ({checksum} % 11)::INTEGER + 1, 1) = upper(substr({col}, 18, 1)))"
    )


# A number where an ID belongs: scientific notation (5.30627E+17) or a decimal point (…008.0) in the text.
_NUMBER_TEXT = r"'[0-9]+(\.[0-9]*)?[eE][+-]?[0-9]+|[0-9]*\.[0-9]*'"


def id_damaged_by_excel(col: str) -> Rule:
    """An ID that went through a spreadsheet number: its cell was typed as a number in the workbook (the
    reader flags the row), or its text is a number in scientific or decimal notation. Excel keeps 15
    significant digits, so the last digits of an 18-digit ID are gone — 530627199101019024 comes back as
    530627199101019008, which may even pass the check digit. Quarantined, never repaired by guessing."""
    return Rule("id_damaged_by_excel",
                "证件号码在 Excel 中被存成了数字或科学计数法（只保留15位有效数字，后几位已丢失），无法还原；"
                "请把该列设为文本后重新导出",
                f"coalesce({EXCEL_NUMERIC_ID}, false) OR regexp_full_match({col}, {_NUMBER_TEXT})")


def _months_valid(col: str) -> str:
    return (f"({col} IS NOT NULL AND length({col}) <= 2 AND regexp_full_match({col}, '[0-9]+')"
            f" AND TRY_CAST({col} AS INTEGER) <= 12)")


def _duplicate(key_sql: str) -> str:
    return (f"({key_sql}) IN (SELECT {key_sql} FROM {BATCH} GROUP BY ALL HAVING count(*) > 1)")


UNKNOWN_COUNTY = Rule("unknown_county", "市/县名称无法匹配云南省行政区划（NBS 2023）", "county_code IS NULL")


def _year_mismatch(expected_year_sql: str) -> Rule:
    """年度 must equal the batch's own year (a constant column of the staged batch)."""
    return Rule("year_mismatch", "年度与快照或台账年份不一致", f"year IS DISTINCT FROM {expected_year_sql}")


def member_rules() -> list[Rule]:
    """Rules for monitoring members, in the order a row's first broken rule is reported."""
    months = "TRY_CAST(months_worked AS INTEGER)"
    return [
        id_damaged_by_excel("id_number"),
        Rule("id_checksum", "证件号码不是有效的18位居民身份证号码（GB 11643 校验位错误）",
             id_number_invalid("id_number")),
        UNKNOWN_COUNTY,
        _year_mismatch("CAST(year(as_of_month) AS VARCHAR)"),
        Rule("months_out_of_range", "务工时间（月）不是0–12的整数", f"NOT {_months_valid('months_worked')}"),
        Rule("work_location_rule", "务工所在地应当且仅当务工时间（月）大于0时填写",
             f"{_months_valid('months_worked')} AND (({months} > 0) <> (work_location IS NOT NULL))"),
        Rule("invalid_code", "劳动技能、就业渠道、是否国外务工或雨露计划毕业年份不在规定代码表内",
             f"labor_skill IS NULL OR labor_skill NOT IN {_in_list(LABOR_SKILLS)}"
             f" OR (employment_channel IS NOT NULL AND employment_channel NOT IN {_in_list(EMPLOYMENT_CHANNELS)})"
             f" OR is_abroad IS NULL OR is_abroad NOT IN {_in_list(YES_NO)}"
             " OR (yulu_graduation_year IS NOT NULL"
             " AND NOT regexp_full_match(yulu_graduation_year, '(19|20)[0-9][0-9]'))"),
        Rule("duplicate_person_year", "同一证件号码在同一年度出现多次（全部重复行均隔离）",
             "id_number IS NOT NULL AND " + _duplicate("upper(id_number), year")),
    ]


def household_rules() -> list[Rule]:
    amounts = ("wage_income_yuan", "business_income_yuan", "transfer_income_yuan", "property_income_yuan")
    bad_amount = " OR ".join(f"({c} IS NOT NULL AND TRY_CAST({c} AS DECIMAL(18, 2)) IS NULL)" for c in amounts)
    return [
        id_damaged_by_excel("head_id_number"),
        Rule("id_checksum", "户主证件号码不是有效的18位居民身份证号码（GB 11643 校验位错误）",
             id_number_invalid("head_id_number")),
        UNKNOWN_COUNTY,
        _year_mismatch("CAST(year(as_of_month) AS VARCHAR)"),
        Rule("invalid_code", "户类型、监测对象类别或是否易地扶贫搬迁户不在规定代码表内",
             f"household_type IS NULL OR household_type NOT IN {_in_list(HOUSEHOLD_TYPES)}"
             f" OR (monitoring_category IS NOT NULL AND monitoring_category NOT IN {_in_list(MONITORING_CATEGORIES)})"
             f" OR (is_relocated IS NOT NULL AND is_relocated NOT IN {_in_list(YES_NO)})"),
        Rule("invalid_number", "家庭人口数不是正整数，或收入金额不是数字",
             "NOT coalesce(regexp_full_match(household_size, '[0-9]+')"
             " AND TRY_CAST(household_size AS INTEGER) BETWEEN 1 AND 99, false) OR " + bad_amount),
        Rule("duplicate_household_year", "同一县同一户编号在同一年度出现多次（全部重复行均隔离）",
             "household_id IS NOT NULL AND " + _duplicate("county_code, household_id, year")),
    ]


def relief_rules() -> list[Rule]:
    amounts = ("central_funds_wan", "labor_remuneration_wan")
    return [
        Rule("missing_project_id", "项目编号为空", "project_id IS NULL"),
        UNKNOWN_COUNTY,
        _year_mismatch("CAST(report_year AS VARCHAR)"),
        Rule("invalid_number", "中央资金或劳务报酬发放金额不是非负数字",
             " OR ".join(f"coalesce(TRY_CAST({c} AS DECIMAL(18, 4)) < 0, true)" for c in amounts)),
        Rule("duplicate_project", "同一台账文件中项目编号重复（全部重复行均隔离）",
             "project_id IS NOT NULL AND " + _duplicate("project_id")),
    ]


# --------------------------------------------------------------------------------------------------
# HR platform tables (SPEC §3.2): predicates over the staged pull, native column types, quoted names
# --------------------------------------------------------------------------------------------------

SERVICE_TYPES = ("career_guidance", "job_referral", "training_referral")
TALENT_TYPES = ("wealth_leader", "rural_craftsman")
# YYYY-MM with a real month; written without braces (GE fills {batch} in with str.format).
PERIOD_MONTH_PATTERN = "[0-9][0-9][0-9][0-9]-(0[1-9]|1[0-2])"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _empty(column: str) -> str:
    return f"({_quoted(column)} IS NULL OR trim({_quoted(column)}) = '')"


def _not_in(column: str, allowed: tuple[str, ...]) -> str:
    values = ", ".join(f"'{v}'" for v in allowed)
    return f"({_quoted(column)} IS NULL OR {_quoted(column)} NOT IN ({values}))"


# Rules of single HR tables, beyond the key and updated_at rules every table has.
_HR_TABLE_RULES: dict[str, list[Rule]] = {
    "employment_service": [Rule(
        "service_type_invalid",
        "服务类型（service_type）不是 career_guidance、job_referral、training_referral 之一",
        _not_in("service_type", SERVICE_TYPES),
    )],
    "rural_talent": [Rule(
        "talent_type_invalid", "人才类型（talent_type）不是 wealth_leader、rural_craftsman 之一",
        _not_in("talent_type", TALENT_TYPES),
    )],
    "subsidy_payment": [Rule(
        "period_month_format", "补贴所属月份（period_month）不是 YYYY-MM 格式的有效月份",
        f"(period_month IS NULL OR NOT regexp_full_match(period_month, '{PERIOD_MONTH_PATTERN}'))",
    )],
}
UPDATED_AT_NULL = Rule("updated_at_null", "更新时间（updated_at）为空，无法判断新旧、无法增量同步",
                       "updated_at IS NULL")


def hr_rules(table: str) -> list[Rule]:
    """The rules of one HR table, in the order they are tried; a row gets the first rule it breaks.

    The person key (id_number; assignment_id for subsidy_payment, which reaches the person through
    the post) is what every KPI joins on, so a row without it can never count anywhere. Every HR row
    needs updated_at: without it the pull cannot place the row on the watermark timeline.
    """
    pk = hr_schema.metadata.tables[table].primary_key.columns.keys()[0]
    rules = [Rule("primary_key_empty", f"主键（{pk}）为空，无法按主键更新", _empty(pk))]
    if table == "subsidy_payment":
        rules.append(Rule("assignment_id_empty", "岗位分配编号（assignment_id）为空，无法关联到公益性岗位和人员",
                          _empty("assignment_id")))
    else:
        rules.append(Rule("id_number_empty", "证件号码（id_number）为空，无法匹配到人员", _empty("id_number")))
    return [*rules, *_HR_TABLE_RULES.get(table, []), UPDATED_AT_NULL]


BATCH_REJECTED = Rule("batch_rejected", "所在批次未通过阻断性检查，整批未发布（本行本身未违反规则）", "false")
MALFORMED_ROW = Rule("malformed_row", "CSV 行无法解析（字段数与表头不符、引号未闭合或编码错误；文件可能未复制完整）",
                     "false")
