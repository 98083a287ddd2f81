"""Known-answer tests of the pace through the year (SPEC §2.1) on the HR scenario, worked out on paper.

progress_target_value is the annual target pro-rated to month M; progress_status compares the actual
value with it (on_track / behind), not_due before a KPI can be judged, and agrees with status in
December. Paper values from scenario.py:

avg_employment_months, snapshot 2022-03 (M = 3, pace target 8.5 × 3 ÷ 12 = 2.125):
    employed 脱贫人口 A1 3 months (W), B1 2 months (L), C1 3 months (Z); A4 is 一般农户.
    W 3/1 = 3.0 on_track · L 2/1 = 2.0 < 2.125 behind · Z 3.0 on_track · KM 5/2 = 2.5 on_track ·
    YN 8/3 = 2.667 on_track. status is not_met everywhere (annual target 8.5).
trained_persons (province target 700000 only):
    2023-03 YN 4 persons vs 700000 × 3 ÷ 12 = 175000 -> behind; counties no_target (pace target NULL).
    2022-12 YN 1 person vs 700000 (December) -> not_met / behind.
public_post_placements (holders of Y up to M vs holders of Y-1 up to the same month M):
    posts P1 A3 2021-05-01.. (W), P2 A2 2022-04-01..2022-10-31 (W), P3 C1 2023-02-01.. (Z),
    P5 B1 2022-01-01..2023-01-31 (L).
    2023-03: holders 2023 W {A3} 1, L {B1} 1, Z {C1} 1; whole 2022 W {A3, A2} 2, L {B1} 1, Z 0;
             2022 up to 03-31 W {A3} 1 (A2 starts in April), L {B1} 1, Z 0.
             W 1/2 = 0.5 not_met, pace target 1.0 × 1 ÷ 2 = 0.5 -> on_track (1 holder >= 1)
             L 1/1 met, pace target 1.0 -> on_track;  Z 1/0 no_data (pace target 1.0: 0 = 0 prior holders)
             KM 2/3 not_met, pace target 2/3 -> on_track;  YN 3/3 met, pace target 2/3 -> on_track
    2022-03: holders 2022 up to 03-31 W {A3} 1; whole 2021 W {A3} 1; 2021 up to 03-31: nobody (P1
             starts 2021-05-01) -> W 1/1 met, pace target 1.0 × 0 ÷ 1 = 0.0 -> on_track.
    2022-12: W 2/1 met, pace target 1.0 (prior year up to December = whole prior year) -> on_track.
Key groups, 2023-03: 禄劝县 重点帮扶县 未知 avg_employment_months 3.0 (B2) -> pace target 2.125, on_track.
"""

from __future__ import annotations

import pytest

from tests.knownanswer.pipeline import close, query, table_exists

from . import scenario as sc

W, L, Z, KM, ZT, YN = sc.W, sc.L, sc.Z, sc.KM, sc.ZT, sc.YN
N = None
PACE_OF = {"met": "on_track", "not_met": "behind", "no_target": "no_target", "no_data": "no_data"}

# (month, kpi, region) -> (actual, status, progress_target_value, progress_status)
PAPER: dict[tuple[str, str, str], tuple] = {
    ("2022-03", "avg_employment_months", W): (3.0, "not_met", 2.125, "on_track"),
    ("2022-03", "avg_employment_months", L): (2.0, "not_met", 2.125, "behind"),
    ("2022-03", "avg_employment_months", Z): (3.0, "not_met", 2.125, "on_track"),
    ("2022-03", "avg_employment_months", KM): (2.5, "not_met", 2.125, "on_track"),
    ("2022-03", "avg_employment_months", YN): (8 / 3, "not_met", 2.125, "on_track"),
    ("2023-03", "trained_persons", YN): (4, "not_met", 175000, "behind"),
    ("2023-03", "trained_persons", W): (2, "no_target", N, "no_target"),
    ("2022-12", "trained_persons", YN): (1, "not_met", 700000, "behind"),
    ("2023-03", "public_post_placements", W): (0.5, "not_met", 0.5, "on_track"),
    ("2023-03", "public_post_placements", L): (1.0, "met", 1.0, "on_track"),
    ("2023-03", "public_post_placements", Z): (N, "no_data", 1.0, "no_data"),
    ("2023-03", "public_post_placements", KM): (2 / 3, "not_met", 2 / 3, "on_track"),
    ("2023-03", "public_post_placements", YN): (1.0, "met", 2 / 3, "on_track"),
    ("2022-03", "public_post_placements", W): (1.0, "met", 0.0, "on_track"),
    ("2022-12", "public_post_placements", W): (2.0, "met", 1.0, "on_track"),
}


