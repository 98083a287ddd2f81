"""Who works when, where, through which channel and for what wage, year by year.

Calibration (SPEC §2, the notice): ≈37% of people (3.45M of 9.3M) worked in 2022; 80% of a year's
workers start in January and 45% stop early, which gives ≈8.6 months on average and a January
count ≈83% of the previous year-end once the year-on-year worker ratio r_c (0.98–1.08 by county)
is applied. 2023 monthly wages grow by (1+g_c)/r_c with g_c drawn 10–25% per county, so per-capita
wage income grows ≈g_c against the same month of 2022. Wages are scaled so that 2022 per-capita
wage income of 脱贫户 at year end is ≈9,500 yuan.

Instability within a year (the early-warning worklist of SPEC §2.3 must find people in the demo):
- 断工 (stalled): the 45% who stop early stop at a month drawn uniformly between their start and
  December, so about 4% of the people working in a month stop in the next one (more later in the
  year, as fewer are still working). That is the order of the job-loss rates of migrant workers in
  the 人社 surveys and gives the 8.5-month average the notice targets.
- 返乡回流 (returned): an out-of-county worker still working in month m-1 comes home in month m with
  probability RETURN_HAZARD[m]: 3% in February (after 春节 some do not go back out), 2% in March,
  1% a month otherwise (≈13% of out-of-county workers over a year, in line with the "return flow"
  the notice asks counties to follow up). Of those who come home, RETURN_KEEP_WORKING (60%) find
  work in their own county (务工所在地 becomes the county, months keep growing: returned); the
  others stop working (months stop growing, the export shows them at home: returned and stalled).
  A January snapshot has no earlier snapshot of the year, so nobody returns in January.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from dagster_project.simulate import geo
from dagster_project.simulate.population import Population

CHANNELS = ("政府组织输出", "劳务中介", "企业招聘", "亲友介绍", "自主就业", "其他")
POST_TYPES = ("生态护林员", "保洁员", "护路员", "水管员", "乡村公共服务岗", "防疫员", "护边员")
POST_SUBSIDY = (800.0, 600.0, 600.0, 500.0, 1000.0, 600.0, 900.0)
EMPLOYED_SHARE_2022 = 3.45 / 9.3
JAN_START_SHARE = 0.80
STOP_EARLY = 0.45
REGION_WAGE = np.array([2300.0, 2900.0, 3900.0, 4300.0])  # 县内, 县外省内, 省外, 国外
TARGET_PC_2022 = 9500.0
# month (1..12) -> chance that an out-of-county worker still working in the month before comes home
RETURN_HAZARD = np.array([0.0, 0.0, 0.03, 0.02, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01])
RETURN_KEEP_WORKING = 0.60
NEVER = 99


@dataclass
class Posts:
    """公益性岗位 assignments (one per holder): month indices, end exclusive (huge while held)."""

    person: np.ndarray
    ptype: np.ndarray
    start: np.ndarray
    end: np.ndarray
    subsidy: np.ndarray
    # per person: type or -1, and the assignment row
    person_type: np.ndarray = field(repr=False, default=None)  # type: ignore[assignment]

    def months(self, n: int, year: int, month: int) -> np.ndarray:
        """Months held in `year` up to `month`, per person (0 for non-holders)."""
        lo, hi = year * 12, year * 12 + month
        held = np.clip(np.minimum(self.end, hi) - np.maximum(self.start, lo), 0, 12)
        out = np.zeros(n, dtype=np.int64)
        out[self.person] = held
        return out


@dataclass
class YearWork:
    year: int
    start: np.ndarray     # first month worked (1..12), 99 = not working this year
    stop: np.ndarray      # last month worked
    region: np.ndarray    # 0 县内 1 县外省内 2 省外 3 国外, -1 none
    location: np.ndarray  # index into Timeline.location_pool
    channel: np.ndarray   # index into CHANNELS
    employer: np.ndarray  # index into Timeline.employer_pool, -1 empty
    wage: np.ndarray      # monthly wage (yuan)
    growth: np.ndarray    # per county target wage growth vs previous year (0 for the base year)
    back: np.ndarray | None = None  # month (2..12) an out-of-county worker is home from, NEVER = 99


@dataclass
class Timeline:
    pop: Population
    posts: Posts
    years: dict[int, YearWork]
    location_pool: np.ndarray
    employer_pool: np.ndarray

    def active(self, mi: int) -> np.ndarray:
        return (self.pop.entry <= mi) & (mi < self.pop.exit)

    def region_at(self, year: int, month: int) -> np.ndarray:
        """Work region in `month`: the year's region, 县内 (0) once a returnee is home."""
        w = self.years[year]
        return w.region if w.back is None else np.where(w.back <= month, 0, w.region).astype(np.int8)

    def location_at(self, year: int, month: int) -> np.ndarray:
        """务工所在地 index in `month`: the year's place, the own county once a returnee is home."""
        w = self.years[year]
        if w.back is None:
            return w.location
        return np.where(w.back <= month, self.pop.person_county, w.location).astype(np.int16)

    def months(self, year: int, month: int) -> np.ndarray:
        """务工时间（月） as of month end: cumulative for the year, never decreasing, 0–12."""
        w = self.years[year]
        m = np.clip(np.minimum(month, w.stop) - w.start + 1, 0, 12)
        return np.where(self.active(year * 12 + month - 1), m, 0)


