"""The hand-built scenario and its paper values (SPEC §2 definitions, worked out by hand).

Regions
    W  = 530102 五华区 (昆明市 530100)      P  = 530103 盘龙区 (昆明市 530100)
    Z  = 530627 镇雄县 (昭通市 530600)      KM = 530100 昆明市   ZT = 530600 昭通市   YN = 530000 云南省
    Every other county / prefecture (e.g. 官渡区 530111, 大理州 532900) has no data at all.

Snapshots 2022-03, 2022-12 (year 2022) and 2023-01, 2023-03 (year 2023). 务工时间（月） is cumulative
for the year, so Jan ≤ 1 and Mar ≤ 3.

Households (户编号 short names; 家庭人口数 = number of member rows)
    H1 W 脱贫户   A1 A2 A3            size 3
    H2 W 脱贫户   A4 A5               size 2     (监测对象类别 脱贫不稳定户)
    H3 W 一般农户 A6 A7               size 2     -> outside every KPI
    H4 P 脱贫户   B1 B2 B3            size 3
    H5 P 脱贫户   B4 B5               size 2     (易地扶贫搬迁户)
    H6 Z 脱贫户   C1 C2 C3 (+C4 2022) size 4 in 2022, 3 in 2023 (C4 died end of 2022)

Per person: months / work region / 就业渠道 (org = 政府组织输出 or 劳务中介) per snapshot
    (― = not employed, months 0, 务工所在地 empty)
            2022-03               2022-12               2023-01               2023-03
    A1  3 省外 深圳 政府✓     11 省外 深圳 政府✓    1 省外 深圳 政府✓     3 省外 深圳 政府✓
    A2  2 县内 五华 亲友      10 县内 五华 亲友     ―                     2 县外省内 盘龙 企业招聘
    A3  ― (雨露 2023)         ―                     ―                     ―
    A4  3 省外 宁波 中介✓     12 省外 宁波 中介✓    1 国外 泰国 中介✓     3 国外 泰国 中介✓
    A5  ―                     ―                     ―                     ―
    A6  3 省外 广州 政府✓     12 省外 广州 政府✓    1 省外 政府✓          3 省外 政府✓   (一般农户)
    A7  ― (雨露 2023)         ―                     1 县内 自主           3 县内 自主    (一般农户)
    B1  3 县内 盘龙 自主      12 县内 盘龙 自主     1 县内 自主           3 县内 自主
    B2  ― (雨露 2023)         ―                     ―                     2 省外 上海 企业招聘
    B3  ―                     ―                     ―                     ―
    B4  ―                     9 县外省内 麒麟 政府✓ 1 县外省内 政府✓      3 县外省内 麒麟 亲友
    B5  2 省外 成都 亲友      8 省外 成都 亲友      ―                     ―        (雨露 2022)
    C1  3 县内 镇雄 自主      10 县内 镇雄 自主     1 县内 自主           3 县内 "昭通市镇雄县" 自主
    C2  ―                     6 县内 镇雄 其他      ―                     ―
    C3  ―                     ―                     ―                     ―
    C4  ―                     ―                     (gone)                (gone)
"""

from __future__ import annotations

from dataclasses import dataclass

from .landing import UTF8, FileStyle, Landing, make_id

MONTHS = ("2022-03", "2022-12", "2023-01", "2023-03")
AS_OF = {m: f"{m}-01" for m in MONTHS}

W, P, Z = "530102", "530103", "530627"
KM, ZT, YN = "530100", "530600", "530000"
GD = "530111"  # 官渡区: a county with no data at all
DALI = "532900"  # a prefecture with no data at all
DATA_REGIONS = (W, P, Z, KM, ZT, YN)

COUNTIES = {
    # code: (市, 县, 乡, 村, 村 code part)
    W: ("昆明市", "五华区", "西翥街道", "沙朗村", "001001"),
    P: ("昆明市", "盘龙区", "滇源街道", "甸尾村", "002003"),
    Z: ("昭通市", "镇雄县", "以勒镇", "以勒村", "004002"),
}


@dataclass(frozen=True)
class Household:
    key: str
    county: str
    hh_type: str  # 脱贫户 | 一般农户
    category: str  # 监测对象类别
    relocated: str  # 是否易地扶贫搬迁户
    phone: str
    seq: int


