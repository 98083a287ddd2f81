"""Monthly monitoring-system exports (SPEC §3.1): the members and households tables of one snapshot,
with the header drift and dirty rows real exports have.

Columns are Arrow dictionary arrays over the small string pools of `geo` / `population`, so even the
province's 9.3M-row snapshot is built without materialising millions of Python strings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from dagster_project.simulate import population as P
from dagster_project.simulate.idcard import corrupt_check
from dagster_project.simulate.work import CHANNELS, POST_TYPES, Timeline
from dagster_project.source_shapes import HOUSEHOLD_COLUMNS, MEMBER_COLUMNS

UNKNOWN_COUNTIES = ("新城县", "东湖区", "未知县", "测试县")
MEMBER_DIRT = ("bad_id_checksum", "months_out_of_range", "unknown_county", "location_missing_while_working",
               "duplicate_person_year")
HOUSEHOLD_DIRT = ("unknown_county", "bad_head_id_checksum")
REMARKS = ("已核实", "信息变更", "新识别", "外出务工")
# Dirty member rows are drawn among a fixed 3% of people (whatever the months written). The HR platform
# simulator leaves these people out, so a quarantined row never shows up in the reconciliation of the
# two systems as a person the HR platform knows and the export lacks (demo counties are small: two such
# people in one county would exceed the 5% tolerance).
CLERICAL_SHARE = 0.03


def clerical_error_people(tl: Timeline, seed: int) -> np.ndarray:
    """Mask of the people whose export rows may be made dirty (and who have no HR platform rows);
    never a 公益性岗位 holder, whose assignment both systems record."""
    prone = np.random.default_rng([seed, 13]).random(tl.pop.n) < CLERICAL_SHARE
    prone[tl.posts.person] = False
    return prone


@dataclass
class Snapshot:
    members: pa.Table
    households: pa.Table
    member_dirt: dict[str, int]
    household_dirt: dict[str, int]


def _dict(indices: np.ndarray, pool, null_below_zero: bool = True) -> pa.DictionaryArray:
    """Dictionary column; negative indices become NULL (an empty cell)."""
    idx = np.asarray(indices, dtype=np.int32)
    mask = (idx < 0) if null_below_zero and (idx < 0).any() else None
    return pa.DictionaryArray.from_arrays(pa.array(np.maximum(idx, 0), mask=mask),
                                          pa.array(np.asarray(pool, dtype=str)))


def _ints(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(values.astype(np.int64), mask=mask)


def _strings(values: np.ndarray) -> pa.Array:
    """int64 or bytes numpy array -> Arrow string column (written as text, also in xlsx)."""
    return pa.array(values).cast(pa.string())


def _split(total: int, kinds: tuple[str, ...], rng: np.random.Generator) -> dict[str, int]:
    base = np.full(len(kinds), total // len(kinds))
    base[rng.choice(len(kinds), total % len(kinds), replace=False)] += 1
    return dict(zip(kinds, base.tolist(), strict=True))


class SnapshotBuilder:
    """Builds snapshots of one timeline; stable columns are converted to Arrow once and reused."""

    def __init__(self, tl: Timeline, seed: int) -> None:
        self.tl = tl
        pop = tl.pop
        self.seed = seed
        c = pop.counties
        self.county_pool = np.concatenate([c.name, UNKNOWN_COUNTIES])
        self.birth = pa.array(pop.birth.astype("datetime64[D]")).cast(pa.string())
        self.person_no = _strings(pop.hh_number.astype(np.int64)[pop.hh] * 100 + pop.pos + 1)
        self.phone = _strings(pop.hh_phone)
        # 公益性岗位（月数） agrees with the HR platform's assignments: the reconciliation of the two systems
        # (tolerance 5% per county) must pass on simulated data.
        self.prone = clerical_error_people(tl, seed)

    def build(self, year: int, month: int, dirty_rate: float) -> Snapshot:
        tl, pop = self.tl, self.tl.pop
        rng = np.random.default_rng([self.seed, 7, year, month])
        mi = year * 12 + month - 1
        rows = np.flatnonzero(tl.active(mi))
        w = tl.years[year]
        months = tl.months(year, month)
        post_m = tl.posts.months(pop.n, year, month)

        n_dirty = round(dirty_rate * len(rows))
        m_dirt = _split(n_dirty, MEMBER_DIRT, rng)
        prone = rows[self.prone[rows]]
        m_dirt["duplicate_person_year"] = min(m_dirt["duplicate_person_year"], len(prone))
        dup = rng.choice(prone, m_dirt["duplicate_person_year"], replace=False)
        take = np.sort(np.concatenate([rows, dup]))
        n = len(take)
        working = months[take] > 0
        # the other kinds touch distinct rows, never a duplicated pair, so each dirty row has one reason
        pick = rng.permutation(np.flatnonzero(~np.isin(take, dup) & self.prone[take]))
        spans, at = {}, 0
        for kind in MEMBER_DIRT[:3]:
            spans[kind] = pick[at:at + m_dirt[kind]]
            m_dirt[kind] = len(spans[kind])
            at += m_dirt[kind]
        rest = pick[at:]
        spans["location"] = rest[working[rest]][:m_dirt["location_missing_while_working"]]
        m_dirt["location_missing_while_working"] = len(spans["location"])

        ids = pop.ids[take].copy()
        ids[spans["bad_id_checksum"]] = corrupt_check(ids[spans["bad_id_checksum"]], rng)
        m_out = months[take].copy()
        m_out[spans["months_out_of_range"]] = rng.choice([13, -1, 14, 24], len(spans["months_out_of_range"]))
        county_idx = pop.person_county[take].copy()
        county_idx[spans["unknown_county"]] = pop.counties.n + rng.integers(
            0, len(UNKNOWN_COUNTIES), len(spans["unknown_county"]))
        loc = np.where(working, tl.location_at(year, month)[take], -1)
        loc[spans["location"]] = -1
        village = pop.hh_village[pop.hh[take]]
        ptype = np.where(post_m[take] > 0, tl.posts.person_type[take], -1)
        yulu = pop.yulu[take]

        members = {
            "省": _dict(np.zeros(n), ["云南省"]),
            "市": _dict(pop.hh_county[pop.hh[take]], pop.counties.prefecture),
            "县": _dict(county_idx, self.county_pool),
            "乡": _dict(village, pop.village_town),
            "村": _dict(village, pop.village_name),
            "户编号": _dict(pop.hh[take], pop.hh_number),
            "人口编号": self.person_no.take(pa.array(take)),
            "姓名": _dict(pop.name[take], pop.name_pool),
            "性别": _dict(pop.male[take].astype(np.int64), ["女", "男"]),
            "出生日期": self.birth.take(pa.array(take)),
            "证件类型": _dict(np.zeros(n), ["居民身份证"]),
            "证件号码": _strings(ids),
            "户联系电话": self.phone.take(pa.array(pop.hh[take])),
            "年度": _ints(np.full(n, year)),
            "与户主关系": _dict(pop.relation[take], P.RELATIONS),
            "文化程度": _dict(pop.education[take], P.EDUCATION),
            "在校生状况": _dict(pop.student[take], P.STUDENT),
            "劳动技能": _dict(pop.skill[take], P.SKILLS),
            "务工时间（月）": _ints(m_out),
            "务工企业名称": _dict(np.where(working, w.employer[take], -1), tl.employer_pool),
            "是否国外务工": _dict(((tl.region_at(year, month)[take] == 3) & working).astype(np.int64), ["否", "是"]),
            "公益性岗位类型": _dict(ptype, POST_TYPES),
            "公益性岗位（月数）": _ints(post_m[take], mask=ptype < 0),
            "就业渠道": _dict(np.where(working, w.channel[take], -1), CHANNELS),
            "务工所在地": _dict(loc, tl.location_pool),
            "雨露计划毕业年份": _ints(yulu, mask=yulu == 0),
        }
        assert list(members) == list(MEMBER_COLUMNS)
        households, h_dirt = self._households(year, month, months, rng, dirty_rate)
        return Snapshot(pa.table(members), households, m_dirt, h_dirt)

    def _households(self, year: int, month: int, months: np.ndarray, rng: np.random.Generator,
                    dirty_rate: float) -> tuple[pa.Table, dict[str, int]]:
        tl, pop = self.tl, self.tl.pop
        n_h = len(pop.hh_county)
        active = tl.active(year * 12 + month - 1)
        size = np.bincount(pop.hh, active, n_h).astype(np.int64)
        wage = np.bincount(pop.hh, np.where(active, tl.years[year].wage * months, 0.0), n_h)
        trend = 1.06 ** (year - 2022) * month / 12
        noise = np.random.default_rng([self.seed, 9, year]).lognormal(0, 0.05, (3, n_h))
        n_dirty = max(round(dirty_rate * n_h), 1 if dirty_rate > 0 else 0)
        dirt = _split(n_dirty, HOUSEHOLD_DIRT, rng)
        pick = rng.permutation(n_h)
        county_idx = pop.hh_county.copy()
        bad_c = pick[:dirt["unknown_county"]]
        county_idx[bad_c] = pop.counties.n + rng.integers(0, len(UNKNOWN_COUNTIES), len(bad_c))
        head_ids = pop.ids[pop.hh_head].copy()
        bad_id = pick[len(bad_c):len(bad_c) + dirt["bad_head_id_checksum"]]
        head_ids[bad_id] = corrupt_check(head_ids[bad_id], rng)
        v = pop.hh_village
        table = {
            "省": _dict(np.zeros(n_h), ["云南省"]),
            "市": _dict(pop.hh_county, pop.counties.prefecture),
            "县": _dict(county_idx, self.county_pool),
            "乡": _dict(v, pop.village_town),
            "村": _dict(v, pop.village_name),
            "户编号": pa.array(pop.hh_number),
            "户主姓名": _dict(pop.name[pop.hh_head], pop.name_pool),
            "户主证件号码": _strings(head_ids),
            "户类型": _dict(pop.hh_type, P.HOUSEHOLD_TYPES),
            "监测对象类别": _dict(pop.hh_category, P.CATEGORIES),
            "是否易地扶贫搬迁户": _dict(pop.hh_relocated.astype(np.int64), ["否", "是"]),
            "家庭人口数": _ints(size),
            "年度": _ints(np.full(n_h, year)),
            "工资性收入（元）": pa.array(np.round(wage, 2)),
            "生产经营性收入（元）": pa.array(np.round(pop.hh_business * trend * noise[0], 2)),
            "转移性收入（元）": pa.array(np.round(pop.hh_transfer * trend * noise[1], 2)),
            "财产性收入（元）": pa.array(np.round(pop.hh_property * trend * noise[2], 2)),
        }
        assert list(table) == list(HOUSEHOLD_COLUMNS)
        return pa.table(table), dirt


def vary_headers(table: pa.Table, year: int, month: int, seed: int) -> pa.Table:
    """Month-to-month drift of the export: half-width parentheses, shuffled order, extra columns."""
    k = year * 12 + month - 1
    rng = np.random.default_rng([seed, 11, k])
    names = list(table.column_names)
    if k % 2 == 1:
        names = [c.replace("（", "(").replace("）", ")") for c in names]
    table = table.rename_columns(names)
    n = table.num_rows
    if k % 4 == 1:
        remark = np.where(rng.random(n) < 0.1, rng.integers(0, len(REMARKS), n), -1)  # mostly empty
        table = table.append_column("备注", _dict(remark, REMARKS))
    if k % 5 == 3:
        stamp = f"{year:04d}-{month:02d}-{28 if month == 2 else 30} 18:{k % 60:02d}:00"
        table = table.append_column("数据更新时间", _dict(np.zeros(n), [stamp]))
    if k % 3 == 2:
        table = table.select(rng.permutation(table.num_columns).tolist())
    return table