def _posts(pop: Population, rng: np.random.Generator) -> Posts:
    """≈2.5% of people hold a post in 2022; most continue, some end, new ones start in 2023."""
    cand = np.flatnonzero((pop.age >= 30) & (pop.age <= 64) & (pop.student == 0) & (pop.skill != 1)
                          & (pop.skill <= 2) & (pop.entry < 0) & (pop.exit > 10**5))
    n22 = min(int(0.025 * pop.n), len(cand))
    n23 = min(int(0.13 * n22), len(cand) - n22)
    chosen = rng.choice(cand, n22 + n23, replace=False)
    y22, y23 = 2022 * 12, 2023 * 12
    start = np.where(rng.random(n22) < 0.6, y22 - rng.integers(1, 24, n22), y22 + rng.integers(0, 12, n22))
    end = np.where(rng.random(n22) < 0.12, np.maximum(start, y22) + 1 + rng.integers(0, 11, n22), 10**6)
    end = np.where(end > y22 + 12, 10**6, end)
    start = np.concatenate([start, y23 + rng.integers(0, 9, n23)])
    end = np.concatenate([end, np.full(n23, 10**6)])
    ptype = rng.choice(len(POST_TYPES), n22 + n23, p=[0.4, 0.25, 0.1, 0.08, 0.1, 0.04, 0.03])
    person_type = np.full(pop.n, -1, dtype=np.int64)
    person_type[chosen] = ptype
    return Posts(person=chosen, ptype=ptype, start=start, end=end,
                 subsidy=np.array(POST_SUBSIDY)[ptype], person_type=person_type)