HOUSEHOLDS = {
    "H1": Household("H1", W, "脱贫户", "", "否", "13887100001", 1),
    "H2": Household("H2", W, "脱贫户", "脱贫不稳定户", "否", "13887100002", 2),
    "H3": Household("H3", W, "一般农户", "", "否", "13887100003", 3),
    "H4": Household("H4", P, "脱贫户", "", "否", "13987200004", 4),
    "H5": Household("H5", P, "脱贫户", "", "是", "13987200005", 5),
    "H6": Household("H6", Z, "脱贫户", "边缘易致贫户", "否", "15808700006", 6),
}


def household_id(hh: str) -> str:
    h = HOUSEHOLDS[hh]
    return f"{h.county}{COUNTIES[h.county][4]}{h.seq:04d}"


@dataclass(frozen=True)
class Person:
    key: str
    hh: str
    name: str
    sex: str
    birth: str  # YYYYMMDD
    seq: int  # ID sequence (odd male, even female)
    relation: str
    education: str
    skill: str
    student: str
    yulu: str  # 雨露计划毕业年份 ('' or a year)
    years: tuple[int, ...] = (2022, 2023)

    @property
    def county(self) -> str:
        return HOUSEHOLDS[self.hh].county

    @property
    def id_number(self) -> str:
        return make_id(self.county, self.birth, self.seq)


PEOPLE = {p.key: p for p in (
    Person("A1", "H1", "赵一鸣", "男", "19800312", 11, "户主", "初中", "普通劳动力", "非在校生", ""),
    Person("A2", "H1", "钱二芳", "女", "19820521", 22, "配偶", "小学", "普通劳动力", "非在校生", ""),
    Person("A3", "H1", "赵三乐", "女", "20030909", 32, "之女", "中职", "普通劳动力", "中职在校", "2023"),
    Person("A4", "H2", "孙四海", "男", "19750101", 41, "户主", "初中", "技能劳动力", "非在校生", ""),
    Person("A5", "H2", "李五梅", "女", "19760606", 52, "配偶", "小学", "弱劳动力或半劳动力", "非在校生", ""),
    Person("A6", "H3", "周六顺", "男", "19700707", 61, "户主", "高中", "普通劳动力", "非在校生", ""),
    Person("A7", "H3", "周七彩", "女", "20020202", 72, "之女", "中职", "普通劳动力", "中职在校", "2023"),
    Person("B1", "H4", "吴八斗", "男", "19780808", 81, "户主", "初中", "普通劳动力", "非在校生", ""),
    Person("B2", "H4", "吴九思", "男", "20021010", 91, "之子", "中职", "普通劳动力", "中职在校", "2023"),
    Person("B3", "H4", "郑十全", "女", "19500505", 12, "之母", "文盲或半文盲", "丧失劳动力", "非在校生", ""),
    Person("B4", "H5", "王十一", "男", "19851111", 13, "户主", "初中", "普通劳动力", "非在校生", ""),
    Person("B5", "H5", "王十二", "男", "20001212", 15, "之子", "中职", "技能劳动力", "非在校生", "2022"),
    Person("C1", "H6", "冯十三", "男", "19830303", 17, "户主", "小学", "普通劳动力", "非在校生", ""),
    Person("C2", "H6", "陈十四", "女", "19840404", 14, "配偶", "小学", "普通劳动力", "非在校生", ""),
    Person("C3", "H6", "冯十五", "男", "20120615", 19, "之子", "小学", "无劳动力", "小学在校", ""),
    Person("C4", "H6", "冯十六", "男", "19400220", 21, "之父", "文盲或半文盲", "丧失劳动力", "非在校生", "",
           years=(2022,)),
)}

