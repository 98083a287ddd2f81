"""Known-answer tests of the eight HR-based KPIs (SPEC §2), worked out on paper from scenario.py.

Snapshot 2023-03 unless stated (month end 2023-03-31). Population P: A1 A2 A3 (W), B1 B2 (L),
C1 C2 (Z); A4 is 一般农户. Employed in 2023-03: A1 A2 B2 C1 C2; not employed: A3 B1.
"""

from __future__ import annotations

import pytest

from tests.knownanswer.pipeline import close, scorecard

from . import scenario as sc

W, L, Z, KM, ZT, YN = sc.W, sc.L, sc.Z, sc.KM, sc.ZT, sc.YN
M = sc.AS_OF["2023-03"]
N = None  # NULL

# kpi -> region -> (actual, numerator, denominator, status)
PAPER: dict[str, dict[str, tuple]] = {
    # trained = completed, end_date in 2023 and <= 03-31: A1 (02-15), A2 (03-31), B1 (03-01), C2 (two
    # trainings, one person). Not: A3 (ends 04-10), B2 (not completed), C1 (2022), A4 (一般农户).
    # Target 700000 at province only -> not_met there, no_target elsewhere.
    "trained_persons": {
        W: (2, 2, N, "no_target"), L: (1, 1, N, "no_target"), Z: (1, 1, N, "no_target"),
        KM: (3, 3, N, "no_target"), ZT: (1, 1, N, "no_target"), YN: (4, 4, N, "not_met")},
    # certified in 2023 (<= 03-31): A1 (03-20), C2 (01-20). A2's is from 2022, B1's from 04-02.
    "certified_rate": {
        W: (1 / 2, 1, 2, "no_target"), L: (0.0, 0, 1, "no_target"), Z: (1.0, 1, 1, "no_target"),
        KM: (1 / 3, 1, 3, "no_target"), ZT: (1.0, 1, 1, "no_target"), YN: (2 / 4, 2, 4, "no_target")},
    # employed among trained: A1, A2, C2 (B1 is not employed)
    "post_training_employment_rate": {
        W: (2 / 2, 2, 2, "no_target"), L: (0.0, 0, 1, "no_target"), Z: (1.0, 1, 1, "no_target"),
        KM: (2 / 3, 2, 3, "no_target"), ZT: (1.0, 1, 1, "no_target"), YN: (3 / 4, 3, 4, "no_target")},
    # holders in 2023 up to 03-31: A3 (P1), B1 (P5, ends 01-31), C1 (P3, from 02-01);
    # holders in 2022: A3 (P1), A2 (P2), B1 (P5). Z: 1 / 0 -> no_data.
    "public_post_placements": {
        W: (1 / 2, 1, 2, "not_met"), L: (1.0, 1, 1, "met"), Z: (N, 1, 0, "no_data"),
        KM: (2 / 3, 2, 3, "not_met"), ZT: (N, 1, 0, "no_data"), YN: (3 / 3, 3, 3, "met")},
    # due = periods 2023-01, 2023-02: S1 A3 ok (paid 02-28, last day of T+1), S2 A3 late (04-01),
    # S4 B1 not in full (500 of 600), S5 C1 ok. S3 (period 03) not due; S6 一般农户; S7 2022.
    "subsidy_on_time_full_rate": {
        W: (1 / 2, 1, 2, "not_met"), L: (0.0, 0, 1, "not_met"), Z: (1.0, 1, 1, "met"),
        KM: (1 / 3, 1, 3, "not_met"), ZT: (1.0, 1, 1, "met"), YN: (2 / 4, 2, 4, "not_met")},
    # employed brand members: 2023-03 A1, C1, C2 (joined 03-31); B1 not employed.
    #                         2022-03 A1, B1 (C1 joined 2022-05, C2 not a member).
    # W 1/1-1 = 0; L 0/1-1 = -1; Z 2/0 -> no_data; KM 1/2-1 = -0.5; YN 3/2-1 = 0.5 >= 0.05
    "labor_brand_employment_growth": {
        W: (0.0, 1, 1, "not_met"), L: (-1.0, 0, 1, "not_met"), Z: (N, 2, 0, "no_data"),
        KM: (-0.5, 1, 2, "not_met"), ZT: (N, 2, 0, "no_data"), YN: (0.5, 3, 2, "met")},
    # villages of P: 沙朗村 (W) leaders R1 R2 R3 (R3 is 一般农户 A4: still a leader) -> 3, qualifies;
    # 崇德村 (L) R4 R5 (+ craftsman R6, R7 certified 04-15) -> 2; 以勒村 (Z) R8 R9 R10 (' 以勒村 ', 03-31) -> 3.
    "wealth_leader_village_share": {
        W: (1.0, 1, 1, "met"), L: (0.0, 0, 1, "not_met"), Z: (1.0, 1, 1, "met"),
        KM: (1 / 2, 1, 2, "not_met"), ZT: (1.0, 1, 1, "met"), YN: (2 / 3, 2, 3, "not_met")},
    # willing but unemployed: A3 (J1), B1 (J2); B2 wants work but is employed, C1 does not want.
    # A3 got 1 guidance + 3 referrals + 1 training referral; B1 only 2 referrals by 03-31.
    "service_131_coverage": {
        W: (1.0, 1, 1, "met"), L: (0.0, 0, 1, "not_met"), Z: (N, 0, 0, "no_data"),
        KM: (1 / 2, 1, 2, "not_met"), ZT: (N, 0, 0, "no_data"), YN: (1 / 2, 1, 2, "not_met")},
}

