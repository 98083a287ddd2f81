"""Known-answer tests of the key-group breakdown (incl. the unknown key-assistance flag) and of the
system reconciliation with its Great Expectations check above and below the tolerance."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.knownanswer.pipeline import close, query

from . import scenario as sc

W, L, Z, KM, ZT, YN = sc.W, sc.L, sc.Z, sc.KM, sc.ZT, sc.YN
M = sc.AS_OF["2023-03"]
N = None


def _groups(warehouse: Path) -> dict[tuple, dict]:
    rows = query(warehouse, "select * from marts.kpi_scorecard_by_group where as_of_month = ?", [M])
    return {(r["region_code"], r["group_dimension"], r["group_value"], r["kpi_code"]): r for r in rows}


@pytest.fixture(scope="module")
def groups(hr_run) -> dict:
    hr_run.require_ok()
    return _groups(hr_run.warehouse)


# (region, dimension, value, kpi) -> (actual, numerator, denominator, status)
# employed 2023-03: A1 A2 (W) B2 (L) C1 C2 (Z); employed 2022-12: A1 A2 (W) B1 (L) C1 C2 (Z)
GROUP_PAPER = {
    # 禄劝县 has a blank 国家乡村振兴重点帮扶县 flag: its people stay in 未知 (never 否)
    (L, "key_assistance_county", "未知", "employment_vs_prior_year"): (1.0, 1, 1, "met"),        # B2 / B1
    (L, "key_assistance_county", "未知", "avg_employment_months"): (3.0, 3, 1, "not_met"),       # B2 3 months
    (L, "key_assistance_county", "未知", "out_of_province_share"): (1.0, 1, 1, "met"),           # B2 上海
    (L, "key_assistance_county", "未知", "organized_outflow_share"): (0.0, 0, 1, "not_met"),     # 企业招聘
    # H3 wage 6000 / 2 = 3000 vs 2022-03 5000 / 2 = 2500 -> 3000 / 2500 - 1 = 0.2 >= 0.18
    (L, "key_assistance_county", "未知", "wage_income_per_capita_growth"): (0.2, 3000, 2500, "met"),
    (L, "key_assistance_county", "是", "employment_vs_prior_year"): (N, 0, 0, "no_data"),
    (L, "key_assistance_county", "否", "employment_vs_prior_year"): (N, 0, 0, "no_data"),
    # 昆明市 = 五华区 (not a former poverty county: 否) + 禄劝县 (未知)
    (KM, "key_assistance_county", "否", "employment_vs_prior_year"): (1.0, 2, 2, "met"),        # A1 A2 / A1 A2
    (KM, "key_assistance_county", "未知", "employment_vs_prior_year"): (1.0, 1, 1, "met"),
    (KM, "key_assistance_county", "是", "employment_vs_prior_year"): (N, 0, 0, "no_data"),
    # province: 镇雄县 is a key assistance county
    (YN, "key_assistance_county", "是", "employment_vs_prior_year"): (1.0, 2, 2, "met"),        # C1 C2 / C1 C2
    (YN, "key_assistance_county", "是", "avg_employment_months"): (3.0, 6, 2, "not_met"),
    (YN, "key_assistance_county", "否", "avg_employment_months"): (2.5, 5, 2, "not_met"),      # A1 3 + A2 2
    # relocation: H3 blank -> 未知; H4 是
    (YN, "relocated", "未知", "employment_vs_prior_year"): (1.0, 1, 1, "met"),
    (YN, "relocated", "是", "out_of_province_share"): (0.5, 1, 2, "met"),                       # C2 of C1 C2
    (YN, "relocated", "否", "organized_outflow_share"): (N, 0, 0, "no_data"),                   # A1 A2 work 县内
    # monitoring category: H4 脱贫不稳定户; H1 H3 no category
    (YN, "monitoring_category", "脱贫不稳定户", "employment_vs_prior_year"): (1.0, 2, 2, "met"),
    (YN, "monitoring_category", "非监测对象", "employment_vs_prior_year"): (1.0, 3, 3, "met"),  # A1 A2 B2 / A1 A2 B1
    (YN, "monitoring_category", "边缘易致贫户", "employment_vs_prior_year"): (N, 0, 0, "no_data"),
    # returnees: A1 (省外 -> 县内), B1 (县外省内 -> not employed). C2 still 省外 -> 否.
    (YN, "returnee", "是", "employment_vs_prior_year"): (0.5, 1, 2, "not_met"),                 # A1 / A1 B1
    (YN, "returnee", "否", "employment_vs_prior_year"): (4 / 3, 4, 3, "met"),                  # A2 B2 C1 C2 / A2 C1 C2
    (YN, "returnee", "是", "out_of_province_share"): (0.0, 0, 1, "not_met"),                    # A1 now 县内
    (YN, "returnee", "未知", "employment_vs_prior_year"): (N, 0, 0, "no_data"),
}


def test_key_groups_2023_03(groups: dict) -> None:
    bad = []
    for key, (actual, num, den, status) in GROUP_PAPER.items():
        row = groups.get(key)
        if row is None:
            bad.append(f"{key}: row missing")
            continue
        for col, want in (("actual_value", actual), ("numerator", num), ("denominator", den)):
            if not close(row[col], want):
                bad.append(f"{key}: {col} {row[col]!r} != paper {want!r}")
        if row["status"] != status:
            bad.append(f"{key}: status {row['status']!r} != paper {status!r}")
    assert not bad, "\n".join(bad)


def test_unknown_flag_stays_unknown(hr_run, groups: dict) -> None:
    """dim_region keeps 禄劝县's flag NULL, and its people are never counted as 否."""
    flag = query(hr_run.warehouse, "select is_key_assistance_county, is_former_poverty_county "
                                   "from marts.dim_region where region_code = ?", [L])
    assert flag == [{"is_key_assistance_county": None, "is_former_poverty_county": True}]
    values = {v for (r, d, v, k), row in groups.items()
              if r == L and d == "key_assistance_county" and row["status"] != "no_data"}
    assert values == {"未知"}