_NOJOB = (0, "", "否", "")
# key -> {month: (务工时间（月）, 务工所在地, 是否国外务工, 就业渠道)}; absent month = not employed.
WORK: dict[str, dict[str, tuple[int, str, str, str]]] = {
    "A1": {"2022-03": (3, "广东省深圳市", "否", "政府组织输出"),
           "2022-12": (11, "广东省深圳市", "否", "政府组织输出"),
           "2023-01": (1, "广东省深圳市", "否", "政府组织输出"),
           "2023-03": (3, "广东省深圳市", "否", "政府组织输出")},
    "A2": {"2022-03": (2, "云南省昆明市五华区", "否", "亲友介绍"),
           "2022-12": (10, "云南省昆明市五华区", "否", "亲友介绍"),
           "2023-03": (2, "云南省昆明市盘龙区", "否", "企业招聘")},
    "A4": {"2022-03": (3, "浙江省宁波市", "否", "劳务中介"),
           "2022-12": (12, "浙江省宁波市", "否", "劳务中介"),
           "2023-01": (1, "泰国曼谷", "是", "劳务中介"),
           "2023-03": (3, "泰国曼谷", "是", "劳务中介")},
    "A6": {"2022-03": (3, "广东省广州市", "否", "政府组织输出"),
           "2022-12": (12, "广东省广州市", "否", "政府组织输出"),
           "2023-01": (1, "广东省广州市", "否", "政府组织输出"),
           "2023-03": (3, "广东省广州市", "否", "政府组织输出")},
    "A7": {"2023-01": (1, "云南省昆明市五华区", "否", "自主就业"),
           "2023-03": (3, "云南省昆明市五华区", "否", "自主就业")},
    "B1": {"2022-03": (3, "云南省昆明市盘龙区", "否", "自主就业"),
           "2022-12": (12, "云南省昆明市盘龙区", "否", "自主就业"),
           "2023-01": (1, "云南省昆明市盘龙区", "否", "自主就业"),
           "2023-03": (3, "云南省昆明市盘龙区", "否", "自主就业")},
    "B2": {"2023-03": (2, "上海市浦东新区", "否", "企业招聘")},
    "B4": {"2022-12": (9, "云南省曲靖市麒麟区", "否", "政府组织输出"),
           "2023-01": (1, "云南省曲靖市麒麟区", "否", "政府组织输出"),
           "2023-03": (3, "云南省曲靖市麒麟区", "否", "亲友介绍")},
    "B5": {"2022-03": (2, "四川省成都市", "否", "亲友介绍"),
           "2022-12": (8, "四川省成都市", "否", "亲友介绍")},
    "C1": {"2022-03": (3, "云南省昭通市镇雄县", "否", "自主就业"),
           "2022-12": (10, "云南省昭通市镇雄县", "否", "自主就业"),
           "2023-01": (1, "云南省昭通市镇雄县", "否", "自主就业"),
           "2023-03": (3, "昭通市镇雄县", "否", "自主就业")},
    "C2": {"2022-12": (6, "云南省昭通市镇雄县", "否", "其他")},
}

# Household 家庭人口数 per year and 工资性收入（元） (year-to-date) per snapshot.
HH_SIZE = {"H1": {2022: 3, 2023: 3}, "H2": {2022: 2, 2023: 2}, "H3": {2022: 2, 2023: 2},
           "H4": {2022: 3, 2023: 3}, "H5": {2022: 2, 2023: 2}, "H6": {2022: 4, 2023: 3}}
WAGES = {
    #        2022-03  2022-12  2023-01  2023-03
    "H1": {"2022-03": 6000, "2022-12": 30000, "2023-01": 2000, "2023-03": 7500},
    "H2": {"2022-03": 4000, "2022-12": 18000, "2023-01": 1200, "2023-03": 4400},
    "H3": {"2022-03": 9000, "2022-12": 40000, "2023-01": 3000, "2023-03": 20000},
    "H4": {"2022-03": 3000, "2022-12": 15000, "2023-01": 1000, "2023-03": 3600},
    "H5": {"2022-03": 2000, "2022-12": 10000, "2023-01": 500, "2023-03": 1800},
    "H6": {"2022-03": 2400, "2022-12": 12000, "2023-01": 900, "2023-03": 3600},
}


def head_of(hh: str) -> Person:
    return next(p for p in PEOPLE.values() if p.hh == hh and p.relation == "户主")


def work(key: str, month: str) -> tuple[int, str, str, str]:
    return WORK.get(key, {}).get(month, _NOJOB)


