"""The report's early-warning and local-employment sections (SPEC §2.3, issue 10 item 3), on the hand-built
warehouse of tests/test_report.py plus a few hand-made rows: every expected number below is worked out
from those rows."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dagster_project.report import build_report
from tests.test_report import REPORT_MONTH, _section, _text, build_hand_warehouse

FEB = date(2023, 2, 1)
# (month, prefecture, county, name, reason, persons); zero rows are part of the mart's complete grid
WARNING_COUNTS = [
    (REPORT_MONTH, "530100", "530102", "五华区", "stalled", 3),
    (REPORT_MONTH, "530100", "530102", "五华区", "returned", 1),
    (REPORT_MONTH, "530100", "530102", "五华区", "unserved", 0),
    (REPORT_MONTH, "530100", "530103", "盘龙区", "stalled", 0),
    (REPORT_MONTH, "530100", "530103", "盘龙区", "returned", 0),
    (REPORT_MONTH, "530100", "530103", "盘龙区", "unserved", 2),
    (REPORT_MONTH, "530300", "530302", "麒麟区", "stalled", 0),
    (REPORT_MONTH, "530300", "530302", "麒麟区", "returned", 0),
    (REPORT_MONTH, "530300", "530302", "麒麟区", "unserved", 0),
    (FEB, "530300", "530302", "麒麟区", "stalled", 9),  # another month: not in the March report
]
LABELS = {"stalled": "断工", "returned": "返乡回流", "unserved": "有意愿未就业未服务"}
LOCAL_TARGETS = [
    ("local_employment_count", "local_employment", "就地就近务工脱贫人口数", "Local workers",
     None, None, "all", "persons"),
    ("local_avg_employment_months", "local_employment", "就地就近务工人均务工时长（月）", "Local mean months",
     8.5, ">=", "all", "months"),
    ("local_employment_share", "local_employment", "就地就近务工占比", "Local share", None, None, "all", "ratio"),
    ("rural_craftsmen", "rural_talent", "乡村工匠人数", "Rural craftsmen", None, None, "all", "persons"),
]
# region -> kpi -> (actual, target, comparator, status), March 2023
LOCAL_VALUES = {
    ("530000", "province", "云南省"): {"local_employment_count": (1200.0, None, None, "no_target"),
                                    "local_avg_employment_months": (2.4, 8.5, ">=", "not_met"),
                                    "local_employment_share": (0.6, None, None, "no_target"),
                                    "rural_craftsmen": (35.0, None, None, "no_target")},
    ("530100", "prefecture", "昆明市"): {"local_employment_count": (700.0, None, None, "no_target"),
                                      "local_avg_employment_months": (9.0, 8.5, ">=", "met"),
                                      "local_employment_share": (0.7, None, None, "no_target"),
                                      "rural_craftsmen": (20.0, None, None, "no_target")},
}


@pytest.fixture(scope="module")
def warning_report(tmp_path_factory: pytest.TempPathFactory) -> str:
    wh = build_hand_warehouse(tmp_path_factory.mktemp("warnings") / "zengshou.duckdb")
    con = duckdb.connect(str(wh))
    try:
        con.execute("""create table marts.fct_early_warning_counts (as_of_month date, year integer,
                       prefecture_code varchar, county_code varchar, county_name varchar, reason varchar,
                       reason_label_zh varchar, persons integer)""")
        con.executemany("insert into marts.fct_early_warning_counts values (?, ?, ?, ?, ?, ?, ?, ?)",
                        [(m, m.year, p, c, n, r, LABELS[r], k) for m, p, c, n, r, k in WARNING_COUNTS])
        con.executemany("insert into reference.kpi_targets values (?, ?, ?, ?, ?, ?, ?, ?)", LOCAL_TARGETS)
        for (code, level, name), kpis in LOCAL_VALUES.items():
            for kpi, (actual, target, comparator, status) in kpis.items():
                con.execute("insert into marts.kpi_scorecard values (?, 2023, ?, ?, ?, ?, ?, null, null, ?, ?, ?)",
                            [REPORT_MONTH, level, code, name, kpi, actual, target, comparator, status])
    finally:
        con.close()
    return build_report(wh, wh.parent / "r.html").read_text(encoding="utf-8")


def test_warning_counts_per_county_and_reason(warning_report: str) -> None:
    section = _section(warning_report, "warnings")
    text = _text(section)
    assert "就业不稳预警人数" in text
    for reason, label in LABELS.items():
        assert f'data-reason="{reason}"' in section and label in text
    rows = dict(re.findall(r'<tr data-county="(\d{6})">(.*?)</tr>', section, re.S))
    # counties with anyone flagged, most first: 五华区 3 + 1 + 0 = 4, 盘龙区 0 + 0 + 2 = 2; 麒麟区 (0 in March) absent
    assert list(rows) == ["530102", "530103"]
    numbers = {c: re.findall(r'<td class="num">(?:<b>)?([\d,]+)', cells) for c, cells in rows.items()}
    assert numbers == {"530102": ["3", "1", "0", "4"], "530103": ["0", "0", "2", "2"]}
    assert "昆明市" in _text(rows["530102"])
    total = re.search(r"<tr class=\"pref\"><td>全省合计</td>(.*?)</tr>", section, re.S).group(1)
    assert re.findall(r'<td class="num">(?:<b>)?([\d,]+)', total) == ["3", "1", "2", "6"]
    assert "9" not in re.findall(r'<td class="num">(?:<b>)?([\d,]+)', section)  # February's 9 stays out


def test_local_employment_rows(warning_report: str) -> None:
    section = _section(warning_report, "local")
    rows = dict(re.findall(r'<tr class="[a-z]*" data-region="(\d{6})">(.*?)</tr>', section, re.S))
    assert list(rows) == ["530000", "530100", "530300"]  # province first, then the prefectures
    province = _text(rows["530000"])
    assert "1,200 人" in province and "60.0%" in province and "▲ 2.40 个月" in province and "35 人" in province
    kunming = _text(rows["530100"])
    assert "700 人" in kunming and "70.0%" in kunming and "● 9.00 个月" in kunming and "20 人" in kunming
    assert "s-no_data" in rows["530300"] and "—" in _text(rows["530300"])  # 曲靖市: no local rows
    for code, _f, zh, *_ in LOCAL_TARGETS:
        assert f'data-kpi="{code}"' in section and zh in section


def test_old_warehouse_without_the_counts_mart(tmp_path: Path) -> None:
    """A warehouse built before SPEC §2.3 still gives a report, saying the counts are not there."""
    wh = build_hand_warehouse(tmp_path / "zengshou.duckdb")
    html = build_report(wh, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "无 marts.fct_early_warning_counts" in _text(_section(html, "warnings"))
    assert "本期记分卡中无就地就近务工指标" in _text(_section(html, "local"))
