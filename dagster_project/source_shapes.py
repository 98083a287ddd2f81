"""Source shapes of SPEC §3: the one definition of every exported header and its warehouse column.

The monitoring system and the relief ledgers export Chinese headers whose parentheses drift between
full- and half-width and whose order changes from month to month. The loader maps each header, after
``normalise_header``, to an English column of the ``raw`` schema; dbt and the simulator use the same
maps so a renamed header is fixed in one place.
"""

from __future__ import annotations

import re
import unicodedata

# Canonical header (as the national system exports it) -> raw column.
MEMBER_COLUMNS: dict[str, str] = {
    "省": "province_name",
    "市": "prefecture_name",
    "县": "county_name",
    "乡": "township_name",
    "村": "village_name",
    "户编号": "household_id",
    "人口编号": "person_id",
    "姓名": "name",
    "性别": "sex",
    "出生日期": "birth_date",
    "证件类型": "id_type",
    "证件号码": "id_number",
    "户联系电话": "phone",
    "年度": "year",
    "与户主关系": "relation_to_head",
    "文化程度": "education",
    "在校生状况": "student_status",
    "劳动技能": "labor_skill",
    "务工时间（月）": "months_worked",
    "务工企业名称": "employer_name",
    "是否国外务工": "is_abroad",
    "公益性岗位类型": "public_post_type",
    "公益性岗位（月数）": "public_post_months",
    "就业渠道": "employment_channel",
    "务工所在地": "work_location",
    "雨露计划毕业年份": "yulu_graduation_year",
}

HOUSEHOLD_COLUMNS: dict[str, str] = {
    "省": "province_name",
    "市": "prefecture_name",
    "县": "county_name",
    "乡": "township_name",
    "村": "village_name",
    "户编号": "household_id",
    "户主姓名": "head_name",
    "户主证件号码": "head_id_number",
    "户类型": "household_type",
    "监测对象类别": "monitoring_category",
    "是否易地扶贫搬迁户": "is_relocated",
    "家庭人口数": "household_size",
    "年度": "year",
    "工资性收入（元）": "wage_income_yuan",
    "生产经营性收入（元）": "business_income_yuan",
    "转移性收入（元）": "transfer_income_yuan",
    "财产性收入（元）": "property_income_yuan",
}

RELIEF_COLUMNS: dict[str, str] = {
    "年度": "year",
    "项目编号": "project_id",
    "项目名称": "project_name",
    "市": "prefecture_name",
    "县": "county_name",
    "资金来源": "fund_source",
    "中央资金（万元）": "central_funds_wan",
    "劳务报酬发放金额（万元）": "labor_remuneration_wan",
    "带动务工人数": "workers_total",
    "其中脱贫人口数": "workers_poverty_alleviated",
    "开工日期": "start_date",
    "完工日期": "end_date",
}

# Code lists named by SPEC §3.1 / §3.3 (empty string = the field may be empty).
LABOR_SKILLS = ("普通劳动力", "技能劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力")
EMPLOYMENT_CHANNELS = ("政府组织输出", "劳务中介", "企业招聘", "亲友介绍", "自主就业", "其他")
ORGANISED_CHANNELS = ("政府组织输出", "劳务中介")
YES_NO = ("是", "否")
HOUSEHOLD_TYPES = ("脱贫户", "一般农户")
MONITORING_CATEGORIES = ("脱贫不稳定户", "边缘易致贫户", "突发严重困难户")
FUND_CENTRAL_BUDGET = "中央预算内投资"
FUND_BRIDGING = "中央财政衔接推进乡村振兴补助资金"
RELIEF_RULES = {FUND_CENTRAL_BUDGET: 0.30, FUND_BRIDGING: 0.20}

# HR platform tables of SPEC §3.2: primary key first.
HR_TABLES: dict[str, tuple[str, ...]] = {
    "jobseeker": ("reg_id", "id_number", "name", "phone", "county_code", "registered_on",
                  "wants_employment", "updated_at"),
    "employment_service": ("service_id", "id_number", "service_type", "service_date", "updated_at"),
    "training_record": ("training_id", "id_number", "program_name", "training_mode", "start_date",
                        "end_date", "completed", "updated_at"),
    "skill_certificate": ("certificate_no", "id_number", "certificate_type", "occupation", "issued_on",
                          "updated_at"),
    "public_welfare_post": ("assignment_id", "id_number", "county_code", "post_type", "start_date",
                            "end_date", "monthly_subsidy_yuan", "updated_at"),
    "subsidy_payment": ("payment_id", "assignment_id", "period_month", "amount_due_yuan",
                        "amount_paid_yuan", "paid_on", "updated_at"),
    "labor_brand_member": ("member_id", "id_number", "brand_name", "county_code", "joined_on",
                           "updated_at"),
    "rural_talent": ("talent_id", "id_number", "talent_type", "county_code", "township_name",
                     "village_name", "certified_on", "updated_at"),
}

_SPACES = re.compile(r"\s+")


def normalise_header(header: str) -> str:
    """Return the canonical form of an exported header.

    NFKC folds full-width characters to half-width, so both ``（月）`` and ``(月)`` become ``(月)``;
    we then restore the full-width parentheses the national system uses in its canonical headers,
    and drop every space and a leading BOM.
    """
    text = unicodedata.normalize("NFKC", str(header)).replace("\ufeff", "")
    text = _SPACES.sub("", text)
    return text.replace("(", "（").replace(")", "）")


def canonical_map(columns: dict[str, str]) -> dict[str, str]:
    """Map normalised header -> raw column, so lookups ignore width and spacing drift."""
    return {normalise_header(k): v for k, v in columns.items()}

# Raw columns that hold a resident ID number: a spreadsheet cell typed as a number there has lost digits
# (Excel keeps 15 significant digits), so such a row is quarantined, never repaired (rules.py).
ID_NUMBER_COLUMNS = ("id_number", "head_id_number")
EXCEL_NUMERIC_ID = "_excel_numeric_id"  # staged per row: an ID column's cell was a number in the workbook