def member_row(p: Person, month: str, **override: str) -> dict[str, str]:
    year = month[:4]
    months, location, abroad, channel = work(p.key, month)
    city, county, town, village, _ = COUNTIES[p.county]
    row = {
        "省": "云南省", "市": city, "县": county, "乡": town, "村": village,
        "户编号": household_id(p.hh), "人口编号": f"{household_id(p.hh)}{p.seq:03d}",
        "姓名": p.name, "性别": p.sex,
        "出生日期": f"{p.birth[:4]}-{p.birth[4:6]}-{p.birth[6:]}",
        "证件类型": "居民身份证", "证件号码": p.id_number, "户联系电话": HOUSEHOLDS[p.hh].phone,
        "年度": year, "与户主关系": p.relation, "文化程度": p.education, "在校生状况": p.student,
        "劳动技能": p.skill, "务工时间（月）": str(months),
        "务工企业名称": f"{location}某用工单位" if months else "",
        "是否国外务工": abroad, "公益性岗位类型": "", "公益性岗位（月数）": "0",
        "就业渠道": channel, "务工所在地": location, "雨露计划毕业年份": p.yulu,
    }
    row.update(override)
    return row


def members_rows(month: str) -> list[dict[str, str]]:
    year = int(month[:4])
    return [member_row(p, month) for p in PEOPLE.values() if year in p.years]


def household_row(hh: str, month: str, **override: str) -> dict[str, str]:
    h = HOUSEHOLDS[hh]
    head = head_of(hh)
    city, county, town, village, _ = COUNTIES[h.county]
    year = int(month[:4])
    row = {
        "省": "云南省", "市": city, "县": county, "乡": town, "村": village,
        "户编号": household_id(hh), "户主姓名": head.name, "户主证件号码": head.id_number,
        "户类型": h.hh_type, "监测对象类别": h.category, "是否易地扶贫搬迁户": h.relocated,
        "家庭人口数": str(HH_SIZE[hh][year]), "年度": str(year),
        "工资性收入（元）": str(WAGES[hh][month]), "生产经营性收入（元）": "3500",
        "转移性收入（元）": "1200", "财产性收入（元）": "0",
    }
    row.update(override)
    return row


def households_rows(month: str) -> list[dict[str, str]]:
    return [household_row(hh, month) for hh in HOUSEHOLDS]


# Work-for-relief ledger 2023: 2023-06 first, 2023-09 restates YGDZ-2023-003 (8 -> 12 万元) and adds 004.
FUND_CB = "中央预算内投资"
FUND_BR = "中央财政衔接推进乡村振兴补助资金"
FUND_OTHER = "省级财政专项资金"


def relief_row(pid: str, name: str, county: str, fund: str, central: str, remun: str,
               workers: str, poor: str) -> dict[str, str]:
    city, county_name, *_ = COUNTIES[county]
    return {"年度": "2023", "项目编号": pid, "项目名称": name, "市": city, "县": county_name,
            "资金来源": fund, "中央资金（万元）": central, "劳务报酬发放金额（万元）": remun,
            "带动务工人数": workers, "其中脱贫人口数": poor,
            "开工日期": "2023-03-01", "完工日期": "2023-11-30"}


RELIEF_2023_06 = [
    relief_row("YGDZ-2023-001", "沙朗村机耕路硬化", W, FUND_CB, "100", "30", "40", "25"),
    relief_row("YGDZ-2023-002", "甸尾村灌溉沟渠", P, FUND_CB, "200", "50", "60", "30"),
    relief_row("YGDZ-2023-003", "沙朗村产业路", W, FUND_BR, "50", "8", "20", "12"),
    relief_row("YGDZ-2023-005", "甸尾村人居环境整治", P, FUND_OTHER, "30", "3", "10", "5"),
]
RELIEF_2023_09 = [
    relief_row("YGDZ-2023-003", "沙朗村产业路", W, FUND_BR, "50", "12", "22", "14"),  # restated
    relief_row("YGDZ-2023-004", "以勒村小型水利", Z, FUND_BR, "80.5", "20.125", "35", "30"),
]

# fct_relief_wage_ratio paper rows: project -> (county, fund, central, remun, ratio, required, compliant)
RELIEF_FACTS = {
    "YGDZ-2023-001": (W, FUND_CB, 100, 30, 30 / 100, 0.30, True),        # 0.30 >= 0.30 (boundary)
    "YGDZ-2023-002": (P, FUND_CB, 200, 50, 50 / 200, 0.30, False),       # 0.25 <  0.30
    "YGDZ-2023-003": (W, FUND_BR, 50, 12, 12 / 50, 0.20, True),          # 0.24 >= 0.20 (restated 8 -> 12)
    "YGDZ-2023-004": (Z, FUND_BR, 80.5, 20.125, 20.125 / 80.5, 0.20, True),  # 0.25 >= 0.20
    "YGDZ-2023-005": (P, FUND_OTHER, 30, 3, 3 / 30, None, None),         # other fund: no rule
}


