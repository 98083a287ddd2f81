"""marts.kpi_scorecard against the paper values of scenario.py (SPEC §2, §4)."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.serving.conftest import bi_db  # noqa: F401  (PostgreSQL fixture for the marts_zh test)

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


def test_run_says_one_line_at_the_default_log_level(main_run: Published) -> None:
    """SPEC §5: the run ends with its one-line outcome; at the default ZENGSHOU_LOG_LEVEL (WARNING) that is
    all it prints. dagster-dbt wrote all ≈ 550 dbt events to stdout, GE an INFO line per validation, and
    dagster-dbt warned about three singular tests on every run (runner._LinesToLog, cli.console_level,
    the tests' meta dagster.ref)."""
    main_run.require_ok()
    assert main_run.run.stdout.splitlines() == [main_run.run.stdout.strip()], main_run.run.stdout[-2000:]
    assert main_run.run.stdout.startswith("OK: "), main_run.run.stdout[-2000:]
    assert main_run.run.stderr.strip() == "", main_run.run.stderr[-3000:]


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


# ---- pace through the year (SPEC §2.1) and Chinese labels (§2.2) -------------------------------------------
# Paper values: (progress_target_value, progress_status) per (snapshot, KPI, region); unlisted regions of a
# listed (snapshot, KPI) take REST. M = month of the snapshot.
#   avg_employment_months, pro-rated 8.5 × M ÷ 12: M = 3 -> 2.125, M = 1 -> 0.708333, December -> 8.5.
#     2022-03: W 2.667, P 2.5, Z 3, KM 2.6, YN 2.667 all >= 2.125 -> on_track (status not_met everywhere)
#     2022-12: W 11.0, P 9.667, KM 10.333, YN 9.75 on_track; Z, ZT 8.0 < 8.5 behind (= status, December)
#     2023-01: every region 1.0 >= 0.708 -> on_track;  2023-03: 2.667 / 2.667 / 3 / 2.667 / 3 / 2.714 on_track
#   q1_progress (as status from March): 2023-01 -> not_due in every region, even without data (官渡区);
#     2023-03 as status; 2022-03 / 2022-12 NULL -> no_data.
#   yulu_graduate_employment_rate (as status from July): every snapshot before July -> not_due (also
#     2023-03 where B2's 1/1 is met); 2022-12 as status (P 1/1 on_track, W no graduate -> no_data).
#   employment_vs_prior_year (as status): 2023-03 W 3/3 on_track, Z 1/2 behind.
PACE_REST = "<rest>"
PACE_PAPER: dict[tuple[str, str], dict[str, tuple[float | None, str]]] = {
    ("2022-03", "avg_employment_months"): {r: (2.125, "on_track") for r in sc.DATA_REGIONS} | {
        PACE_REST: (2.125, "no_data")},
    ("2022-12", "avg_employment_months"): {
        sc.W: (8.5, "on_track"), sc.P: (8.5, "on_track"), sc.Z: (8.5, "behind"), sc.KM: (8.5, "on_track"),
        sc.ZT: (8.5, "behind"), sc.YN: (8.5, "on_track"), PACE_REST: (8.5, "no_data")},
    ("2023-01", "avg_employment_months"): {r: (8.5 / 12, "on_track") for r in sc.DATA_REGIONS} | {
        PACE_REST: (8.5 / 12, "no_data")},
    ("2023-03", "avg_employment_months"): {r: (2.125, "on_track") for r in sc.DATA_REGIONS} | {
        PACE_REST: (2.125, "no_data")},
    ("2023-01", "q1_progress"): {PACE_REST: (0.9, "not_due")},
    ("2023-03", "q1_progress"): {
        sc.W: (0.9, "on_track"), sc.P: (0.9, "on_track"), sc.Z: (0.9, "behind"), sc.KM: (0.9, "on_track"),
        sc.ZT: (0.9, "behind"), sc.YN: (0.9, "behind"), PACE_REST: (0.9, "no_data")},
    ("2022-03", "q1_progress"): {PACE_REST: (0.9, "no_data")},
    ("2022-12", "q1_progress"): {PACE_REST: (0.9, "no_data")},
    ("2022-03", "yulu_graduate_employment_rate"): {PACE_REST: (0.9, "not_due")},
    ("2023-01", "yulu_graduate_employment_rate"): {PACE_REST: (0.9, "not_due")},
    ("2023-03", "yulu_graduate_employment_rate"): {PACE_REST: (0.9, "not_due")},
    ("2022-12", "yulu_graduate_employment_rate"): {
        sc.P: (0.9, "on_track"), sc.KM: (0.9, "on_track"), sc.YN: (0.9, "on_track"), PACE_REST: (0.9, "no_data")},
    ("2023-03", "employment_vs_prior_year"): {
        sc.W: (1.0, "on_track"), sc.P: (1.0, "on_track"), sc.Z: (1.0, "behind"), sc.KM: (1.0, "on_track"),
        sc.ZT: (1.0, "behind"), sc.YN: (1.0, "behind"), PACE_REST: (1.0, "no_data")},
}
PACE_OF = {"met": "on_track", "not_met": "behind", "no_target": "no_target", "no_data": "no_data"}


@pytest.fixture(scope="module")
def pace_card(main_run: Published) -> dict:
    main_run.require_ok()
    rows = query(main_run.warehouse, "select as_of_month, region_code, kpi_code, status, target_value, "
                                     "progress_target_value, progress_status, kpi_label_zh from marts.kpi_scorecard")
    return {(r["as_of_month"], r["region_code"], r["kpi_code"]): r for r in rows}


@pytest.mark.parametrize(("month", "kpi"), sorted(PACE_PAPER))
def test_pace_known_answer(pace_card: dict, month: str, kpi: str) -> None:
    """progress_target_value and progress_status of every one of the 146 regions, on paper."""
    paper = PACE_PAPER[(month, kpi)]
    bad = []
    for region in regions():
        target, progress = paper.get(region, paper[PACE_REST])
        row = pace_card.get((sc.AS_OF[month], region, kpi))
        if row is None:
            bad.append(f"{region}: row missing")
            continue
        if not close(row["progress_target_value"], target):
            bad.append(f"{region}: progress_target_value {row['progress_target_value']!r} != paper {target!r}")
        if row["progress_status"] != progress:
            bad.append(f"{region}: progress_status {row['progress_status']!r} != paper {progress!r}")
    assert not bad, report(bad)


def test_december_status_and_progress_agree(pace_card: dict) -> None:
    """2022-12 is the scenario's December snapshot: both columns judge the whole year, on every row."""
    rows = [r for (m, _, _), r in pace_card.items() if m == sc.AS_OF["2022-12"]]
    assert rows
    bad = [(r["region_code"], r["kpi_code"], r["status"], r["progress_status"], r["target_value"],
            r["progress_target_value"]) for r in rows
           if PACE_OF[r["status"]] != r["progress_status"] or not close(r["progress_target_value"], r["target_value"])]
    assert not bad, bad[:20]


def test_kpi_label_zh_from_the_seed(pace_card: dict) -> None:
    labels = {k: r["kpi_label_zh"] for (_, _, k), r in pace_card.items()}
    assert labels["avg_employment_months"] == "脱贫人口人均务工时长（月）"
    assert labels["q1_progress"] == "第一季度完成年度就业目标进度"
    assert all(labels.values()), [k for k, v in labels.items() if not v]


def test_marts_zh_shows_chinese_labels_not_codes(main_run: Published, tmp_path) -> None:
    """SPEC §2.2 on the pipeline's own marts: no text value of any marts_zh view in the serving file is an
    English code; statuses, pace and region levels read 达标 / 进度正常 / 州市 …"""
    import duckdb

    from dagster_project.serving import publish_serving_file
    from tests.serving.test_serving_file import english_codes_in_chinese_views

    main_run.require_ok()
    published = publish_serving_file(main_run.warehouse, tmp_path / "serving.duckdb")
    con = duckdb.connect(str(published.path), read_only=True)
    try:
        assert english_codes_in_chinese_views(con) == []
        seen = con.execute('SELECT "地区层级", "状态", "进度状态" FROM marts_zh.kpi_scorecard'
                           " WHERE \"快照月份\" = DATE '2023-01-01' AND \"指标名称\" = '第一季度完成年度就业目标进度'"
                           ' AND "地区代码" IN (?, ?, ?)', [sc.YN, sc.KM, sc.W]).fetchall()
        assert sorted(seen) == sorted([("省", "无数据", "未到考核期"), ("州市", "无数据", "未到考核期"),
                                       ("县市区", "无数据", "未到考核期")])
        assert con.execute("SELECT DISTINCT progress_status FROM marts.kpi_scorecard WHERE as_of_month = "
                           "DATE '2023-01-01' AND kpi_code = 'q1_progress'").fetchall() == [("not_due",)]
    finally:
        con.close()


@pytest.mark.postgres
def test_postgres_marts_zh_shows_chinese_labels(main_run: Published, bi_db) -> None:  # noqa: F811
    """The same on PostgreSQL: publish the pipeline's marts, scan every marts_zh view's text columns."""
    from dagster_project.serving import publish_postgres

    main_run.require_ok()
    publish_postgres(main_run.warehouse, bi_db.url, role_prefix=bi_db.prefix)
    conn = bi_db.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT z.table_name, z.column_name FROM information_schema.columns z"
                        " JOIN information_schema.columns m ON m.table_schema = 'marts'"
                        " AND m.table_name = z.table_name AND m.ordinal_position = z.ordinal_position"
                        " WHERE z.table_schema = 'marts_zh' AND z.data_type = 'text'"
                        " AND m.column_name NOT LIKE '%\\_key'")
            columns = cur.fetchall()
            assert columns
            found = []
            for view, column in columns:
                cur.execute(f'SELECT DISTINCT "{column}" FROM marts_zh."{view}"'
                            f' WHERE "{column}" ~ \'^[a-z_]+$\' LIMIT 5')
                found += [(view, column, v) for (v,) in cur.fetchall()]
            assert found == []
            cur.execute('SELECT "地区层级", "状态", "进度状态", "进度目标值" FROM marts_zh.kpi_scorecard'
                        " WHERE \"快照月份\" = '2022-12-01' AND \"地区代码\" = %s"
                        " AND \"指标名称\" = '脱贫人口人均务工时长（月）'", (sc.Z,))
            assert cur.fetchall() == [("县市区", "未达标", "进度滞后", 8.5)]   # 镇雄县 8.0 < 8.5 in December
    finally:
        conn.close()
