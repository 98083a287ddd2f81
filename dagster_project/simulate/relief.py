"""以工代赈 project ledgers (SPEC §3.3): one report file per month, `relief/<YYYY>/<YYYY-MM>.xlsx`
(every third as .csv), each listing the projects that started that month plus restatements of
earlier projects of the year (same 项目编号, updated amounts as remuneration is paid out).

Final ratios are mostly above the notice's rules (30% for 中央预算内投资, 20% for 衔接资金), with
≈8% of projects below; projects on other funds (e.g. 省级财政资金) have no rule. A project's first
report shows part of its remuneration, so a project can look non-compliant until it is restated.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from dagster_project.simulate.geo import Counties
from dagster_project.simulate.scales import Month
from dagster_project.simulate.writers import write_table
from dagster_project.source_shapes import FUND_BRIDGING, FUND_CENTRAL_BUDGET, RELIEF_COLUMNS

FUNDS = (FUND_CENTRAL_BUDGET, FUND_BRIDGING, "省级财政资金", "市县财政资金", "地方政府专项债券")
FUND_P = (0.45, 0.40, 0.08, 0.04, 0.03)
WORKS = ("农村道路建设", "小型水利设施", "高标准农田建设", "人居环境整治", "产业路修缮", "灌溉沟渠改造",
         "河道治理", "村内道路硬化")


def write_relief(out_dir: Path, counties: Counties, months: list[Month], per_county: int,
                 seed: int) -> dict[str, int]:
    """Write every report file from January of the first year to the end month; return rows per file."""
    written: dict[str, int] = {}
    end = months[-1]
    for year in range(months[0].year, end.year + 1):  # one iteration per year
        rng = np.random.default_rng([seed, 31, year])
        n = counties.n * per_county
        county = np.repeat(np.arange(counties.n), per_county)
        start_m = rng.integers(1, 13, n)
        fund = rng.choice(len(FUNDS), n, p=FUND_P)
        central = np.round(rng.uniform(30, 600, n), 2)
        rule = np.select([fund == 0, fund == 1], [0.30, 0.20], 0.0)
        bad = rng.random(n) < 0.08
        ratio = np.where(rule > 0, np.where(bad, rule * rng.uniform(0.5, 0.97, n), rule + rng.uniform(0.005, 0.15, n)),
                         rng.uniform(0.1, 0.3, n))
        final = np.round(central * ratio, 2)
        first_share = np.where(rng.random(n) < 0.5, rng.uniform(0.4, 0.9, n), 1.0)
        restate_m = np.minimum(start_m + rng.integers(1, 5, n), 12)
        ids = np.strings.add(f"YGDZ{year}-", np.strings.add(counties.code[county].astype("U6"),
                             np.strings.add("-", np.strings.zfill((np.arange(n) % per_county + 1).astype("U3"), 3))))
        names = np.strings.add(np.strings.add(counties.name[county].astype(str), f"{year}年"),
                               np.array(WORKS)[rng.integers(0, len(WORKS), n)])
        day0 = (np.datetime64(f"{year}-01-01", "M") + (start_m - 1).astype("timedelta64[M]")).astype("datetime64[D]")
        begin_all = day0 + rng.integers(0, 27, n).astype("timedelta64[D]")
        finish_all = begin_all + rng.integers(60, 240, n).astype("timedelta64[D]")
        for m in range(1, 13):
            month = Month(year * 12 + m - 1)
            if month.index > end.index:
                break
            new = start_m == m
            restated = (restate_m == m) & (first_share < 1.0) & (start_m < m)
            rows = np.flatnonzero(new | restated)
            pay = np.where(restated[rows], final[rows], np.round(final[rows] * first_share[rows], 2))
            workers = np.maximum((pay * 10000 / rng.uniform(4000, 9000, len(rows))).astype(np.int64), 1)
            begin, finish = begin_all[rows], finish_all[rows]
            table = pa.table({
                "年度": pa.array(np.full(len(rows), year)),
                "项目编号": pa.array(ids[rows]),
                "项目名称": pa.array(names[rows]),
                "市": pa.array(counties.prefecture[county[rows]].astype(str)),
                "县": pa.array(counties.name[county[rows]].astype(str)),
                "资金来源": pa.array(np.array(FUNDS)[fund[rows]]),
                "中央资金（万元）": pa.array(central[rows]),
                "劳务报酬发放金额（万元）": pa.array(pay),
                "带动务工人数": pa.array(workers),
                "其中脱贫人口数": pa.array((workers * rng.uniform(0.4, 0.8, len(rows))).astype(np.int64)),
                "开工日期": pa.array(np.datetime_as_string(begin, unit="D")),
                "完工日期": pa.array(np.datetime_as_string(finish, unit="D")),
            })
            assert table.column_names == list(RELIEF_COLUMNS)
            kind = "utf-8-sig" if m % 3 == 0 else "xlsx"
            path, _ = write_table(table, out_dir / "relief" / str(year) / str(month), kind)
            written[str(path.relative_to(out_dir))] = table.num_rows
    return written