@dataclass(frozen=True)
class Styles:
    members: dict[str, FileStyle]
    households: dict[str, FileStyle]
    relief_06: FileStyle = UTF8
    relief_09: FileStyle = UTF8


ALL_UTF8 = Styles(members=dict.fromkeys(MONTHS, UTF8), households=dict.fromkeys(MONTHS, UTF8))


def build(landing: Landing, months: tuple[str, ...] = MONTHS, styles: Styles = ALL_UTF8,
          relief: bool = True) -> Landing:
    """Write the scenario (the given snapshots, the 2023 ledger and an empty HR database)."""
    for m in months:
        landing.write_members(m, members_rows(m), styles.members.get(m, UTF8))
        landing.write_households(m, households_rows(m), styles.households.get(m, UTF8))
    if relief:
        landing.write_relief(2023, "2023-06", RELIEF_2023_06, styles.relief_06)
        landing.write_relief(2023, "2023-09", RELIEF_2023_09, styles.relief_09)
    landing.write_hr_db()
    return landing


def pii_values() -> set[str]:
    """Every 证件号码, 姓名, phone and 户主证件号码 string of the fixture."""
    values: set[str] = set()
    for p in PEOPLE.values():
        values |= {p.id_number, p.name}
    for h in HOUSEHOLDS.values():
        values.add(h.phone)
    return values


# ===================================================================================================
# Paper values (SPEC §2), worked out by hand from the tables above.
# ===================================================================================================
TARGETS = {
    "employment_vs_prior_year": 1.00,
    "q1_progress": 0.90,
    "avg_employment_months": 8.5,
    "wage_income_per_capita_growth": 0.18,
    "out_of_province_share": 0.30,
    "organized_outflow_share": 0.10,
    "yulu_graduate_employment_rate": 0.90,
    "relief_ratio_central_budget": 0.30,
    "relief_ratio_bridging_funds": 0.20,
    "relief_project_compliance": 1.00,
}
KPIS = tuple(TARGETS)


@dataclass(frozen=True)
class Expect:
    """One paper value. actual None = NULL / no_data.

    num/den: expected numerator/denominator; ANY = not checked; ZERO_OR_NULL = 0 or NULL accepted.
    """

    actual: float | None
    num: object
    den: object
    status: str


ANY = "<any>"
ZERO_OR_NULL = "<0 or NULL>"


def E(num: float, den: float, status: str) -> Expect:
    return Expect(num / den, num, den, status)


def G(pc_now: float, pc_prior: float, status: str) -> Expect:
    """Growth: PC(Y,M) / PC(Y-1,M) - 1; SPEC names no numerator/denominator, checked loosely."""
    return Expect(pc_now / pc_prior - 1, ANY, ANY, status)


ND = Expect(None, ZERO_OR_NULL, ZERO_OR_NULL, "no_data")  # no data at all in the region
ND0 = Expect(None, 0, 0, "no_data")  # the region has employed people but a zero denominator
ND_ANY = Expect(None, ANY, ANY, "no_data")  # ratio undefined (e.g. q1 before March)
ND_NODEN = Expect(None, ANY, ZERO_OR_NULL, "no_data")  # numerator exists, prior-year denominator absent

MET, NOT = "met", "not_met"

# PAPER[(as_of_month, kpi)] = {region: Expect}; regions not named -> ND.
PAPER: dict[tuple[str, str], dict[str, Expect]] = {}


def _paper(month: str, kpi: str, values: dict[str, Expect]) -> None:
    PAPER[(AS_OF[month], kpi)] = values


# ---- employment_vs_prior_year: employed(P, snapshot) / employed(P, latest snapshot of Y-1 = 2022-12) --
# 2022-12 employed in P: W {A1,A2,A4}=3, P {B1,B4,B5}=3, Z {C1,C2}=2; KM 6, ZT 2, YN 8.
# (A6 is 一般农户: excluded.)
for _m in ("2022-03", "2022-12"):  # no 2021 snapshot -> prior year-end denominator 0 -> no_data
    _paper(_m, "employment_vs_prior_year", {r: ND_NODEN for r in DATA_REGIONS})