def _regions(n: int, county: np.ndarray, share_out: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    r = rng.random(n)
    out = share_out[county]
    return np.select([r < 0.005, r < out, r < out + 0.25], [3, 2, 1], 0)


def build_timeline(pop: Population, years: list[int], seed: int) -> Timeline:
    """Draw every year in `years` (consecutive, ascending) and calibrate wages; see module docstring."""
    rng = np.random.default_rng([seed, 2])
    nc, n = pop.counties.n, pop.n
    county = pop.person_county
    posts = _posts(pop, rng)
    out_names, out_p = geo.weighted(geo.OUT_OF_PROVINCE)
    abroad_names, abroad_p = geo.weighted(geo.ABROAD)
    location_pool = np.concatenate([pop.counties.location, out_names, abroad_names])
    employer_pool = np.array(geo.EMPLOYERS_OUT + geo.EMPLOYERS_YN + geo.EMPLOYERS_ABROAD + ("村民委员会",))
    emp_off = np.cumsum([0, len(geo.EMPLOYERS_OUT), len(geo.EMPLOYERS_YN), len(geo.EMPLOYERS_ABROAD)])

    share_out = np.clip(rng.normal(0.325, 0.06, nc), 0.15, 0.48)
    organised = rng.uniform(0.07, 0.22, nc)
    county_factor = np.clip(rng.normal(1.0, 0.06, nc), 0.85, 1.15)
    p = pop.propensity * county_factor[county]
    p = np.clip(p * EMPLOYED_SHARE_2022 * n / p.sum(), 0, 0.97)
    skill_pay = np.select([pop.skill == 1, pop.skill == 2], [1.2, 0.7], 1.0)
    personal = rng.lognormal(0.0, 0.25, n) * skill_pay

    out: dict[int, YearWork] = {}
    prev: YearWork | None = None
    w_weights = 1 / np.arange(2, 13)
    for year in years:  # one iteration per simulated year
        yr = np.random.default_rng([seed, 3, year])
        if prev is None:
            works = yr.random(n) < p
            ratio = np.ones(nc)
            growth = np.zeros(nc)
        else:
            ratio = yr.uniform(0.98, 1.08, nc)
            growth = yr.uniform(0.10, 0.25, nc)
            was = prev.start < 99
            w_c = np.bincount(county, was, nc)
            idle_c = np.bincount(county, ~was & pop.eligible, nc)
            q = np.clip((ratio - 0.93) * w_c / np.maximum(idle_c, 1), 0, 0.9)
            works = np.where(was, yr.random(n) < 0.93, pop.eligible & (yr.random(n) < q[county]))
        jan = JAN_START_SHARE if prev is None else np.clip(0.83 / ratio, 0.6, 0.97)[county]
        start = np.where(yr.random(n) < jan, 1, yr.choice(np.arange(2, 13), n, p=w_weights / w_weights.sum()))
        stop = np.where(yr.random(n) < STOP_EARLY, start + (yr.random(n) * (12 - start)).astype(np.int64), 12)
        region = _regions(n, county, share_out, yr)
        if prev is not None:
            keep = yr.random(n) < 0.85
            region = np.where(keep & (prev.region >= 0), prev.region, region)
        # public posts are local jobs held for the months of the assignment
        held = posts.months(n, year, 12) > 0
        lo = year * 12
        first = np.zeros(n, dtype=np.int64)
        last = np.zeros(n, dtype=np.int64)
        first[posts.person] = np.clip(posts.start - lo, 0, 11) + 1
        last[posts.person] = np.clip(posts.end - lo, 1, 12)
        works |= held
        start = np.where(held, first, start)
        stop = np.where(held, np.maximum(last, first), stop)
        region = np.where(held, 0, region)
        start = np.where(works, start, 99)
        region = np.where(works, region, -1)

        other = (county + 1 + yr.integers(0, nc - 1, n)) % nc
        loc = np.select([region == 0, region == 1, region == 2, region == 3],
                        [county, other, nc + yr.choice(len(out_names), n, p=out_p),
                         nc + len(out_names) + yr.choice(len(abroad_names), n, p=abroad_p)], -1)
        if prev is not None:
            loc = np.where((region == prev.region) & keep & (prev.location >= 0), prev.location, loc)
        rc = yr.random(n)
        org = rc < organised[county]
        out_channel = np.where(org, np.where(yr.random(n) < 0.6, 0, 1),
                               yr.choice([2, 3, 4, 5], n, p=[0.3, 0.35, 0.25, 0.1]))
        in_channel = yr.choice([0, 2, 3, 4, 5], n, p=[0.02, 0.3, 0.2, 0.38, 0.1])
        channel = np.where(region == 0, in_channel, out_channel)
        channel = np.where(held, 5, channel)
        channel = np.where(works, channel, -1)
        emp = np.select([region == 2, region == 3],
                        [yr.integers(0, emp_off[1], n), emp_off[2] + yr.integers(0, emp_off[3] - emp_off[2], n)],
                        emp_off[1] + yr.integers(0, emp_off[2] - emp_off[1], n))
        emp = np.where(held, len(employer_pool) - 1, emp)
        emp = np.where(works & (yr.random(n) > 0.03), emp, -1)

        back, stop = _returns(start, stop, region, works, yr)
        wage = REGION_WAGE[np.maximum(region, 0)] * personal
        if prev is not None:
            wage = wage * ((1 + growth) / ratio)[county] * yr.lognormal(0, 0.03, n)
        # compact dtypes: at province scale each int64 column costs 74 MB
        out[year] = YearWork(year, start.astype(np.int8), np.minimum(stop, 12).astype(np.int8),
                             region.astype(np.int8), loc.astype(np.int16), channel.astype(np.int8),
                             emp.astype(np.int16), np.where(works, wage, 0.0), growth, back.astype(np.int8))
        prev = out[year]

    tl = Timeline(pop, posts, out, location_pool, employer_pool)
    _calibrate_wages(tl, years)
    return tl


def _returns(start: np.ndarray, stop: np.ndarray, region: np.ndarray, works: np.ndarray,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """返乡回流 within the year (module docstring): the month each out-of-county worker comes home
    (NEVER if not), and the stop month, moved to the month before for those who stop working then."""
    back = np.full(len(start), NEVER, dtype=np.int64)
    out = works & (region >= 1)
    for m in range(2, 13):  # one draw per month, not per person
        at_risk = out & (back == NEVER) & (start < m) & (stop >= m)
        back = np.where(at_risk & (rng.random(len(start)) < RETURN_HAZARD[m]), m, back)
    home = back < NEVER
    quits = home & (rng.random(len(start)) >= RETURN_KEEP_WORKING)
    return back, np.where(quits, back - 1, stop)


def _calibrate_wages(tl: Timeline, years: list[int]) -> None:
    """Scale wages so 2022 year-end per-capita wage income of 脱贫户 ≈ 9,500 yuan, then scale each later
    year per county so its June per-capita wage income grows exactly g_c on the year before (other
    months follow closely because both years share the same start/stop profile)."""
    base = years[0]
    target = TARGET_PC_2022 * 1.15 ** (base - 2022)
    pop = tl.pop
    nc = pop.counties.n
    county = pop.person_county
    poor = pop.hh_type[pop.hh] == 0

    def county_sums(year: int, month: int) -> tuple[np.ndarray, np.ndarray]:
        wage = np.where(poor, tl.years[year].wage * tl.months(year, month), 0.0)
        size = poor & tl.active(year * 12 + month - 1)
        return np.bincount(county, wage, nc), np.bincount(county, size, nc)

    wage, size = county_sums(base, 12)
    tl.years[base].wage *= target * size.sum() / max(wage.sum(), 1.0)
    for prev, year in pairwise(years):
        w0, s0 = county_sums(prev, 6)
        w1, s1 = county_sums(year, 6)
        pc0, pc1 = w0 / np.maximum(s0, 1), w1 / np.maximum(s1, 1)
        factor = np.where(pc1 > 0, (1 + tl.years[year].growth) * pc0 / np.maximum(pc1, 1e-9), 1.0)
        tl.years[year].wage *= factor[county]