def _diff(row: dict | None, want: tuple) -> list[str]:
    if row is None:
        return ["row missing"]
    actual, status, target, progress = want
    out = []
    if not close(row["actual_value"], actual):
        out.append(f"actual_value {row['actual_value']!r} != paper {actual!r}")
    if row["status"] != status:
        out.append(f"status {row['status']!r} != paper {status!r}")
    if not close(row["progress_target_value"], target):
        out.append(f"progress_target_value {row['progress_target_value']!r} != paper {target!r}")
    if row["progress_status"] != progress:
        out.append(f"progress_status {row['progress_status']!r} != paper {progress!r}")
    return out


@pytest.fixture(scope="module")
def pace(hr_run) -> dict:
    hr_run.require_ok()
    rows = query(hr_run.warehouse, "select as_of_month, region_code, kpi_code, actual_value, target_value, status, "
                                   "progress_target_value, progress_status, kpi_label_zh from marts.kpi_scorecard")
    return {(r["as_of_month"], r["region_code"], r["kpi_code"]): r for r in rows}


def test_pace_known_answers(pace: dict) -> None:
    bad = [f"{m} {kpi} {region}: {d}" for (m, kpi, region), want in PAPER.items()
           for d in _diff(pace.get((sc.AS_OF[m], region, kpi)), want)]
    assert not bad, "\n".join(bad)


def test_december_status_and_progress_agree(pace: dict) -> None:
    """Every row of the 2022-12 snapshot: progress_status is status renamed, pace target = target."""
    m = sc.AS_OF["2022-12"]
    rows = [r for (month, _, _), r in pace.items() if month == m]
    assert len(rows) == 146 * len({k for (_, _, k) in pace})
    bad = [(r["region_code"], r["kpi_code"], r["status"], r["progress_status"]) for r in rows
           if PACE_OF[r["status"]] != r["progress_status"]]
    assert not bad, bad[:20]
    off = [(r["region_code"], r["kpi_code"], r["target_value"], r["progress_target_value"]) for r in rows
           if not close(r["progress_target_value"], r["target_value"])]
    assert not off, off[:20]


def test_group_scorecard_has_pace_and_labels(hr_run) -> None:
    hr_run.require_ok()
    rows = query(hr_run.warehouse, "select * from marts.kpi_scorecard_by_group where as_of_month = ? and "
                                   "region_code = ? and group_dimension = 'key_assistance_county' and "
                                   "group_value = '未知' and kpi_code = 'avg_employment_months'",
                 [sc.AS_OF["2023-03"], L])
    assert len(rows) == 1, rows
    row = rows[0]
    assert close(row["actual_value"], 3.0) and row["status"] == "not_met", row
    assert close(row["progress_target_value"], 2.125) and row["progress_status"] == "on_track", row
    assert row["kpi_label_zh"] == "脱贫人口人均务工时长（月）", row
    assert table_exists(hr_run.warehouse, "reference", "code_labels")


def test_marts_zh_of_the_hr_marts_show_labels(hr_run, tmp_path) -> None:
    """SPEC §2.2 with the HR marts filled (talent_type, service_type, check_code are codes in marts): no
    text value of a marts_zh view of the serving file is an English code."""
    import duckdb

    from dagster_project.serving import publish_serving_file
    from tests.serving.test_serving_file import english_codes_in_chinese_views

    hr_run.require_ok()
    published = publish_serving_file(hr_run.warehouse, tmp_path / "serving.duckdb")
    con = duckdb.connect(str(published.path), read_only=True)
    try:
        assert english_codes_in_chinese_views(con) == []
        assert {r[0] for r in con.execute("SELECT DISTINCT talent_type FROM marts.fct_rural_talent").fetchall()} == {
            "wealth_leader", "rural_craftsman"}                      # the marts keep the codes
        groups = {r[0] for r in con.execute(
            'SELECT DISTINCT "分组维度" FROM marts_zh.kpi_scorecard_by_group').fetchall()}
        assert groups == {"国家乡村振兴重点帮扶县", "易地扶贫搬迁户", "监测对象类别", "返乡回流"}
    finally:
        con.close()