_paper("2023-01", "employment_vs_prior_year", {
    W: E(2, 3, NOT),    # Jan employed {A1, A4} (A2 0 months; A6, A7 一般农户) ; 2/3 = 0.667 < 1
    P: E(2, 3, NOT),    # {B1, B4} ; 2/3
    Z: E(1, 2, NOT),    # {C1} ; 1/2
    KM: E(4, 6, NOT),   # 2+2 / 3+3
    ZT: E(1, 2, NOT),   # as Z
    YN: E(5, 8, NOT),   # 4+1 / 6+2 = 0.625
})
_paper("2023-03", "employment_vs_prior_year", {
    W: E(3, 3, MET),    # Mar employed {A1, A2, A4} ; 3/3 = 1.0 >= 1.0 (boundary)
    P: E(3, 3, MET),    # {B1, B2, B4} (B5 no longer works, B2 started) ; 3/3
    Z: E(1, 2, NOT),    # {C1} ; 1/2
    KM: E(6, 6, MET),   # 6/6
    ZT: E(1, 2, NOT),
    YN: E(7, 8, NOT),   # 7/8 = 0.875
})

# ---- q1_progress: employed(P, March of Y) / employed(P, 2022-12); defined from the March snapshot on --
_paper("2022-03", "q1_progress", {r: ND_NODEN for r in DATA_REGIONS})  # no 2021 year-end
_paper("2022-12", "q1_progress", {r: ND_ANY for r in DATA_REGIONS})    # March 2022 / 2021 year-end: none
_paper("2023-01", "q1_progress", {r: ND_ANY for r in DATA_REGIONS})    # January: before March -> no_data
_paper("2023-03", "q1_progress", {
    W: E(3, 3, MET),    # 1.0 >= 0.9
    P: E(3, 3, MET),
    Z: E(1, 2, NOT),    # 0.5 < 0.9
    KM: E(6, 6, MET),
    ZT: E(1, 2, NOT),
    YN: E(7, 8, NOT),   # 0.875 < 0.9
})

# ---- avg_employment_months: Σ months / count over employed P (target 8.5) -------------------------------
_paper("2022-03", "avg_employment_months", {
    W: E(8, 3, NOT),    # A1 3 + A2 2 + A4 3 = 8 over 3 = 2.667  (A6 3 excluded)
    P: E(5, 2, NOT),    # B1 3 + B5 2 = 5 over 2 = 2.5
    Z: E(3, 1, NOT),    # C1 3
    KM: E(13, 5, NOT),  # 8+5 / 3+2 = 2.6
    ZT: E(3, 1, NOT),
    YN: E(16, 6, NOT),  # 13+3 / 5+1 = 2.667
})
_paper("2022-12", "avg_employment_months", {
    W: E(33, 3, MET),   # A1 11 + A2 10 + A4 12 = 33 / 3 = 11.0 (with A6 12 it would be 45/4)
    P: E(29, 3, MET),   # B1 12 + B4 9 + B5 8 = 29 / 3 = 9.667
    Z: E(16, 2, NOT),   # C1 10 + C2 6 = 16 / 2 = 8.0 < 8.5
    KM: E(62, 6, MET),  # 33+29 / 6 = 10.333
    ZT: E(16, 2, NOT),
    YN: E(78, 8, MET),  # 62+16 / 8 = 9.75
})
_paper("2023-01", "avg_employment_months", {
    W: E(2, 2, NOT),    # A1 1 + A4 1 (A7 一般农户 excluded)
    P: E(2, 2, NOT),    # B1 1 + B4 1
    Z: E(1, 1, NOT),    # C1 1
    KM: E(4, 4, NOT),
    ZT: E(1, 1, NOT),
    YN: E(5, 5, NOT),
})
_paper("2023-03", "avg_employment_months", {
    W: E(8, 3, NOT),    # A1 3 + A2 2 + A4 3 = 8 / 3 = 2.667
    P: E(8, 3, NOT),    # B1 3 + B2 2 + B4 3 = 8 / 3
    Z: E(3, 1, NOT),    # C1 3
    KM: E(16, 6, NOT),  # 2.667
    ZT: E(3, 1, NOT),
    YN: E(19, 7, NOT),  # 2.714
})

