"""The HR platform database (SPEC §3.2) for the simulated people, written to SQLite.

Tables come from dagster_project.hr_schema.metadata; rows are generated as numpy columns and
inserted with sqlite3 executemany of plain tuples (indexes are built after the load). Only rows
dated on or before the simulated end month are written, and `updated_at` never passes its end.

Agreement with the monitoring exports (marts.fct_system_reconciliation must pass within its 5%
tolerance on every county of the demo): HR rows belong to people who are in the export from the
row's month to the simulated end month, and never to the people whose export rows may be made dirty
(monitoring.clerical_error_people), whose quarantined rows would be missing from the export; a
jobseeker who wants work and then works (务工时间 > 0 in a snapshot) is updated to
wants_employment = false from that month.

Corrections: some rows were changed after they were first recorded (a jobseeker's
wants_employment, a training's completed flag, a partial subsidy topped up). A correction shows
(new value, later updated_at) only when its date is within the simulated period, so two runs with
the same seed and a later end month show the same row first in its original and then in its
corrected state — what an incremental loader sees.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine
from sqlalchemy.schema import CreateIndex, CreateTable

from dagster_project.hr_schema import metadata
from dagster_project.simulate.monitoring import clerical_error_people
from dagster_project.simulate.work import POST_TYPES, Timeline

D = np.timedelta64(1, "D")
PROGRAMS = (("电工", "职业技能等级证书"), ("焊工", "职业技能等级证书"), ("家政服务员", "专项职业能力证书"),
            ("中式烹调师", "职业技能等级证书"), ("育婴员", "职业技能等级证书"), ("养老护理员", "职业技能等级证书"),
            ("挖掘机驾驶员", "专项职业能力证书"), ("农业经理人", "职业技能等级证书"), ("茶艺师", "职业技能等级证书"),
            ("电子商务师", "职业技能等级证书"), ("砌筑工", "专项职业能力证书"), ("保安员", "职业资格证书"),
            ("咖啡师", "专项职业能力证书"), ("民族刺绣", "专项职业能力证书"))
MODES = ("线下集中培训", "线上培训", "以工代训", "订单定向培训", "异地培训")
BRANDS = {"昆明市": "云岭建工", "曲靖市": "宣威火腿师傅", "玉溪市": "玉溪农技师", "保山市": "保山咖啡师",
          "昭通市": "昭通苹果工匠", "丽江市": "丽江纳西厨娘", "普洱市": "普洱茶艺师", "临沧市": "临沧佤山工匠",
          "楚雄彝族自治州": "楚雄彝绣娘", "红河哈尼族彝族自治州": "建水紫陶匠", "文山壮族苗族自治州": "文山三七工",
          "西双版纳傣族自治州": "版纳橡胶工", "大理白族自治州": "鹤庆银匠", "德宏傣族景颇族自治州": "瑞丽玉雕师",
          "怒江傈僳族自治州": "怒江护工", "迪庆藏族自治州": "迪庆藏家厨师"}


def _month_start(mi: np.ndarray | int) -> np.ndarray:
    return (np.asarray(mi, dtype=np.int64) - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")


Col = Callable[[int, int], list]  # rows lo..hi of a column as Python values, built on demand
CHUNK = 250_000


def _dstr(dates: np.ndarray, null: np.ndarray | None = None) -> Col:
    def col(lo: int, hi: int) -> list:
        s = np.datetime_as_string(dates[lo:hi].astype("datetime64[D]"), unit="D").astype(object)
        if null is not None:
            s[null[lo:hi]] = None
        return s.tolist()
    return col


def _tstr(days: np.ndarray, key: np.ndarray, limit: np.datetime64) -> Col:
    """Timestamps on the given days at a working hour derived from the row key, never after `limit`."""
    def col(lo: int, hi: int) -> list:
        secs = 8 * 3600 + (key[lo:hi].astype(np.int64) * 2654435761) % (11 * 3600)
        ts = days[lo:hi].astype("datetime64[s]") + secs.astype("timedelta64[s]")
        ts = np.minimum(ts, limit)
        return np.strings.add(np.strings.replace(np.datetime_as_string(ts, unit="s"), "T", " "),
                              ".000000").tolist()
    return col


def _ids(prefix: str, width: int = 10, of: np.ndarray | None = None) -> Col:
    """prefix + zero-padded 1-based row number (or 1-based `of[row]`)."""
    def col(lo: int, hi: int) -> list:
        num = np.arange(lo + 1, hi + 1) if of is None else of[lo:hi] + 1
        return np.strings.add(prefix, np.strings.zfill(num.astype(f"U{width}"), width)).tolist()
    return col


def _pool(pool: np.ndarray, idx: np.ndarray) -> Col:
    if pool.dtype.kind == "S":
        return lambda lo, hi: pool[idx[lo:hi]].astype(f"U{pool.dtype.itemsize}").tolist()
    return lambda lo, hi: pool[idx[lo:hi]].tolist()


def _arr(values: np.ndarray) -> Col:
    return lambda lo, hi: values[lo:hi].tolist()


def _pick(mask: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    idx = np.flatnonzero(mask)
    return idx[rng.random(len(idx)) < share]


class HRWriter:
    def __init__(self, tl: Timeline, seed: int, start_mi: int, end_mi: int) -> None:
        self.tl, self.pop = tl, tl.pop
        self.rng = np.random.default_rng([seed, 21])
        self.end_day = _month_start(end_mi + 1) - D
        self.limit = (self.end_day + D).astype("datetime64[s]") - np.timedelta64(1, "s")
        self.end_mi = end_mi
        pop = self.pop
        self.county = pop.person_county
        self.counts: dict[str, int] = {}
        # HR rows only for people still in the export at the end month and never made dirty in it;
        # each row also needs a date on or after the month the person entered the export (_since).
        self.present = (pop.exit > end_mi) & ~clerical_error_people(tl, seed)
        self.entered = _month_start(pop.entry.astype(np.int64))
        self.horizon = np.datetime64(f"{max(tl.years)}-12-31")

    def _since(self, person: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Rows of present people dated in or after the month they entered the export."""
        return self.present[person] & (day >= self.entered[person])

    def _first_employed(self, person: np.ndarray, reg: np.ndarray) -> np.ndarray:
        """Month index of the first snapshot on or after registration in which the person is employed
        (务工时间（月） > 0, cumulative in the year), or a huge number when there is none."""
        reg_mi = reg.astype("datetime64[M]").astype(np.int64) + 1970 * 12
        first = np.full(len(person), 10**6, dtype=np.int64)
        for year in sorted(self.tl.years, reverse=True):  # the earliest year wins
            start = self.tl.years[year].start[person].astype(np.int64)  # 99 = not working that year
            month = np.maximum(start, np.where(reg_mi // 12 == year, reg_mi % 12 + 1, 1))
            hit = (start <= 12) & (reg_mi // 12 <= year)
            first = np.where(hit, year * 12 + month - 1, first)
        return first

    def write(self, path: Path) -> dict[str, int]:
        if path.exists():
            path.unlink()
        engine = create_engine(f"sqlite:///{path}")
        with engine.begin() as conn:
            for table in metadata.sorted_tables:
                conn.execute(CreateTable(table, include_foreign_key_constraints=[]))
        engine.dispose()
        con = sqlite3.connect(path)
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        builders: dict[str, Callable[[], tuple[int, list[Col]]]] = {
            "jobseeker": self._jobseekers, "employment_service": self._services,
            "training_record": self._training, "skill_certificate": self._certificates,
            "public_welfare_post": self._posts, "subsidy_payment": self._subsidies,
            "labor_brand_member": self._brands, "rural_talent": self._talent}
        for name in metadata.tables:  # jobseeker first: services depend on it
            n, cols = builders[name]()
            sql = f"INSERT INTO {name} VALUES ({','.join('?' * len(cols))})"
            for lo in range(0, n, CHUNK):  # bounded memory: one chunk of Python tuples at a time
                hi = min(lo + CHUNK, n)
                con.executemany(sql, zip(*(c(lo, hi) for c in cols), strict=True))
            self.counts[name] = n
        con.commit()
        for table in metadata.sorted_tables:
            for index in table.indexes:
                con.execute(str(CreateIndex(index).compile(dialect=engine.dialect)))
        con.commit()
        con.close()
        return self.counts

    # --- tables -------------------------------------------------------------------------------
    # Every table is drawn for the whole horizon (the simulated years) with draws whose sizes never
    # depend on the end month; rows are then filtered by date and by presence. Row keys are the
    # positions in the full draw, so a row keeps its key, and its values, across runs.

    def _finish(self, keep: np.ndarray) -> np.ndarray:
        return np.flatnonzero(keep)

    def _jobseekers(self) -> tuple[int, list[Col]]:
        pop, rng, tl = self.pop, self.rng, self.tl
        last = tl.years[max(tl.years)]
        idle = pop.eligible & (last.start == 99)
        people = np.concatenate([_pick(idle, 0.3, rng), _pick(pop.eligible & (last.start < 99), 0.04, rng)])
        reg = np.datetime64("2021-10-01") + rng.integers(0, 730, len(people)) * D
        wants = rng.random(len(people)) < np.where(idle[people], 0.88, 0.97)
        corr = reg + rng.integers(20, 120, len(people)) * D
        flip = rng.random(len(people)) < 0.05
        self.all_seekers = (people, reg, wants)
        fixed = flip & (corr <= self.end_day)
        shown = np.where(fixed, ~wants, wants)
        upd = np.where(fixed, corr, reg)
        # found work: the platform records it from the month the person is employed in the export
        first = self._first_employed(people, reg)
        found = shown & (first <= self.end_mi)
        shown = shown & ~found
        upd = np.where(found, np.maximum(upd, _month_start(first)), upd)
        k = self._finish((reg <= self.end_day) & self._since(people, reg))
        people, reg, shown, upd = people[k], reg[k], shown[k], upd[k]
        return len(k), [
            _ids("JS", of=k), _pool(pop.ids, people), _pool(pop.name_pool, pop.name[people]),
            _arr(pop.hh_phone[pop.hh[people]].astype("U11")), _pool(pop.counties.code, self.county[people]),
            _dstr(reg), _arr(shown), _tstr(upd, k, self.limit)]

    def _services(self) -> tuple[int, list[Col]]:
        rng = self.rng
        people, reg, wants = self.all_seekers
        people, reg = people[wants], reg[wants]
        persons, dates, kinds = [], [], []
        for year in sorted(self.tl.years):  # one iteration per year
            jan1 = np.datetime64(f"{year}-01-01")
            p, first = people, np.maximum(reg, jan1)
            # the notice's 1/3/1 service is a 2023 campaign: earlier years reach half the registrants
            served = (reg <= np.datetime64(f"{year}-12-31")) & (
                rng.random(len(p)) < (1.0 if year == max(self.tl.years) else 0.5))
            full = rng.random(len(p)) < 0.8
            counts = np.stack([np.where(full, 1, rng.integers(0, 2, len(p))),
                               np.where(full, 3, rng.integers(0, 3, len(p))),
                               np.where(full, 1, rng.integers(0, 2, len(p)))]) * served
            for k in range(3):
                rep = np.repeat(np.arange(len(p)), counts[k])
                gap = np.minimum(rng.exponential(25, len(rep)).astype(np.int64), 300)
                day = np.minimum(first[rep] + gap * D, np.datetime64(f"{year}-12-31"))
                persons.append(p[rep])
                dates.append(day)
                kinds.append(np.full(len(rep), k))
        person, day, kind = np.concatenate(persons), np.concatenate(dates), np.concatenate(kinds)
        k = self._finish((day <= self.end_day) & self._since(person, day))
        person, day, kind = person[k], day[k], kind[k]
        types = np.array(["career_guidance", "job_referral", "training_referral"])
        return len(k), [_ids("SV", 12, of=k), _pool(self.pop.ids, person), _pool(types, kind), _dstr(day),
                        _tstr(day, k, self.limit)]

    def _training(self) -> tuple[int, list[Col]]:
        pop, rng = self.pop, self.rng
        able = (pop.age >= 16) & (pop.age <= 64) & (pop.student == 0) & (pop.skill <= 2)
        share = 0.075 * pop.n / max(able.sum(), 1)
        persons, ends, done = [], [], []
        for year in sorted(self.tl.years):
            p = _pick(able, share * (0.9 if year < 2023 else 1.0), rng)
            extra = _pick(able, 0.004, rng)  # dropouts: a record that was not completed
            persons += [p, extra]
            for group, completed in ((p, True), (extra, False)):
                ends.append(np.datetime64(f"{year}-01-10") + rng.integers(0, 355, len(group)) * D)
                done.append(np.full(len(group), completed))
        person, end, completed = np.concatenate(persons), np.concatenate(ends), np.concatenate(done)
        start = end - rng.integers(5, 40, len(person)) * D
        prog = rng.integers(0, len(PROGRAMS), len(person))
        mode = rng.integers(0, len(MODES), len(person))
        corr = end + rng.integers(10, 60, len(person)) * D
        late = completed & (rng.random(len(person)) < 0.05)  # first recorded as not completed
        self.all_trained = (person[completed], end[completed], prog[completed])
        fixed = late & (corr <= self.end_day)
        shown = np.where(late & ~fixed, False, completed)
        upd = np.where(fixed, corr, end + D)
        k = self._finish((end <= self.end_day) & self._since(person, start))
        return len(k), [_ids("TR", of=k), _pool(pop.ids, person[k]),
                        _pool(np.array([p[0] + "培训班" for p in PROGRAMS]), prog[k]),
                        _pool(np.array(MODES), mode[k]), _dstr(start[k]), _dstr(end[k]),
                        _arr(shown[k]), _tstr(upd[k], k, self.limit)]

    def _certificates(self) -> tuple[int, list[Col]]:
        rng = self.rng
        person, end, prog = self.all_trained
        got = rng.random(len(person)) < 0.55
        issued = end + rng.integers(10, 45, len(person)) * D
        k = self._finish(got & (issued <= self.end_day) & self._since(person, issued))
        return len(k), [_ids("ZS53", 12, of=k), _pool(self.pop.ids, person[k]),
                        _pool(np.array([p[1] for p in PROGRAMS]), prog[k]),
                        _pool(np.array([p[0] for p in PROGRAMS]), prog[k]), _dstr(issued[k]),
                        _tstr(issued[k], k, self.limit)]

    def _posts(self) -> tuple[int, list[Col]]:
        posts = self.tl.posts
        k = self._finish(posts.start <= self.end_mi)
        start = _month_start(posts.start[k])
        ended = posts.end[k] <= self.end_mi  # end is exclusive: last held month = end - 1
        end = np.where(ended, _month_start(np.minimum(posts.end[k], self.end_mi + 1)) - D, start)
        upd = np.where(ended, end, start)
        return len(k), [_ids("GY", of=k), _pool(self.pop.ids, posts.person[k]),
                        _pool(self.pop.counties.code, self.county[posts.person[k]]),
                        _pool(np.array(POST_TYPES), posts.ptype[k]),
                        _dstr(start), _dstr(end, ~ended), _arr(posts.subsidy[k]), _tstr(upd, k, self.limit)]

    def _subsidies(self) -> tuple[int, list[Col]]:
        posts, rng = self.tl.posts, self.rng
        horizon_mi = max(self.tl.years) * 12 + 11
        first = np.maximum(posts.start, 2022 * 12)
        last = np.minimum(posts.end - 1, horizon_mi)
        count = np.maximum(last - first + 1, 0)
        rep = np.repeat(np.arange(len(posts.start)), count)
        offs = np.arange(len(rep)) - np.repeat(np.cumsum(count) - count, count)
        period = first[rep] + offs
        due = posts.subsidy[rep]
        r = rng.random(len(rep))
        next_month = _month_start(period + 1)
        paid_on = np.where(r < 0.93, next_month + rng.integers(4, 25, len(rep)) * D,
                           _month_start(period + 2) + rng.integers(4, 20, len(rep)) * D)  # 4% late
        partial = (r >= 0.97) & (r < 0.985)
        share = rng.uniform(0.5, 0.9, len(rep))
        corr = paid_on + rng.integers(20, 60, len(rep)) * D
        top_up = partial & (rng.random(len(rep)) < 0.5)
        # periods due by the end month: up to the month before it
        k = self._finish(period <= self.end_mi - 1)
        period, due, partial, paid_on, corr, top_up = (period[k], due[k], partial[k], paid_on[k], corr[k],
                                                       top_up[k])
        unpaid = (r[k] >= 0.985) | (paid_on > self.end_day)
        topped = top_up & (corr <= self.end_day)
        paid = np.where(partial & ~topped, np.round(due * share[k], 2), due)
        paid = np.where(unpaid, 0.0, paid)
        upd = np.where(topped, corr, np.where(unpaid, _month_start(period + 1), paid_on))
        months = (period - 1970 * 12).astype("datetime64[M]")
        return len(k), [_ids("BZ", 12, of=k), _ids("GY", of=rep[k]),
                        lambda lo, hi: np.datetime_as_string(months[lo:hi], unit="M").tolist(),
                        _arr(due), _arr(paid), _dstr(paid_on, unpaid), _tstr(upd, k, self.limit)]

    def _brands(self) -> tuple[int, list[Col]]:
        pop, rng, tl = self.pop, self.rng, self.tl
        ever = np.zeros(pop.n, dtype=bool)
        for w in tl.years.values():
            ever |= w.start < 99
        people = _pick(ever, 0.035, rng)
        joined = np.where(rng.random(len(people)) < 0.55,
                          np.datetime64("2020-03-01") + rng.integers(0, 670, len(people)) * D,
                          np.datetime64("2022-01-01") + rng.integers(0, 730, len(people)) * D)
        k = self._finish((joined <= self.end_day) & self._since(people, joined))
        people, joined = people[k], joined[k]
        brand = np.array([BRANDS.get(p, "云南护工") for p in pop.counties.prefecture])
        return len(k), [_ids("LB", of=k), _pool(pop.ids, people), _pool(brand, self.county[people]),
                        _pool(pop.counties.code, self.county[people]), _dstr(joined), _tstr(joined, k, self.limit)]

    def _talent(self) -> tuple[int, list[Col]]:
        pop, rng = self.pop, self.rng
        n_v = len(pop.village_name)
        leaders = np.where(rng.random(n_v) < 0.85, rng.integers(3, 6, n_v), rng.integers(0, 3, n_v))
        crafts = rng.integers(0, 3, n_v)
        cand = np.flatnonzero((pop.age >= 25) & (pop.age <= 64) & (pop.entry < 0) & (pop.exit > 10**5)
                              & self.present)
        village = pop.hh_village[pop.hh[cand]]
        order = np.lexsort((rng.random(len(cand)), village))
        cand, village = cand[order], village[order]
        rank = np.arange(len(cand)) - np.searchsorted(village, village)
        is_leader = rank < leaders[village]
        chosen = is_leader | (rank < leaders[village] + crafts[village])
        person, v = cand[chosen], village[chosen]
        ttype = np.where(is_leader[chosen], "wealth_leader", "rural_craftsman")
        cert = np.where(rng.random(len(person)) < 0.8,
                        np.datetime64("2019-06-01") + rng.integers(0, 940, len(person)) * D,
                        np.datetime64("2022-01-01") + rng.integers(0, 730, len(person)) * D)
        k = self._finish(cert <= self.end_day)
        person, ttype, v, cert = person[k], ttype[k], v[k], cert[k]
        return len(k), [_ids("RT", of=k), _pool(pop.ids, person), _arr(ttype),
                        _pool(pop.counties.code, self.county[person]), _pool(pop.village_town, v),
                        _pool(pop.village_name, v), _dstr(cert), _tstr(cert, k, self.limit)]
