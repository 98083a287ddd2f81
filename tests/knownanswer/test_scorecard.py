"""marts.kpi_scorecard against the paper values of scenario.py (SPEC §2, §4)."""

from __future__ import annotations

from collections import Counter

import pytest

from . import scenario as sc
from .checks import compare, mismatches, regions, report
from .conftest import Published
from .pipeline import close, query, scorecard

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def card(main_run: Published) -> dict:
    main_run.require_ok()
    return scorecard(main_run.warehouse)


def test_run_exits_0(main_run: Published) -> None:
    main_run.require_ok()


def test_scorecard_is_complete(main_run: Published, card: dict) -> None:
    """Every snapshot × 146 regions (1 + 16 + 129) × each KPI, once."""
    main_run.require_ok()
    rows = query(main_run.warehouse, "select as_of_month, region_code, kpi_code, count(*) as n "
                                     "from marts.kpi_scorecard group by all having count(*) > 1")
    assert rows == [], f"grain as_of_month × region_code × kpi_code is not unique: {rows[:5]}"
    months = {k[0] for k in card}
    assert months == set(sc.AS_OF.values()), f"snapshots in scorecard: {sorted(months)}"
    missing = [(m, r, k) for m in sc.AS_OF.values() for r in regions() for k in sc.KPIS
               if (m, r, k) not in card]
    assert not missing, f"{len(missing)} scorecard rows missing, e.g. {missing[:10]}"
    levels = Counter(v[0] for v in regions().values())
    assert levels == {"province": 1, "prefecture": 16, "county": 129}
    bad_meta = []
    for (m, r, _k), row in card.items():
        if r not in regions():
            bad_meta.append(f"unknown region_code {r!r}")
            continue
        level, name, _parent = regions()[r]
        if row["region_level"] != level:
            bad_meta.append(f"{r} region_level {row['region_level']!r} != {level!r}")
        if row["region_name"] != name:
            bad_meta.append(f"{r} region_name {row['region_name']!r} != {name!r}")
        if row["year"] is None or int(row["year"]) != int(m[:4]):
            bad_meta.append(f"{m} {r} year {row['year']!r}")
    assert not bad_meta, report(sorted(set(bad_meta)))


@pytest.mark.parametrize("as_of", sorted(sc.AS_OF.values()))
@pytest.mark.parametrize("kpi", sc.KPIS)
def test_known_answer(card: dict, as_of: str, kpi: str) -> None:
    """actual_value, numerator, denominator, target_value, comparator, status for all 146 regions."""
    lines = mismatches(card, as_of, kpi)
    assert not lines, report(lines)


def test_county_without_data_is_no_data(card: dict) -> None:
    """官渡区 (530111) and 大理州 (532900) have no rows anywhere: NULL actual, status no_data."""
    bad = []
    for region in (sc.GD, sc.DALI):
        for m in sc.AS_OF.values():
            for k in sc.KPIS:
                row = card.get((m, region, k))
                if row is None or row["actual_value"] is not None or row["status"] != "no_data":
                    bad.append((m, region, k, row and (row["actual_value"], row["status"])))
    assert not bad, bad[:20]


def test_zero_denominator_with_people_present(card: dict) -> None:
    """镇雄县 has employed 脱贫人口 but none out of county: 0 / 0 -> NULL, no_data (SPEC §2 last rule)."""
    for m in sc.AS_OF.values():
        for region in (sc.Z, sc.ZT):
            row = card[(m, region, "organized_outflow_share")]
            assert row["actual_value"] is None, row
            assert row["status"] == "no_data", row
            assert close(row["denominator"], 0), row
            assert close(row["numerator"], 0), row


def test_status_is_consistent_with_actual_and_target(card: dict) -> None:
    bad = []
    for (m, r, k), row in card.items():
        if k not in sc.KPIS:
            continue
        a, t = row["actual_value"], row["target_value"]
        want = "no_data" if a is None else ("met" if float(a) >= float(t) - 1e-9 else "not_met")
        if row["status"] != want:
            bad.append((m, r, k, a, t, row["status"]))
    assert not bad, bad[:20]


def test_boundaries_are_inclusive(card: dict) -> None:
    """>= targets: 3/3 = 1.00 for employment_vs_prior_year and 30/100 = 0.30 for the central budget."""
    m = sc.AS_OF["2023-03"]
    assert not compare(card.get((m, sc.W, "employment_vs_prior_year")), sc.E(3, 3, "met"),
                       "employment_vs_prior_year")
    assert not compare(card.get((m, sc.W, "relief_ratio_central_budget")), sc.E(30, 100, "met"),
                       "relief_ratio_central_budget")


def test_general_farmer_households_are_outside_every_kpi(card: dict) -> None:
    """With H3 (一般农户) counted, 五华区 would read 5/3 employed in 2023-03 and 1/2 yulu graduates."""
    m = sc.AS_OF["2023-03"]
    assert close(card[(m, sc.W, "employment_vs_prior_year")]["numerator"], 3)
    assert close(card[(m, sc.W, "yulu_graduate_employment_rate")]["denominator"], 1)
    assert close(card[(m, sc.W, "wage_income_per_capita_growth")]["actual_value"], 0.19)


def test_restated_ledger_later_file_wins(card: dict) -> None:
    """YGDZ-2023-003 is 8 万元 in 2023-06 and 12 万元 in 2023-09: 五华区 bridging ratio 12/50, not 8/50 or 20/100."""
    for m in (sc.AS_OF["2023-01"], sc.AS_OF["2023-03"]):
        row = card[(m, sc.W, "relief_ratio_bridging_funds")]
        assert close(row["actual_value"], 0.24), row
        assert close(row["numerator"], 12) and close(row["denominator"], 50), row