# ---- wage_income_per_capita_growth: PC(Y,M)/PC(Y-1,M) - 1, PC = Σ工资性收入 / Σ家庭人口数 over 脱贫户 ----
# 2022-03: H1 6000/3, H2 4000/2 | H4 3000/3, H5 2000/2 | H6 2400/4   (H3 一般农户 excluded)
# 2023-03: H1 7500/3, H2 4400/2 | H4 3600/3, H5 1800/2 | H6 3600/3
for _m in ("2022-03", "2022-12", "2023-01"):  # no same month of the prior year in the landing dir
    _paper(_m, "wage_income_per_capita_growth", {r: ND_ANY for r in DATA_REGIONS})
_paper("2023-03", "wage_income_per_capita_growth", {
    W: G((7500 + 4400) / 5, (6000 + 4000) / 5, MET),    # 2380 / 2000 - 1 = 0.19 >= 0.18
    P: G((3600 + 1800) / 5, (3000 + 2000) / 5, NOT),    # 1080 / 1000 - 1 = 0.08
    Z: G(3600 / 3, 2400 / 4, MET),                      # 1200 / 600 - 1 = 1.00 (size 4 -> 3)
    KM: G(17300 / 10, 15000 / 10, NOT),                 # 1730 / 1500 - 1 = 0.1533
    ZT: G(3600 / 3, 2400 / 4, MET),                     # 1.00
    YN: G(20900 / 13, 17400 / 14, MET),                 # 1607.69 / 1242.86 - 1 = 0.2935
})

# ---- out_of_province_share: (省外 + 国外) / employed P ------------------------------------------------
_paper("2022-03", "out_of_province_share", {
    W: E(2, 3, MET),    # A1 深圳, A4 宁波 / {A1, A2, A4}
    P: E(1, 2, MET),    # B5 成都 / {B1, B5}
    Z: E(0, 1, NOT),    # C1 县内
    KM: E(3, 5, MET),
    ZT: E(0, 1, NOT),
    YN: E(3, 6, MET),   # 0.5
})
_paper("2022-12", "out_of_province_share", {
    W: E(2, 3, MET),    # A1, A4 / {A1, A2, A4}
    P: E(1, 3, MET),    # B5 / {B1, B4, B5} = 0.333 >= 0.30
    Z: E(0, 2, NOT),    # C1, C2 县内
    KM: E(3, 6, MET),
    ZT: E(0, 2, NOT),
    YN: E(3, 8, MET),   # 0.375
})
_paper("2023-01", "out_of_province_share", {
    W: E(2, 2, MET),    # A1 省外, A4 国外 (泰国, 是否国外务工=是)
    P: E(0, 2, NOT),    # B1 县内, B4 县外省内
    Z: E(0, 1, NOT),
    KM: E(2, 4, MET),
    ZT: E(0, 1, NOT),
    YN: E(2, 5, MET),   # 0.4
})
_paper("2023-03", "out_of_province_share", {
    W: E(2, 3, MET),    # A1 省外, A4 国外 / {A1, A2 (盘龙 -> 县外省内), A4}
    P: E(1, 3, MET),    # B2 上海 / {B1, B2, B4}
    Z: E(0, 1, NOT),    # C1 "昭通市镇雄县" = 县内
    KM: E(3, 6, MET),
    ZT: E(0, 1, NOT),
    YN: E(3, 7, MET),   # 0.4286
})

