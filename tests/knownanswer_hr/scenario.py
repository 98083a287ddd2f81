"""The hand-built HR scenario (SPEC §2 HR KPIs, key groups, reconciliation) and its paper values.

Regions
    W = 530102 五华区 (昆明市 530100)  not a former poverty county      -> 重点帮扶县 否
    L = 530128 禄劝县 (昆明市 530100)  former poverty county, blank flag -> 重点帮扶县 未知 (unknown case)
    Z = 530627 镇雄县 (昭通市 530600)  key assistance county (flag 1)   -> 重点帮扶县 是
    KM = 530100 昆明市 (W + L), ZT = 530600 昭通市 (Z), YN = 530000 云南省 (all)

Snapshots 2022-03, 2022-12, 2023-02, 2023-03. The KPI paper values are for 2023-03 (month end 2023-03-31,
Y = 2023, M = 3; prior year-end 2022-12; same month of Y-1 2022-03). 2023-02 was added for the
early-warning worklist (SPEC §2.3): 2023-03 is the first snapshot whose previous one is (Y, M-1).

Households (one village each)                          户类型    易地搬迁  监测对象类别
    H1 W 西翥街道 沙朗村  A1 A2 A3                        脱贫户    否        (none)
    H2 W 西翥街道 沙朗村  A4                              一般农户  否        (none)  -> outside every KPI
    H3 L 屏山街道 崇德村  B1 B2                           脱贫户    (blank)   (none)
    H4 Z 以勒镇   以勒村  C1 C2                           脱贫户    是        脱贫不稳定户

务工时间（月） / work region (― = not employed)
            2022-03            2022-12              2023-02              2023-03
    A1      3 省外 广东 政府   12 省外 广东 政府    2 省外 广东          3 县内 五华        (returnee: 是)
    A2      ―                  10 县内 五华         2 县内 五华          2 县内 五华        (断工 in 2023-03)
    A3      ―                  ―                    ―                    ―
    A4      3 县内             12 县内              2 县外省内 官渡      3 县内            (一般农户)
    B1      2 县外省内 昆明    11 县外省内 昆明 政府 1 县外省内 官渡      ―                (returnee: 是)
    B2      ―                  ―                    ―                    3 省外 上海
    C1      3 县内 镇雄        12 县内 镇雄         2 县内 镇雄          3 县内 镇雄
    C2      ―                  6 省外 浙江          2 省外 浙江          3 省外 浙江        (still out: 否)

Outsiders X1 (L), X2 (L), X3 (Z) exist only in the HR platform (rural_talent).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tests.knownanswer.landing import Landing, make_id

MONTHS = ("2022-03", "2022-12", "2023-02", "2023-03")
AS_OF = {m: f"{m}-01" for m in MONTHS}
W, L, Z = "530102", "530128", "530627"
KM, ZT, YN = "530100", "530600", "530000"
REGIONS = (W, L, Z, KM, ZT, YN)

# county: (市, 县, 乡, 村)
PLACES = {
    W: ("昆明市", "五华区", "西翥街道", "沙朗村"),
    L: ("昆明市", "禄劝彝族苗族自治县", "屏山街道", "崇德村"),
    Z: ("昭通市", "镇雄县", "以勒镇", "以勒村"),
}


@dataclass(frozen=True)
class Household:
    county: str
    hh_type: str
    relocated: str
    category: str
    seq: int


HOUSEHOLDS = {
    "H1": Household(W, "脱贫户", "否", "", 1),
    "H2": Household(W, "一般农户", "否", "", 2),
    "H3": Household(L, "脱贫户", "", "", 3),
    "H4": Household(Z, "脱贫户", "是", "脱贫不稳定户", 4),
}

# person: (household, name, birth, id sequence, relation)
PEOPLE = {
    "A1": ("H1", "张一", "19800101", 11, "户主"),
    "A2": ("H1", "李二", "19820202", 22, "配偶"),
    "A3": ("H1", "张三", "20010303", 31, "之子"),
    "A4": ("H2", "王四", "19750404", 41, "户主"),
    "B1": ("H3", "赵五", "19790505", 51, "户主"),
    "B2": ("H3", "赵六", "20000606", 61, "之子"),
    "C1": ("H4", "孙七", "19810707", 71, "户主"),
    "C2": ("H4", "孙八", "19990808", 81, "之子"),
}
OUTSIDERS = {"X1": (L, "19700909", 91), "X2": (L, "19711010", 93), "X3": (Z, "19721111", 95)}


def county_of(key: str) -> str:
    if key in OUTSIDERS:
        return OUTSIDERS[key][0]
    return HOUSEHOLDS[PEOPLE[key][0]].county


def id_of(key: str) -> str:
    if key in OUTSIDERS:
        county, birth, seq = OUTSIDERS[key]
        return make_id(county, birth, seq)
    hh, _, birth, seq, _ = PEOPLE[key]
    return make_id(HOUSEHOLDS[hh].county, birth, seq)


def household_id(hh: str) -> str:
    return f"{HOUSEHOLDS[hh].county}00100{HOUSEHOLDS[hh].seq:04d}"


# key -> month -> (months, 务工所在地, 就业渠道)
WORK = {
    "A1": {"2022-03": (3, "广东省深圳市", "政府组织输出"), "2022-12": (12, "广东省深圳市", "政府组织输出"),
           "2023-02": (2, "广东省深圳市", "政府组织输出"),
           "2023-03": (3, "云南省昆明市五华区", "自主就业")},
    "A2": {"2022-12": (10, "云南省昆明市五华区", "亲友介绍"), "2023-02": (2, "云南省昆明市五华区", "亲友介绍"),
           "2023-03": (2, "云南省昆明市五华区", "亲友介绍")},
    "A4": {"2022-03": (3, "云南省昆明市五华区", "自主就业"), "2022-12": (12, "云南省昆明市五华区", "自主就业"),
           "2023-02": (2, "云南省昆明市官渡区", "企业招聘"),
           "2023-03": (3, "云南省昆明市五华区", "自主就业")},
    "B1": {"2022-03": (2, "云南省昆明市官渡区", "企业招聘"), "2022-12": (11, "云南省昆明市官渡区", "政府组织输出"),
           "2023-02": (1, "云南省昆明市官渡区", "企业招聘")},
    "B2": {"2023-03": (3, "上海市浦东新区", "企业招聘")},
    "C1": {"2022-03": (3, "云南省昭通市镇雄县", "自主就业"), "2022-12": (12, "云南省昭通市镇雄县", "自主就业"),
           "2023-02": (2, "云南省昭通市镇雄县", "自主就业"),
           "2023-03": (3, "云南省昭通市镇雄县", "自主就业")},
    "C2": {"2022-12": (6, "浙江省宁波市", "亲友介绍"), "2023-02": (2, "浙江省宁波市", "亲友介绍"),
           "2023-03": (3, "浙江省宁波市", "亲友介绍")},
}

# 工资性收入（元） year to date per household and snapshot; 家庭人口数 = member rows
WAGES = {"H1": {"2022-03": 6000, "2022-12": 40000, "2023-02": 4400, "2023-03": 6600},
         "H2": {"2022-03": 9000, "2022-12": 30000, "2023-02": 6000, "2023-03": 9000},
         "H3": {"2022-03": 5000, "2022-12": 30000, "2023-02": 4000, "2023-03": 6000},
         "H4": {"2022-03": 4000, "2022-12": 35000, "2023-02": 2900, "2023-03": 4400}}

# ---------------------------------------------------------------------------------------------------
# HR platform rows
# ---------------------------------------------------------------------------------------------------
D = dt.date
TRAINING = [  # (id, person, end_date, completed)
    ("T1", "A1", D(2023, 2, 15), True),    # trained (W)
    ("T2", "A2", D(2023, 3, 31), True),    # trained (W): ends on the month end
    ("T3", "A3", D(2023, 4, 10), True),    # after the month end: not yet
    ("T4", "A4", D(2023, 1, 20), True),    # 一般农户: outside P
    ("T5", "B1", D(2023, 3, 1), True),     # trained (L)
    ("T6", "B2", D(2023, 2, 1), False),    # not completed
    ("T7", "C1", D(2022, 11, 30), True),   # 2022: trained for the 2022-12 snapshot only
    ("T8", "C2", D(2023, 1, 5), True),     # trained (Z)
    ("T9", "C2", D(2023, 2, 5), True),     # second training: still one person
]
CERTIFICATES = [  # (no, person, issued_on)
    ("Z1", "A1", D(2023, 3, 20)),   # certified
    ("Z2", "A2", D(2022, 6, 1)),    # issued in Y-1: not certified in 2023
    ("Z3", "B1", D(2023, 4, 2)),    # after the month end
    ("Z4", "C2", D(2023, 1, 20)),   # certified
    ("Z5", "A4", D(2023, 2, 1)),    # 一般农户
]
POSTS = [  # (assignment, person, type, start, end)
    ("P1", "A3", "生态护林员", D(2021, 5, 1), None),              # held 2022 and 2023
    ("P2", "A2", "护路员", D(2022, 4, 1), D(2022, 10, 31)),       # 2022 only, from April (not by March)
    ("P3", "C1", "保洁员", D(2023, 2, 1), None),                  # 2023 only
    ("P4", "A4", "保洁员", D(2022, 1, 1), None),                  # 一般农户
    ("P5", "B1", "护路员", D(2022, 1, 1), D(2023, 1, 31)),        # 2022 and January 2023
]
SUBSIDIES = [  # (payment, assignment, period, due, paid, paid_on)
    ("S1", "P1", "2023-01", 800, 800, D(2023, 2, 28)),    # on time (last day of T+1), full
    ("S2", "P1", "2023-02", 800, 800, D(2023, 4, 1)),     # late
    ("S3", "P1", "2023-03", 800, 800, D(2023, 3, 31)),    # period M: not due at 2023-03
    ("S4", "P5", "2023-01", 600, 500, D(2023, 2, 10)),    # not in full
    ("S5", "P3", "2023-02", 1000, 1000, D(2023, 3, 15)),  # on time, full
    ("S6", "P4", "2023-01", 600, 600, D(2023, 2, 5)),     # 一般农户
    ("S7", "P2", "2022-09", 600, 600, D(2022, 10, 5)),    # 2022
]
BRANDS = [  # (member, person, joined_on)
    ("LB1", "A1", D(2021, 6, 1)),
    ("LB2", "C1", D(2022, 5, 1)),
    ("LB3", "B1", D(2020, 1, 1)),
    ("LB4", "C2", D(2023, 3, 31)),
    ("LB5", "A4", D(2021, 1, 1)),
]
TALENTS = [  # (id, person, type, county, village, certified_on)
    ("R1", "A1", "wealth_leader", W, "沙朗村", D(2020, 5, 1)),
    ("R2", "A2", "wealth_leader", W, "沙朗村", D(2021, 5, 1)),
    ("R3", "A4", "wealth_leader", W, "沙朗村", D(2022, 5, 1)),
    ("R4", "B1", "wealth_leader", L, "崇德村", D(2021, 6, 1)),
    ("R5", "B2", "wealth_leader", L, "崇德村", D(2022, 6, 1)),
    ("R6", "X1", "rural_craftsman", L, "崇德村", D(2021, 1, 1)),
    ("R7", "X2", "wealth_leader", L, "崇德村", D(2023, 4, 15)),     # after the month end
    ("R8", "C1", "wealth_leader", Z, "以勒村", D(2020, 7, 1)),
    ("R9", "C2", "wealth_leader", Z, "以勒村", D(2022, 8, 1)),
    ("R10", "X3", "wealth_leader", Z, " 以勒村 ", D(2023, 3, 31)),  # spaces; on the month end
]
JOBSEEKERS = [  # (reg, person, registered_on, wants)
    ("J1", "A3", D(2022, 10, 1), True),
    ("J2", "B1", D(2023, 2, 1), True),
    ("J3", "B2", D(2023, 1, 1), True),    # wants work but employed in 2023-03: reconciliation mismatch
    ("J4", "C1", D(2023, 1, 1), False),
]
SERVICES = [  # (id, person, type, date)
    ("V1", "A3", "career_guidance", D(2023, 1, 5)),
    ("V2", "A3", "job_referral", D(2023, 1, 10)),
    ("V3", "A3", "job_referral", D(2023, 2, 10)),
    ("V4", "A3", "job_referral", D(2023, 3, 31)),
    ("V5", "A3", "training_referral", D(2023, 3, 15)),
    ("V6", "B1", "career_guidance", D(2023, 2, 5)),
    ("V7", "B1", "job_referral", D(2023, 2, 6)),
    ("V8", "B1", "job_referral", D(2023, 2, 7)),
    ("V9", "B1", "training_referral", D(2023, 2, 8)),
    ("V10", "B1", "job_referral", D(2023, 4, 1)),   # after the month end: B1 has only 2 referrals
]
POST_TYPE_EXPORT_MISMATCH = {("C1", "2023-03"): 3}  # exported 3 months; the HR platform covers 2 (Feb, Mar)


def hr_post_months(person: str, month: str) -> int:
    """Months of the snapshot's year up to its month that the person's assignments cover."""
    year, last = int(month[:4]), int(month[5:])
    held = set()
    for _, who, _, start, end in POSTS:
        if who != person:
            continue
        for m in range(1, last + 1):
            first = D(year, m, 1)
            month_end = (D(year, m + 1, 1) if m < 12 else D(year + 1, 1, 1)) - dt.timedelta(days=1)
            if start <= month_end and (end is None or end >= first):
                held.add(m)
    return len(held)


def post_type(person: str) -> str:
    return next((t for _, who, t, _, _ in POSTS if who == person), "")


def member_row(key: str, month: str) -> dict[str, str]:
    hh, name, birth, seq, relation = PEOPLE[key]
    h = HOUSEHOLDS[hh]
    city, county, town, village = PLACES[h.county]
    months, location, channel = WORK.get(key, {}).get(month, (0, "", ""))
    post_months = POST_TYPE_EXPORT_MISMATCH.get((key, month), hr_post_months(key, month))
    return {
        "省": "云南省", "市": city, "县": county, "乡": town, "村": village,
        "户编号": household_id(hh), "人口编号": f"{household_id(hh)}{seq:03d}", "姓名": name,
        "性别": "男" if seq % 2 else "女", "出生日期": f"{birth[:4]}-{birth[4:6]}-{birth[6:]}",
        "证件类型": "居民身份证", "证件号码": id_of(key), "户联系电话": f"1388710{seq:04d}",
        "年度": month[:4], "与户主关系": relation, "文化程度": "初中", "在校生状况": "非在校生",
        "劳动技能": "普通劳动力", "务工时间（月）": str(months),
        "务工企业名称": f"{location}某公司" if months else "", "是否国外务工": "否",
        "公益性岗位类型": post_type(key) if post_months else "", "公益性岗位（月数）": str(post_months),
        "就业渠道": channel, "务工所在地": location, "雨露计划毕业年份": "",
    }


def household_row(hh: str, month: str) -> dict[str, str]:
    h = HOUSEHOLDS[hh]
    city, county, town, village = PLACES[h.county]
    head = next(k for k, p in PEOPLE.items() if p[0] == hh and p[4] == "户主")
    size = sum(1 for p in PEOPLE.values() if p[0] == hh)
    return {
        "省": "云南省", "市": city, "县": county, "乡": town, "村": village,
        "户编号": household_id(hh), "户主姓名": PEOPLE[head][1], "户主证件号码": id_of(head),
        "户类型": h.hh_type, "监测对象类别": h.category, "是否易地扶贫搬迁户": h.relocated,
        "家庭人口数": str(size), "年度": month[:4], "工资性收入（元）": str(WAGES[hh][month]),
        "生产经营性收入（元）": "1000", "转移性收入（元）": "500", "财产性收入（元）": "0",
    }


def _ts(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12, 0))


def hr_rows() -> dict[str, list[dict[str, object]]]:
    stamp = _ts(D(2023, 4, 20))
    return {
        "training_record": [
            {"training_id": t, "id_number": id_of(p), "program_name": "电工培训班", "training_mode": "线下集中培训",
             "start_date": end - dt.timedelta(days=10), "end_date": end, "completed": done, "updated_at": stamp}
            for t, p, end, done in TRAINING],
        "skill_certificate": [
            {"certificate_no": c, "id_number": id_of(p), "certificate_type": "职业技能等级证书", "occupation": "电工",
             "issued_on": day, "updated_at": stamp} for c, p, day in CERTIFICATES],
        "public_welfare_post": [
            {"assignment_id": a, "id_number": id_of(p), "county_code": county_of(p), "post_type": t,
             "start_date": start, "end_date": end, "monthly_subsidy_yuan": 800, "updated_at": stamp}
            for a, p, t, start, end in POSTS],
        "subsidy_payment": [
            {"payment_id": s, "assignment_id": a, "period_month": period, "amount_due_yuan": due,
             "amount_paid_yuan": paid, "paid_on": on, "updated_at": stamp}
            for s, a, period, due, paid, on in SUBSIDIES],
        "labor_brand_member": [
            {"member_id": m, "id_number": id_of(p), "brand_name": "云岭建工", "county_code": county_of(p),
             "joined_on": day, "updated_at": stamp} for m, p, day in BRANDS],
        "rural_talent": [
            {"talent_id": t, "id_number": id_of(p), "talent_type": kind, "county_code": county,
             "township_name": PLACES[county][2], "village_name": village, "certified_on": day, "updated_at": stamp}
            for t, p, kind, county, village, day in TALENTS],
        "jobseeker": [
            {"reg_id": r, "id_number": id_of(p), "name": PEOPLE.get(p, ("", "某人"))[1], "phone": "13800000000",
             "county_code": county_of(p), "registered_on": day, "wants_employment": wants, "updated_at": stamp}
            for r, p, day, wants in JOBSEEKERS],
        "employment_service": [
            {"service_id": v, "id_number": id_of(p), "service_type": kind, "service_date": day, "updated_at": stamp}
            for v, p, kind, day in SERVICES],
    }


def build(landing: Landing) -> Landing:
    for month in MONTHS:
        landing.write_members(month, [member_row(k, month) for k in PEOPLE])
        landing.write_households(month, [household_row(h, month) for h in HOUSEHOLDS])
    # One work-for-relief project: the pipeline needs a ledger (raw.relief_projects) to build the marts.
    landing.write_relief(2023, "2023-06", [{
        "年度": "2023", "项目编号": "YGDZ-HR-001", "项目名称": "沙朗村机耕路", "市": "昆明市", "县": "五华区",
        "资金来源": "中央预算内投资", "中央资金（万元）": "100", "劳务报酬发放金额（万元）": "30",
        "带动务工人数": "10", "其中脱贫人口数": "5", "开工日期": "2023-03-01", "完工日期": "2023-11-30"}])
    landing.write_hr_db(hr_rows())
    return landing