# A few values of the 2022-12 snapshot (Y = 2022): trainings ending in 2022 (C1, 11-30), the 2022
# subsidy (S7 A2 period 2022-09 paid 10-05), post holders 2022 (A3 A2 B1) vs 2021 (A3), and no
# 2021-12 snapshot for the labour-brand comparison (employed members at 2022-12: A1, C1 (joined
# 2022-05), B1 -> numerator 3, denominator NULL).
PAPER_2022_12: dict[tuple[str, str], tuple] = {
    ("trained_persons", YN): (1, 1, N, "not_met"),
    ("trained_persons", Z): (1, 1, N, "no_target"),
    ("trained_persons", W): (0, 0, N, "no_target"),
    ("subsidy_on_time_full_rate", W): (1.0, 1, 1, "met"),
    ("subsidy_on_time_full_rate", L): (N, 0, 0, "no_data"),
    ("public_post_placements", W): (2.0, 2, 1, "met"),
    ("public_post_placements", L): (N, 1, 0, "no_data"),
    ("public_post_placements", YN): (3.0, 3, 1, "met"),
    ("labor_brand_employment_growth", YN): (N, 3, N, "no_data"),
}

TARGETS = {"trained_persons": 700000, "public_post_placements": 1.0, "subsidy_on_time_full_rate": 1.0,
           "labor_brand_employment_growth": 0.05, "wealth_leader_village_share": 1.0,
           "service_131_coverage": 1.0}


def _diff(row: dict | None, want: tuple) -> list[str]:
    if row is None:
        return ["row missing"]
    actual, num, den, status = want
    out = []
    for col, value in (("actual_value", actual), ("numerator", num), ("denominator", den)):
        if not close(row[col], value):
            out.append(f"{col} {row[col]!r} != paper {value!r}")
    if row["status"] != status:
        out.append(f"status {row['status']!r} != paper {status!r}")
    target = TARGETS.get(row["kpi_code"])
    want_target = target if (row["kpi_code"] != "trained_persons" or row["region_level"] == "province") else None
    if not close(row["target_value"], want_target):
        out.append(f"target_value {row['target_value']!r} != {want_target!r}")
    return out


@pytest.fixture(scope="module")
def card(hr_run) -> dict:
    hr_run.require_ok()
    return scorecard(hr_run.warehouse)


@pytest.mark.parametrize("kpi", list(PAPER))
def test_hr_kpi_2023_03(card: dict, kpi: str) -> None:
    bad = [f"{region}: {d}" for region, want in PAPER[kpi].items()
           for d in _diff(card.get((M, region, kpi)), want)]
    assert not bad, f"{kpi} @ {M}:\n" + "\n".join(bad)


def test_hr_kpis_2022_12(card: dict) -> None:
    m = sc.AS_OF["2022-12"]
    bad = [f"{kpi} {region}: {d}" for (kpi, region), want in PAPER_2022_12.items()
           for d in _diff(card.get((m, region, kpi)), want)]
    assert not bad, "\n".join(bad)


def test_every_region_has_every_hr_kpi(card: dict) -> None:
    """146 regions × 3 snapshots × 8 HR KPIs; a region without data (官渡区 530111) is no_data."""
    for kpi in PAPER:
        rows = [r for (m, _, k), r in card.items() if k == kpi]
        assert len(rows) == 146 * len(sc.MONTHS), kpi
        row = card[(M, "530111", kpi)]
        assert row["actual_value"] is None and row["status"] == "no_data", row