# ---- organized_outflow_share: organised / out-of-county (县外省内, 省外, 国外) employed P --------------
# 镇雄 only ever works 县内 -> zero denominator (ND0) with people present.
_paper("2022-03", "organized_outflow_share", {
    W: E(2, 2, MET),    # A1 政府, A4 中介 / {A1, A4}
    P: E(0, 1, NOT),    # B5 亲友 / {B5}
    Z: ND0,
    KM: E(2, 3, MET),
    ZT: ND0,
    YN: E(2, 3, MET),
})
_paper("2022-12", "organized_outflow_share", {
    W: E(2, 2, MET),    # A1, A4
    P: E(1, 2, MET),    # B4 政府 (麒麟区 县外省内) / {B4, B5}
    Z: ND0,
    KM: E(3, 4, MET),
    ZT: ND0,
    YN: E(3, 4, MET),
})
_paper("2023-01", "organized_outflow_share", {
    W: E(2, 2, MET),    # A1 政府 省外, A4 中介 国外
    P: E(1, 1, MET),    # B4 政府 县外省内
    Z: ND0,
    KM: E(3, 3, MET),
    ZT: ND0,
    YN: E(3, 3, MET),
})
_paper("2023-03", "organized_outflow_share", {
    W: E(2, 3, MET),    # A1 政府, A4 中介 / {A1, A2 企业招聘, A4}
    P: E(0, 2, NOT),    # B2 企业招聘, B4 亲友 / {B2, B4} = 0 < 0.10
    Z: ND0,
    KM: E(2, 5, MET),   # 0.4
    ZT: ND0,
    YN: E(2, 5, MET),
})

# ---- yulu_graduate_employment_rate: employed / graduates of Y (雨露计划毕业年份 = Y) in P --------------
# grads 2022: B5 (employed in both 2022 snapshots). grads 2023: A3 (never works), B2 (works from March);
# A7 (一般农户) excluded. Regions with P members but no graduate: ND (zero denominator, 0 or NULL).
for _m in ("2022-03", "2022-12"):
    _paper(_m, "yulu_graduate_employment_rate", {
        W: ND, P: E(1, 1, MET), Z: ND, KM: E(1, 1, MET), ZT: ND, YN: E(1, 1, MET),
    })
_paper("2023-01", "yulu_graduate_employment_rate", {
    W: E(0, 1, NOT),    # A3 not employed
    P: E(0, 1, NOT),    # B2 not yet employed (B5 is a 2022 graduate: not counted)
    Z: ND,
    KM: E(0, 2, NOT),
    ZT: ND,
    YN: E(0, 2, NOT),
})
_paper("2023-03", "yulu_graduate_employment_rate", {
    W: E(0, 1, NOT),    # A3
    P: E(1, 1, MET),    # B2 employed 2 months
    Z: ND,
    KM: E(1, 2, NOT),   # 0.5 < 0.9
    ZT: ND,
    YN: E(1, 2, NOT),
})

# ---- relief (latest 2023 ledger state; 2022 snapshots have no 2022 ledger -> no_data) ----------------
# 001 W 中央预算内 100/30; 002 P 中央预算内 200/50; 003 W 衔接 50/12 (restated from 8);
# 004 Z 衔接 80.5/20.125; 005 P 省级 30/3 (no rule, never counted).
for _m in ("2022-03", "2022-12"):
    for _k in ("relief_ratio_central_budget", "relief_ratio_bridging_funds", "relief_project_compliance"):
        _paper(_m, _k, {})
for _m in ("2023-01", "2023-03"):
    _paper(_m, "relief_ratio_central_budget", {
        W: E(30, 100, MET),    # 0.30 >= 0.30
        P: E(50, 200, NOT),    # 0.25
        KM: E(80, 300, NOT),   # (30+50)/(100+200) = 0.2667
        YN: E(80, 300, NOT),
    })                         # Z, ZT: no 中央预算内投资 project -> ND
    _paper(_m, "relief_ratio_bridging_funds", {
        W: E(12, 50, MET),     # 0.24 (with the stale 8 it would be 0.16)
        Z: E(20.125, 80.5, MET),   # 0.25
        KM: E(12, 50, MET),
        ZT: E(20.125, 80.5, MET),
        YN: E(32.125, 130.5, MET),  # (12+20.125)/(50+80.5) = 0.24617
    })                         # P: no 衔接 project -> ND
    _paper(_m, "relief_project_compliance", {
        W: E(2, 2, MET),       # 001 (0.30>=0.30) and 003 (0.24>=0.20)
        P: E(0, 1, NOT),       # 002 (0.25<0.30); 005 other fund not counted
        Z: E(1, 1, MET),       # 004
        KM: E(2, 3, NOT),      # 0.667
        ZT: E(1, 1, MET),
        YN: E(3, 4, NOT),      # 0.75
    })


def expected(as_of: str, region: str, kpi: str) -> Expect:
    return PAPER[(as_of, kpi)].get(region, ND)


