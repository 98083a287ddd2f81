"""The simulated people: households with a head, spouse, children, elders and grandchildren, living
in villages of the 129 counties. Built once per (scale, seed) so every month and every source (the
monitoring exports, the HR platform) describes the same people with the same 证件号码.

All per-person attributes are numpy arrays; strings live in small pools indexed by integers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dagster_project.simulate import geo
from dagster_project.simulate.idcard import build_ids, unique_sequence

RELATIONS = ("户主", "配偶", "之子", "之女", "之父", "之母", "之孙子", "之孙女")
EDUCATION = ("学龄前儿童", "文盲或半文盲", "小学", "初中", "高中", "中专", "大专", "本科及以上")
STUDENT = ("非在校生", "学龄前儿童", "小学在读", "初中在读", "高中在读", "中职在读", "高职在读", "本科在读")
SKILLS = ("普通劳动力", "技能劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力")
HOUSEHOLD_TYPES = ("脱贫户", "一般农户")
CATEGORIES = ("脱贫不稳定户", "边缘易致贫户", "突发严重困难户")
SIZE_PROBS = np.array([0.13, 0.22, 0.24, 0.21, 0.12, 0.05, 0.02, 0.01])  # mean ≈ 3.25 (9.3M / 2.9M)
REF_YEAR = 2023


@dataclass
class Population:
    counties: geo.Counties
    # villages (global index)
    village_county: np.ndarray
    village_name: np.ndarray
    village_town: np.ndarray
    # households
    hh_county: np.ndarray
    hh_village: np.ndarray
    hh_type: np.ndarray          # 0 脱贫户, 1 一般农户
    hh_category: np.ndarray      # -1 none, else index into CATEGORIES
    hh_relocated: np.ndarray
    hh_phone: np.ndarray
    hh_number: np.ndarray        # 户编号 ('U16')
    hh_head: np.ndarray          # person index of the head
    hh_business: np.ndarray      # annual 生产经营性收入 base (yuan)
    hh_transfer: np.ndarray
    hh_property: np.ndarray
    # persons
    hh: np.ndarray
    pos: np.ndarray
    relation: np.ndarray
    male: np.ndarray
    birth: np.ndarray            # datetime64[D]
    age: np.ndarray              # age in REF_YEAR
    name: np.ndarray             # index into name_pool
    name_pool: np.ndarray
    education: np.ndarray
    student: np.ndarray
    skill: np.ndarray
    eligible: np.ndarray         # can work (16–64, not a student, some labour)
    propensity: np.ndarray       # relative chance of working
    yulu: np.ndarray             # 0 or graduation year
    entry: np.ndarray            # first month index present (churn)
    exit: np.ndarray             # first month index absent
    ids: np.ndarray              # 'S18'

    @property
    def n(self) -> int:
        return len(self.hh)

    @property
    def person_county(self) -> np.ndarray:
        return self.hh_county[self.hh]


def _villages(counties: geo.Counties, hh_per_county: np.ndarray, rng: np.random.Generator):
    """Townships and villages per county, sized to its caseload (≈200 households a village)."""
    v_county, v_name, v_town = [], [], []
    for c in range(counties.n):  # one iteration per county, not per person
        n_v = int(np.clip(round(hh_per_county[c] / 200), 3, 120))
        n_t = int(np.clip(round(n_v / 10), 2, 15))
        names = geo.place_names(rng, n_v + n_t, ("村", "村", "村", "社区"))
        towns = [t[:2] + ("镇" if i % 3 else "乡") for i, t in enumerate(names[n_v:])]
        v_county += [c] * n_v
        v_name += names[:n_v]
        v_town += [towns[i] for i in rng.integers(0, n_t, n_v)]
    return np.array(v_county), np.array(v_name), np.array(v_town)


def build_population(people: int, seed: int) -> Population:
    """Draw households and members; see the module docstring."""
    rng = np.random.default_rng([seed, 1])
    counties = geo.load_counties(rng)
    n_h = max(round(people / float(SIZE_PROBS @ np.arange(1, 9))), counties.n * 8)
    # every county gets at least a few households, the rest follow the weights
    hh_county = np.concatenate([np.repeat(np.arange(counties.n), 8),
                                rng.choice(counties.n, n_h - counties.n * 8, p=counties.weight)])
    hh_county.sort()
    per_county = np.bincount(hh_county, minlength=counties.n)
    v_county, v_name, v_town = _villages(counties, per_county, rng)
    v_start = np.searchsorted(v_county, np.arange(counties.n))
    v_count = np.bincount(v_county, minlength=counties.n)
    hh_village = v_start[hh_county] + (rng.random(n_h) * v_count[hh_county]).astype(np.int64)
    order = np.lexsort((hh_village, hh_county))
    hh_county, hh_village = hh_county[order], hh_village[order]

    size = rng.choice(np.arange(1, 9), n_h, p=SIZE_PROBS)
    n = int(size.sum())
    hh = np.repeat(np.arange(n_h), size)
    starts = np.concatenate([[0], np.cumsum(size)[:-1]])
    pos = np.arange(n) - starts[hh]
    r = rng.random(n)

    head_age = np.clip(rng.normal(50, 13, n_h), 20, 88).astype(np.int64)
    head_male = rng.random(n_h) < 0.82
    ha, hsize = head_age[hh], size[hh]
    is_spouse = (pos == 1) & (rng.random(n) < 0.8)
    is_elder = (pos >= 3) & (pos == hsize - 1) & (ha < 58) & (r < 0.35)
    is_grand = (pos >= 2) & ~is_elder & (ha >= 58) & (rng.random(n) < 0.6)
    age = np.where(pos == 0, ha, 0)
    age = np.where(is_spouse, np.clip(ha + rng.integers(-6, 3, n), 18, 95), age)
    child_age = np.clip(ha - rng.integers(20, 38, n), 0, 70)
    age = np.where((pos > 0) & ~is_spouse, child_age, age)
    age = np.where(is_elder, np.clip(ha + rng.integers(22, 32, n), 60, 99), age)
    age = np.where(is_grand, np.clip(ha - rng.integers(44, 60, n), 0, 30), age)
    male = np.where(pos == 0, head_male[hh], rng.random(n) < 0.51)
    male = np.where(is_spouse, ~head_male[hh], male)
    relation = np.select(
        [pos == 0, is_spouse, is_elder, is_grand],
        [0, 1, np.where(male, 4, 5), np.where(male, 6, 7)], np.where(male, 2, 3))

    birth_year = REF_YEAR - age
    birth = ((birth_year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
             + rng.integers(0, 365, n).astype("timedelta64[D]"))
    county_int = counties.code.astype(np.int64)[hh_county[hh]]
    seq = unique_sequence(hh_county[hh], birth, male, rng)
    ids = build_ids(county_int, birth, seq)

    # names: children take the head's surname
    n_given = len(geo.GIVEN_CHARS) * (len(geo.GIVEN_CHARS) + 1)
    surname = rng.integers(0, len(geo.SURNAMES), n)
    head_idx = starts[hh]
    surname = np.where((pos > 0) & ~is_spouse & ~is_elder, surname[head_idx], surname)
    given = rng.integers(0, n_given, n)
    name = surname * n_given + given
    pool = _name_pool()

    student = np.select(
        [age < 6, age <= 12, age <= 15, (age <= 18) & (r < 0.75), (age <= 22) & (r < 0.3)],
        [1, 2, 3, np.where(rng.random(n) < 0.6, 4, 5), np.where(rng.random(n) < 0.6, 6, 7)], 0)
    edu = np.select([age < 6, age > 65, age > 50, (age > 30) | (r < 0.5)],
                    [0, np.where(r < 0.5, 1, 2), rng.choice([1, 2, 3], n, p=[0.15, 0.5, 0.35]),
                     rng.choice([2, 3, 4, 5], n, p=[0.25, 0.5, 0.15, 0.1])],
                    rng.choice([3, 4, 5, 6, 7], n, p=[0.4, 0.2, 0.2, 0.15, 0.05]))
    edu = np.where((student == 0) | (age < 6), edu, np.minimum(np.maximum(edu, 2), 7))
    rs = rng.random(n)
    working_age = (age >= 16) & (age <= 64) & (student == 0)
    skill = np.where(
        working_age, np.searchsorted(np.cumsum([0.72, 0.16, 0.08, 0.04]), rs * 0.9999),
        np.where(age >= 65, np.searchsorted(np.cumsum([0.0, 0.0, 0.45, 0.25, 0.30]), rs * 0.9999), 4))
    eligible = working_age & (skill <= 2)
    propensity = np.select([skill == 1, skill == 0, skill == 2], [1.15, 1.0, 0.45], 0.0)
    propensity = propensity * np.where(age > 55, 0.6, 1.0) * eligible
    yulu = np.where(working_age & (age <= 24) & (rng.random(n) < 0.25),
                    rng.choice([2022, 2023], n), 0)
    propensity = np.where(yulu > 0, 1.4, propensity)

    # churn: a few members join (born / married in) or leave during the simulated years; never heads
    entry = np.full(n, -1, dtype=np.int64)
    exit_ = np.full(n, 10**6, dtype=np.int64)
    lo, hi = 2022 * 12 + 1, 2023 * 12 + 11
    joins = (pos > 0) & (rng.random(n) < 0.006)
    leaves = (pos > 0) & ~joins & (rng.random(n) < 0.006)
    entry[joins] = rng.integers(lo, hi, joins.sum())
    exit_[leaves] = rng.integers(lo, hi, leaves.sum())

    hh_type = (rng.random(n_h) < 0.05).astype(np.int64)
    cat_r = rng.random(n_h)
    hh_category = np.where(hh_type == 1, np.where(cat_r < 0.7, 1, 2),
                           np.select([cat_r < 0.04, cat_r < 0.045], [0, 2], -1))
    county_hh_seq = np.arange(n_h) - np.searchsorted(hh_county, hh_county)
    hh_number = np.strings.add(counties.code[hh_county].astype("U6"),
                               np.strings.zfill((county_hh_seq + 1).astype("U10"), 10))
    return Population(
        counties=counties, village_county=v_county, village_name=v_name, village_town=v_town,
        hh_county=hh_county.astype(np.int16), hh_village=hh_village.astype(np.int32), hh_type=hh_type,
        hh_category=hh_category,
        hh_relocated=rng.random(n_h) < 0.10, hh_phone=rng.integers(13_000_000_000, 19_999_999_999, n_h),
        hh_number=hh_number, hh_head=starts,
        hh_business=rng.gamma(2.0, 2600.0, n_h) * size, hh_transfer=rng.gamma(2.0, 900.0, n_h) * size,
        hh_property=rng.gamma(0.6, 300.0, n_h),
        hh=hh.astype(np.int32), pos=pos.astype(np.int8), relation=relation.astype(np.int8), male=male,
        birth=birth, age=age.astype(np.int16), name=name.astype(np.int32), name_pool=pool,
        education=edu.astype(np.int8), student=student.astype(np.int8), skill=skill.astype(np.int8),
        eligible=eligible, propensity=propensity.astype(np.float32), yulu=yulu.astype(np.int16),
        entry=entry.astype(np.int32), exit=exit_.astype(np.int32), ids=ids)


def _name_pool() -> np.ndarray:
    """Every surname × given-name combination (one- or two-character given names)."""
    chars = np.array(geo.GIVEN_CHARS)
    given = np.concatenate([chars, np.strings.add(np.repeat(chars, len(chars)), np.tile(chars, len(chars)))])
    return np.strings.add(np.repeat(np.array(geo.SURNAMES), len(given)), np.tile(given, len(geo.SURNAMES)))
