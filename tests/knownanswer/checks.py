"""Comparisons of a warehouse scorecard with the paper values, reporting every mismatch at once."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

from . import scenario as sc
from .pipeline import close

SEED = Path(__file__).resolve().parents[2] / "seeds" / "yunnan_counties.csv"


@cache
def regions() -> dict[str, tuple[str, str, str | None]]:
    """region_code -> (region_level, region_name, parent_code): 1 province + 16 prefectures + 129 counties."""
    ref = pd.read_csv(SEED, dtype=str)
    out: dict[str, tuple[str, str, str | None]] = {"530000": ("province", "云南省", None)}
    for r in ref.itertuples():
        out[r.prefecture_code] = ("prefecture", r.prefecture_name_zh, "530000")
        out[r.county_code] = ("county", r.county_name_zh, r.prefecture_code)
    assert len(out) == 146
    return out


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return repr(v)


def compare(row: dict | None, exp: sc.Expect, kpi: str) -> list[str]:
    """Differences between one scorecard row and its paper value (empty list = equal)."""
    if row is None:
        return ["row missing"]
    diffs = []
    if not close(row["actual_value"], exp.actual):
        diffs.append(f"actual_value {_fmt(row['actual_value'])} != paper {_fmt(exp.actual)}")
    if row["status"] != exp.status:
        diffs.append(f"status {row['status']!r} != paper {exp.status!r}")
    for col, want in (("numerator", exp.num), ("denominator", exp.den)):
        got = row[col]
        if want == sc.ANY:
            continue
        if want == sc.ZERO_OR_NULL:
            if got not in (None, 0, 0.0):
                diffs.append(f"{col} {_fmt(got)} != paper 0 or NULL")
        elif not close(got, want):
            diffs.append(f"{col} {_fmt(got)} != paper {_fmt(want)}")
    if kpi == "wage_income_per_capita_growth" and exp.actual is not None:
        num, den = row["numerator"], row["denominator"]
        if num is not None and den not in (None, 0, 0.0):
            q = float(num) / float(den)
            if not (close(q - 1, exp.actual, rel=1e-4, abs_=1e-6) or close(q, exp.actual, rel=1e-4, abs_=1e-6)):
                diffs.append(f"numerator/denominator {_fmt(num)}/{_fmt(den)} inconsistent with growth "
                             f"{_fmt(exp.actual)}")
    if not close(row["target_value"], sc.TARGETS[kpi]):
        diffs.append(f"target_value {_fmt(row['target_value'])} != {sc.TARGETS[kpi]}")
    if row["comparator"] != ">=":
        diffs.append(f"comparator {row['comparator']!r} != '>='")
    return diffs


def mismatches(card: dict, as_of: str, kpi: str, overrides: dict | None = None) -> list[str]:
    """Every region's differences for one (as_of_month, kpi); overrides: {(as_of, region, kpi): Expect}."""
    out = []
    for region in regions():
        exp = (overrides or {}).get((as_of, region, kpi)) or sc.expected(as_of, region, kpi)
        for d in compare(card.get((as_of, region, kpi)), exp, kpi):
            out.append(f"{as_of} {region} {regions()[region][1]} {kpi}: {d}")
    return out


def report(lines: list[str], limit: int = 60) -> str:
    more = f"\n... and {len(lines) - limit} more" if len(lines) > limit else ""
    return f"{len(lines)} mismatches:\n" + "\n".join(lines[:limit]) + more