def test_groups_partition_the_scorecard(hr_run) -> None:
    """Within each dimension the group numerators add up to the scorecard numerator."""
    bad = query(hr_run.warehouse, """
        with g as (
            select as_of_month, region_code, group_dimension, kpi_code, sum(numerator) as n
            from marts.kpi_scorecard_by_group
            where kpi_code in ('employment_vs_prior_year', 'avg_employment_months', 'organized_outflow_share')
            group by all)
        select g.* from g join marts.kpi_scorecard as s using (as_of_month, region_code, kpi_code)
        where g.n <> s.numerator""")
    assert bad == []


# ---------------------------------------------------------------------------------------------------
# Reconciliation (2023-03)
#   public_post       W: A3 (3 = 3), A4 (3 = 3) -> 0 / 2;  L: B1 (1 = 1) -> 0 / 1;
#                     Z: C1 exported 3 months, HR covers Feb-Mar = 2 -> 1 / 1 = 1.0
#   jobseeker_employed W: A3 not employed -> 0 / 1;  L: B1 ok, B2 employed -> 1 / 2 = 0.5;  Z: nobody -> NULL
#   hr_not_in_monitoring W: A1 A2 A3 A4 -> 0 / 4;  L: B1 B2 + X1 (X2 certified after 03-31) -> 1 / 3;
#                     Z: C1 C2 + X3 -> 1 / 3
# ---------------------------------------------------------------------------------------------------
RECON_PAPER = {
    (W, "public_post"): (2, 0, 0.0), (L, "public_post"): (1, 0, 0.0), (Z, "public_post"): (1, 1, 1.0),
    (W, "jobseeker_employed"): (1, 0, 0.0), (L, "jobseeker_employed"): (2, 1, 0.5),
    (Z, "jobseeker_employed"): (0, 0, N),
    (W, "hr_not_in_monitoring"): (4, 0, 0.0), (L, "hr_not_in_monitoring"): (3, 1, 1 / 3),
    (Z, "hr_not_in_monitoring"): (3, 1, 1 / 3),
}


def _recon(warehouse: Path) -> dict[tuple, dict]:
    rows = query(warehouse, "select * from marts.fct_system_reconciliation where as_of_month = ?", [M])
    return {(r["county_code"], r["check_code"]): r for r in rows}


def _check_passed(published) -> bool:
    """The result of the GE asset check on marts.fct_system_reconciliation, from the run's Dagster instance."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(published.scenario.root / "dagster_home"))
    try:
        key = dg.AssetCheckKey(dg.AssetKey(["marts", "fct_system_reconciliation"]), "ge_suite")
        record = instance.get_latest_asset_check_evaluation_record(key)
        assert record is not None, "the reconciliation check did not run"
        evaluation = record.event.dagster_event.event_specific_data
        return bool(evaluation.passed)
    finally:
        instance.dispose()


def test_reconciliation_counts(hr_run) -> None:
    hr_run.require_ok()
    recon = _recon(hr_run.warehouse)
    assert len([k for k in recon if k[0] is not None]) == 129 * 3
    bad = []
    for key, (compared, mismatches, rate) in RECON_PAPER.items():
        row = recon[key]
        counts = (row["compared_count"], row["mismatch_count"])
        if counts != (compared, mismatches) or not close(row["mismatch_rate"], rate):
            bad.append(f"{key}: {row['compared_count']}, {row['mismatch_count']}, {row['mismatch_rate']} "
                       f"!= paper {compared}, {mismatches}, {rate}")
    assert not bad, "\n".join(bad)


def test_reconciliation_above_default_tolerance_fails_the_check(hr_run) -> None:
    """Default tolerance 0.05: Z public_post 1.0, L jobseeker 0.5 and L/Z 1/3 exceed it, W's 0 does not;
    the GE check fails (non-blocking: `zengshou run` still exits 0)."""
    hr_run.require_ok()
    recon = _recon(hr_run.warehouse)
    assert all(close(r["tolerance"], 0.05) for r in recon.values())
    exceeding = {k for k, r in recon.items() if r["exceeds_tolerance"]}
    assert exceeding == {(Z, "public_post"), (L, "jobseeker_employed"), (L, "hr_not_in_monitoring"),
                         (Z, "hr_not_in_monitoring")}
    assert _check_passed(hr_run) is False


def test_reconciliation_below_configured_tolerance_passes_the_check(hr_run_tolerant) -> None:
    """ZENGSHOU_RECONCILIATION_TOLERANCE=1.0: the same mismatch rates (max 1.0) are within it."""
    hr_run_tolerant.require_ok()
    recon = _recon(hr_run_tolerant.warehouse)
    assert all(close(r["tolerance"], 1.0) for r in recon.values())
    assert not any(r["exceeds_tolerance"] for r in recon.values())
    assert close(recon[(Z, "public_post")]["mismatch_rate"], 1.0)
    assert _check_passed(hr_run_tolerant) is True
