"""The report officials read (issue 3, part 4): content on hand-built marts, rendering in headless Chromium,
the CLI's exit codes, the Dagster asset, and one report on a real pipeline warehouse.

The content tests build the marts by hand in DuckDB with a handful of known rows, so every expected
value below was worked out from the rows (not read back from the report) and the module runs in seconds.
Chromium (Debian package `chromium`) renders the page exactly as an official's browser would; its DOM
and a screenshot (test-output/report/report.png, git-ignored) are the evidence that KPIs and charts show.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dagster_project.report import ReportError, build_report, default_report_path
from dagster_project.report.cli import add_report_parser, run_report
from dagster_project.settings import load_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUT_DIR = REPO_ROOT / "test-output" / "report"
BIN_DIR = Path(sys.executable).parent
CHROMIUM_INSTALL = "apt-get update && apt-get install -y chromium fonts-noto-cjk"
EVIL = '<script>alert("x")</script>&'

# --- the hand-built warehouse -----------------------------------------------------------------------------

KPI_TARGETS = [  # kpi_code, family, zh, en, target, comparator, scope, unit
    ("employment_vs_prior_year", "employment", "脱贫人口务工规模与上年度末之比", "Employed vs prior year-end",
     1.0, ">=", "all", "ratio"),
    ("avg_employment_months", "employment", "脱贫人口人均务工时长（月）", "Mean months worked",
     8.5, ">=", "all", "months"),
    ("wage_income_per_capita_growth", "income", "脱贫人口人均工资性收入同比增长", "Per-capita wage income growth",
     0.18, ">=", "all", "growth"),
    ("trained_persons", "training", "脱贫劳动力技能培训人数", "Persons trained", 700000, ">=", "province", "persons"),
    ("certified_rate", "training", "培训后持证率", "Certified share of trained", None, None, "all", "ratio"),
]
# A KPI another engineer adds to the scorecard before its seed row exists: shown under its code.
UNLABELLED_KPI = "brand_new_hr_kpi"

REGIONS = [  # code, level, name, parent
    ("530000", "province", "云南省", None),
    ("530100", "prefecture", "昆明市", "530000"),
    ("530300", "prefecture", "曲靖市", "530000"),
    ("530102", "county", "五华区", "530100"),
    ("530103", "county", "盘龙区", "530100"),
    ("530302", "county", "麒麟区", "530300"),
]
MONTHS = [date(2022, 12, 1), date(2023, 1, 1), date(2023, 2, 1), date(2023, 3, 1)]
REPORT_MONTH = date(2023, 3, 1)

# employment_vs_prior_year for the reported month (2023-03): county and prefecture values chosen so the
# prefecture ranking is 曲靖市 (1.05, met) before 昆明市 (0.92, not met).
EMPLOYMENT_MARCH = {"530000": 0.95, "530100": 0.92, "530300": 1.05, "530102": 1.02, "530103": 0.80, "530302": 1.05}
# province trend of employment_vs_prior_year: Jan–Mar 2023 (2022-12 belongs to another year: not drawn)
EMPLOYMENT_TREND = {date(2022, 12, 1): 1.0, date(2023, 1, 1): 0.83, date(2023, 2, 1): 0.88, REPORT_MONTH: 0.95}

PROJECTS = [  # project_id, year, county, fund, central, remuneration, ratio, required, compliant, name
    ("P-OK", 2023, "530102", "中央预算内投资", 100.0, 40.0, 0.40, 0.30, True, "五华区道路硬化"),
    ("P-BAD-SMALL-GAP", 2023, "530103", "中央预算内投资", 100.0, 28.0, 0.28, 0.30, False, "盘龙区水渠"),
    ("P-NO-RULE", 2023, "530302", "省级财政资金", 50.0, 5.0, 0.10, None, None, "麒麟区产业路"),
    ("P-BAD-BIG-GAP", 2023, "530302", "中央财政衔接推进乡村振兴补助资金", 80.0, 4.0, 0.05, 0.20, False, EVIL),
    ("P-LAST-YEAR", 2022, "530302", "中央预算内投资", 10.0, 1.0, 0.10, 0.30, False, "去年的项目"),
]


def _status(value: float | None, target: float | None) -> str:
    if value is None:
        return "no_data"
    if target is None:
        return "no_target"
    return "met" if value >= target else "not_met"


def _scorecard_rows() -> list[tuple]:
    """Every month × region × KPI; values are simple functions of the inputs above."""
    rows = []
    targets = {k[0]: (k[4], k[5], k[6]) for k in KPI_TARGETS}
    targets[UNLABELLED_KPI] = (None, None, "all")
    for month in MONTHS:
        for code, level, name, _parent in REGIONS:
            for kpi, (target, comparator, scope) in targets.items():
                if scope != "all" and scope != level:
                    target, comparator = None, None
                if kpi == "employment_vs_prior_year":
                    value = EMPLOYMENT_MARCH[code] if month == REPORT_MONTH else (
                        EMPLOYMENT_TREND[month] if level == "province" else EMPLOYMENT_TREND[month] - 0.02)
                elif kpi == "avg_employment_months":
                    value = {12: 9.0}.get(month.month, month.month * 0.9)
                elif kpi == "wage_income_per_capita_growth":
                    value = 0.2 if code == "530302" else 0.1
                elif kpi == "trained_persons":
                    value = 720000.0 if level == "province" else 1000.0
                elif kpi == "certified_rate":
                    value = None if code == "530103" else 0.5  # 盘龙区 has nobody trained: no_data
                else:
                    value = 0.25
                rows.append((month, month.year, level, code, name, kpi, value, None, None, target, comparator,
                             _status(value, target)))
    return rows


def build_hand_warehouse(path: Path) -> Path:
    """The marts (SPEC §4 columns), reference.kpi_targets and the intermediate project names, by hand."""
    con = duckdb.connect(str(path))
    try:
        for schema in ("marts", "reference", "intermediate"):
            con.execute(f"create schema {schema}")
        con.execute("""create table reference.kpi_targets (kpi_code varchar, kpi_family varchar, kpi_label_zh varchar,
                       kpi_label_en varchar, target_value double, comparator varchar, target_scope varchar,
                       unit varchar)""")
        con.executemany("insert into reference.kpi_targets values (?, ?, ?, ?, ?, ?, ?, ?)", KPI_TARGETS)
        con.execute("""create table marts.dim_region (region_code varchar, region_level varchar, region_name varchar,
                       parent_code varchar, is_former_poverty_county boolean, is_key_assistance_county boolean)""")
        con.executemany("insert into marts.dim_region values (?, ?, ?, ?, null, null)", REGIONS)
        con.execute("""create table marts.kpi_scorecard (as_of_month date, year integer, region_level varchar,
                       region_code varchar, region_name varchar, kpi_code varchar, actual_value double,
                       numerator double, denominator double, target_value double, comparator varchar,
                       status varchar)""")
        con.executemany("insert into marts.kpi_scorecard values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        _scorecard_rows())
        con.execute("""update marts.kpi_scorecard set numerator = 9500, denominator = 10000
                       where region_code = '530000' and kpi_code = 'employment_vs_prior_year'""")
        con.execute("""create table marts.fct_relief_wage_ratio (project_id varchar, year integer,
                       county_code varchar, fund_source varchar, central_funds_wan decimal(18,4),
                       labor_remuneration_wan decimal(18,4), remuneration_ratio double, required_ratio double,
                       is_compliant boolean)""")
        con.executemany("insert into marts.fct_relief_wage_ratio values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [p[:9] for p in PROJECTS])
        con.execute("create table intermediate.int_relief_projects_evaluated "
                    "(year integer, project_id varchar, project_name varchar)")
        con.executemany("insert into intermediate.int_relief_projects_evaluated values (?, ?, ?)",
                        [(p[1], p[0], p[9]) for p in PROJECTS])
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def hand_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """<tmp>/warehouse/zengshou.duckdb, so the default report lands in <tmp>/reports/."""
    wh_dir = tmp_path_factory.mktemp("report_data") / "warehouse"
    wh_dir.mkdir()
    return build_hand_warehouse(wh_dir / "zengshou.duckdb")


@pytest.fixture(scope="module")
def hand_report(hand_warehouse: Path) -> tuple[Path, str]:
    path = build_report(hand_warehouse)  # default path, latest month
    return path, path.read_text(encoding="utf-8")


# --- chromium -----------------------------------------------------------------------------------------------


def _chromium() -> str:
    """The chromium binary; skip without it locally, fail in CI (a missing browser is a broken build there)."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe:
        return exe
    reason = f"chromium not installed ({CHROMIUM_INSTALL})"
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(f"CI is set but {reason}")
    pytest.skip(reason)


def render_in_chromium(html_path: Path, screenshot: Path, tmp_path: Path) -> str:
    """Open the file headless, no network, and return the rendered DOM; also write a 1400×3000 screenshot."""
    exe = _chromium()
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    screenshot.unlink(missing_ok=True)
    common = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
              "--window-size=1400,3000"]
    url = html_path.resolve().as_uri()
    shot = subprocess.run([*common, f"--user-data-dir={tmp_path / 'chromium-shot'}", f"--screenshot={screenshot}",
                           url], capture_output=True, text=True, timeout=120)
    assert shot.returncode == 0 and screenshot.is_file(), shot.stderr[-2000:]
    dom = subprocess.run([*common, f"--user-data-dir={tmp_path / 'chromium-dom'}", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0 and "<html" in dom.stdout, dom.stderr[-2000:]
    return dom.stdout


def _section(html: str, section_id: str) -> str:
    m = re.search(rf'<section id="{section_id}">(.*?)</section>', html, re.S)
    assert m, f"section {section_id} missing"
    return m.group(1)


def _text(fragment: str) -> str:
    return re.sub(r"<[^>]+>", "", fragment)


# --- content on the hand-built marts ----------------------------------------------------------------------------


def test_default_path_is_data_reports_beside_the_warehouse_dir(hand_warehouse: Path, hand_report: tuple[Path, str]):
    path, _ = hand_report
    assert path == hand_warehouse.parent.parent / "reports" / "zengshou_report_2023-03.html"
    assert path == default_report_path(hand_warehouse, REPORT_MONTH)
    assert not list(path.parent.glob("*.tmp")), "the atomic write left a temp file behind"


def test_self_contained_and_escaped(hand_report: tuple[Path, str]):
    _, html = hand_report
    assert not re.search(r"https?://", html), "the report must not reference any http(s) resource"
    assert not re.search(r"<(script|link|iframe|img)\b", html, re.I), "no scripts, stylesheets or images to fetch"
    assert "url(" not in html  # no CSS-loaded fonts or images either
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in html  # the project name, escaped
    assert html.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in html and '<meta charset="utf-8">' in html


def test_every_scorecard_kpi_is_shown_with_its_label_and_code(hand_report: tuple[Path, str]):
    _, html = hand_report
    province = _section(html, "province")
    for code, _family, zh, *_ in KPI_TARGETS:
        assert f'data-kpi="{code}"' in province and zh in province and code in province
    assert f'data-kpi="{UNLABELLED_KPI}"' in province  # not in the seed: still shown, labelled by its code
    # every KPI is in the prefecture ranking and is a column of the county table
    ranks, counties = _section(html, "prefectures"), _section(html, "counties")
    for code in [k[0] for k in KPI_TARGETS] + [UNLABELLED_KPI]:
        assert f'data-kpi="{code}"' in ranks
        assert f'<span class="code">{code}</span></th>' in counties


def test_province_summary_values_targets_and_status(hand_report: tuple[Path, str]):
    _, html = hand_report
    rows = dict(re.findall(r'<tr data-kpi="([a-z0-9_]+)">(.*?)</tr>', _section(html, "province"), re.S))
    emp = _text(rows["employment_vs_prior_year"])
    assert "95.0%" in emp and "≥ 100.0%" in emp and "9,500" in emp and "10,000" in emp and "未达标" in emp
    months = _text(rows["avg_employment_months"])  # March: 3 × 0.9 = 2.70 months vs ≥ 8.50
    assert "2.70 个月" in months and "≥ 8.50 个月" in months and "未达标" in months
    growth = _text(rows["wage_income_per_capita_growth"])
    assert "+10.0%" in growth and "≥ +18.0%" in growth
    trained = _text(rows["trained_persons"])  # province-only target, met
    assert "720,000 人" in trained and "≥ 700,000 人" in trained and "达标" in trained and "未达标" not in trained
    assert "无目标" in _text(rows["certified_rate"])
    # the header counts: met = trained_persons; not met = employment, months, growth; no target = 2
    header = _text(re.search(r'<header class="report">(.*?)</header>', html, re.S).group(1))
    assert "数据截至 2023年3月" in header
    assert "1全省达标" in header and "3全省未达标" in header and "2无目标或无数据" in header


def test_prefecture_ranking_best_first(hand_report: tuple[Path, str]):
    _, html = hand_report
    card = re.search(r'<div class="rank" data-kpi="employment_vs_prior_year">(.*?)</table></div>',
                     _section(html, "prefectures"), re.S).group(1)
    text = _text(card)
    assert text.index("曲靖市") < text.index("昆明市")
    assert re.search(r"1曲靖市105\.0%.*达标", text) and re.search(r"2昆明市92\.0%.*未达标", text)


def test_county_traffic_lights(hand_report: tuple[Path, str]):
    _, html = hand_report
    counties = _section(html, "counties")
    row_of = {code: cells for code, cells in re.findall(
        r'<td class="code">(\d{6})</td>(.*?)</tr>', counties, re.S)}
    assert set(row_of) == {"530100", "530300", "530102", "530103", "530302"}  # prefectures and counties
    codes = [k[0] for k in KPI_TARGETS] + [UNLABELLED_KPI]
    statuses = {code: re.findall(r'<td class="cell s-([a-z_]+)"', cells) for code, cells in row_of.items()}
    assert all(len(s) == len(codes) for s in statuses.values())
    col = {c: i for i, c in enumerate(codes)}
    assert statuses["530102"][col["employment_vs_prior_year"]] == "met"       # 1.02 ≥ 1
    assert statuses["530103"][col["employment_vs_prior_year"]] == "not_met"   # 0.80 < 1
    assert statuses["530103"][col["certified_rate"]] == "no_data"
    assert statuses["530102"][col["certified_rate"]] == "no_target"
    assert statuses["530302"][col["trained_persons"]] == "no_target"           # province-only target
    # counties follow their prefecture: 昆明市, 五华区, 盘龙区, 曲靖市, 麒麟区
    order = re.findall(r'<td class="code">(\d{6})</td>', counties)
    assert order == ["530100", "530102", "530103", "530300", "530302"]


def test_trend_charts_are_inline_svg_of_the_reported_year(hand_report: tuple[Path, str]):
    _, html = hand_report
    trends = _section(html, "trends")
    for code in ("employment_vs_prior_year", "avg_employment_months", "wage_income_per_capita_growth"):
        fig = re.search(rf'<figure class="trend" data-kpi="{code}">(.*?)</figure>', trends, re.S).group(1)
        assert '<svg class="chart"' in fig and '<polyline class="series"' in fig
        assert len(re.findall(r"<circle ", fig)) == 3, "Jan–Mar 2023 only; 2022-12 belongs to another year"
        assert 'class="target"' in fig and 'class="band"' in fig
    emp = re.search(r'data-kpi="employment_vs_prior_year">(.*?)</figure>', trends, re.S).group(1)
    assert [t for t in re.findall(r"<title>(2023-\d\d [^<]*)</title>", emp)] == [
        "2023-01 83.0%", "2023-02 88.0%", "2023-03 95.0%"]


def test_relief_projects_non_compliant_first(hand_report: tuple[Path, str]):
    _, html = hand_report
    order = re.findall(r'data-project="([^"]+)"', _section(html, "projects"))
    # worst gap first (5% vs 20%), then the small gap (28% vs 30%), then no rule, then compliant; 2022 absent
    assert order == ["P-BAD-BIG-GAP", "P-BAD-SMALL-GAP", "P-NO-RULE", "P-OK"]
    text = _text(_section(html, "projects"))
    assert "-15.0 个百分点" in text and "-2.0 个百分点" in text and "五华区道路硬化" in text and "曲靖市" in text


def test_older_month_and_explicit_out(hand_warehouse: Path, tmp_path: Path):
    out = build_report(hand_warehouse, tmp_path / "sub" / "r.html", "2023-01")
    html = out.read_text(encoding="utf-8")
    assert out == tmp_path / "sub" / "r.html" and "数据截至 2023年1月" in html
    fig = re.search(r'data-kpi="employment_vs_prior_year">(.*?)</figure>', _section(html, "trends"), re.S).group(1)
    assert len(re.findall(r"<circle ", fig)) == 1


def test_errors_are_one_line_reasons(hand_warehouse: Path, tmp_path: Path):
    with pytest.raises(ReportError, match="does not exist"):
        build_report(tmp_path / "missing.duckdb", tmp_path / "r.html")
    with pytest.raises(ReportError, match=r"no scorecard for 2024-07; available months: 2022-12, 2023-01"):
        build_report(hand_warehouse, tmp_path / "r.html", "2024-07")
    with pytest.raises(ReportError, match="YYYY-MM"):
        build_report(hand_warehouse, tmp_path / "r.html", "2023-13")
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(ReportError, match="kpi_scorecard is missing"):
        build_report(empty, tmp_path / "r.html")


def test_read_only_and_released(hand_warehouse: Path, tmp_path: Path):
    """The report never holds the file: a writer can open it right after, and a report attempted while
    another process writes fails with a reason instead of waiting or corrupting anything."""
    build_report(hand_warehouse, tmp_path / "r.html")
    duckdb.connect(str(hand_warehouse)).close()  # would raise if the report still held it
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({str(hand_warehouse)!r})
            print("locked", flush=True)
            sys.stdin.read()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(ReportError) as err:
            build_report(hand_warehouse, tmp_path / "r2.html")
        line = str(err.value)  # one line: the file, read-only, then who holds it (once, not doubled)
        assert line.startswith(f"cannot open warehouse {hand_warehouse} read-only: the warehouse file is held "
                               f"open by process {holder.pid} ("), line
        assert line.count("cannot open warehouse") == 1 and "\n" not in line, line
    finally:
        holder.communicate(input="", timeout=30)


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="zengshou")
    add_report_parser(parser.add_subparsers(dest="command"))
    return run_report(parser.parse_args(argv), load_settings())  # cli.main reads them once, so does this


def test_cli_exit_codes(hand_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("ZENGSHOU_WAREHOUSE", str(hand_warehouse))
    monkeypatch.setenv("ZENGSHOU_PII_SALT", "report-test-salt")
    out = tmp_path / "cli.html"
    assert _cli(["report", "--out", str(out), "--month", "2023-02"]) == 0
    assert out.is_file() and str(out) in capsys.readouterr().out
    assert _cli(["report", "--month", "2031-01", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("zengshou: report error: no scorecard for 2031-01") and "\n" not in err
    monkeypatch.setenv("ZENGSHOU_WAREHOUSE", str(tmp_path / "nowhere.duckdb"))
    assert _cli(["report"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_dagster_asset_writes_the_report(hand_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import dagster as dg

    from dagster_project.assets.report import REPORT_KEY, kpi_report

    monkeypatch.setenv("ZENGSHOU_WAREHOUSE", str(hand_warehouse))
    monkeypatch.setenv("ZENGSHOU_PII_SALT", "report-test-salt")  # the report needs none; silences the warning
    assert kpi_report.group_names_by_key[REPORT_KEY] == "reports"
    deps = {d for keys in kpi_report.asset_deps.values() for d in keys}
    # Every table report/data.py reads, from the dbt exposure kpi_report (tests/test_report_lineage.py).
    assert deps == {dg.AssetKey(["marts", "kpi_scorecard"]), dg.AssetKey(["marts", "fct_relief_wage_ratio"]),
                    dg.AssetKey(["marts", "dim_region"]), dg.AssetKey(["marts", "fct_early_warning_counts"]),
                    dg.AssetKey(["reference", "kpi_targets"]),
                    dg.AssetKey(["intermediate", "int_relief_projects_evaluated"])}
    from dagster_project.resources import build_resources

    result = dg.materialize([kpi_report], instance=dg.DagsterInstance.ephemeral(),
                            resources=build_resources(load_settings()))
    assert result.success
    [event] = result.get_asset_materialization_events()
    assert event.asset_key == REPORT_KEY
    meta = event.materialization.metadata
    assert meta["path"].value == str(default_report_path(hand_warehouse, REPORT_MONTH))
    assert meta["kpi_count"].value == len(KPI_TARGETS) + 1 and meta["months"].value == 3
    assert Path(meta["path"].value).is_file()


# --- rendering in headless Chromium ------------------------------------------------------------------------------


def test_chromium_renders_kpis_and_charts(hand_report: tuple[Path, str], tmp_path: Path):
    path, _ = hand_report
    dom = render_in_chromium(path, OUTPUT_DIR / "report.png", tmp_path)
    assert "云南省脱贫人口稳岗就业促增收监测报告" in dom
    for code, _family, zh, *_ in KPI_TARGETS:
        assert code in dom and zh in dom
    assert len(re.findall(r'<svg class="chart"', dom)) == 3
    assert len(re.findall(r'<polyline class="series"', dom)) == 3
    assert (OUTPUT_DIR / "report.png").stat().st_size > 20_000  # a real picture, not a blank page


# --- one report on a real pipeline warehouse ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def pipeline_warehouse(demo_pipeline: dict) -> Iterator[Path]:
    """The session's demo warehouse (simulate demo + `zengshou run`, see tests/conftest.py)."""
    run = demo_pipeline["first"]
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    yield demo_pipeline["warehouse"]


@pytest.mark.slow
def test_report_on_a_real_pipeline_warehouse(pipeline_warehouse: Path, tmp_path: Path):
    con = duckdb.connect(str(pipeline_warehouse), read_only=True)
    try:
        codes = [r[0] for r in con.execute(
            "select distinct kpi_code from marts.kpi_scorecard order by 1").fetchall()]
        labels = dict(con.execute("select kpi_code, kpi_label_zh from reference.kpi_targets").fetchall())
        n_counties = con.execute("select count(*) from marts.dim_region where region_level = 'county'").fetchone()[0]
        bad = con.execute("select count(*) from marts.fct_relief_wage_ratio "
                          "where year = 2023 and is_compliant = false").fetchone()[0]
    finally:
        con.close()
    path = build_report(pipeline_warehouse, tmp_path / "real.html")
    html = path.read_text(encoding="utf-8")
    assert not re.search(r"https?://", html)
    for code in codes:
        assert f'data-kpi="{code}"' in _section(html, "province")
        assert labels.get(code, code) in html
    assert len(re.findall(r'<tr class="county">', _section(html, "counties"))) == n_counties
    flags = re.findall(r'<tr class="(p-[a-z]+)" data-project=', _section(html, "projects"))
    assert flags[:bad] == ["p-bad"] * bad and "p-bad" not in flags[bad:]
    dom = render_in_chromium(path, OUTPUT_DIR / "report_pipeline.png", tmp_path)
    assert len(re.findall(r'<polyline class="series"', dom)) == 3
    assert all(code in dom for code in codes)


# --- pace through the year (SPEC §2.1): the same hand-built marts with the pace columns ----------------------------
# Values set by hand, as the mart would hold them (the report reads them, it does not re-derive them):
#   every KPI with a target paces "as status" (met -> on_track, not_met -> behind, target = target), except
#   March 2023 avg_employment_months: 2.70 months vs 8.5 × 3 ÷ 12 = 2.125 -> on_track (status not_met) and
#   March 2023 trained_persons (province): 720,000 vs 700,000 × 3 ÷ 12 = 175,000 -> on_track.
# Province in March: on_track = avg months, trained persons (2); behind = employment 0.95, growth +10% (2).


@pytest.fixture(scope="module")
def pace_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wh_dir = tmp_path_factory.mktemp("report_pace") / "warehouse"
    wh_dir.mkdir()
    path = build_hand_warehouse(wh_dir / "zengshou.duckdb")
    con = duckdb.connect(str(path))
    try:
        con.execute("""
            alter table marts.kpi_scorecard add column progress_target_value double;
            alter table marts.kpi_scorecard add column progress_status varchar;
            update marts.kpi_scorecard set progress_target_value = target_value,
                progress_status = case status when 'met' then 'on_track' when 'not_met' then 'behind' else status end;
            update marts.kpi_scorecard set progress_target_value = 2.125, progress_status = 'on_track'
                where as_of_month = date '2023-03-01' and kpi_code = 'avg_employment_months';
            update marts.kpi_scorecard set progress_target_value = 175000, progress_status = 'on_track'
                where as_of_month = date '2023-03-01' and kpi_code = 'trained_persons' and region_level = 'province';
        """)
    finally:
        con.close()
    return path


def test_pace_leads_through_the_year(pace_warehouse: Path, tmp_path: Path):
    html = build_report(pace_warehouse, tmp_path / "pace.html", "2023-03").read_text(encoding="utf-8")
    header = _text(re.search(r'<header class="report">(.*?)</header>', html, re.S).group(1))
    assert "2全省进度正常" in header and "2全省进度滞后" in header and "0未到考核期" in header
    assert header.index("全省进度正常") < header.index("全省达标")          # pace first, the annual verdict after
    assert "1全省达标" in header and "3全省未达标" in header                 # status is still there
    province = _section(html, "province")
    head = re.findall(r"<th[^>]*>(.*?)</th>", re.search(r"<thead>(.*?)</thead>", province, re.S).group(1))
    assert head == ["指标 / KPI", "实际值", "进度目标", "进度", "年度目标", "分子", "分母", "年度判定"]
    rows = dict(re.findall(r'<tr data-kpi="([a-z0-9_]+)">(.*?)</tr>', province, re.S))
    months = _text(rows["avg_employment_months"])  # 2.70 beside its pace target 2.125 (shown 2.12), then ≥ 8.50
    assert re.search(r"2\.70 个月≥ 2\.12 个月●\s*进度正常≥ 8\.50 个月.*▲\s*未达标", months), months
    trained = _text(rows["trained_persons"])
    assert "≥ 175,000 人" in trained and "进度正常" in trained and "≥ 700,000 人" in trained
    assert "进度滞后" in _text(rows["employment_vs_prior_year"])
    # county traffic lights and prefecture ranking show pace
    row_of = dict(re.findall(r'<td class="code">(\d{6})</td>(.*?)</tr>', _section(html, "counties"), re.S))
    codes = [k[0] for k in KPI_TARGETS] + [UNLABELLED_KPI]
    cells = {code: re.findall(r'<td class="cell s-([a-z_]+)"', c) for code, c in row_of.items()}
    assert cells["530102"][codes.index("employment_vs_prior_year")] == "on_track"   # 1.02 ≥ 1
    assert cells["530103"][codes.index("employment_vs_prior_year")] == "behind"     # 0.80 < 1
    assert cells["530103"][codes.index("avg_employment_months")] == "on_track"      # 2.70 ≥ 2.125
    assert cells["530302"][codes.index("trained_persons")] == "no_target"
    card = _text(re.search(r'<div class="rank" data-kpi="avg_employment_months">(.*?)</table></div>',
                           _section(html, "prefectures"), re.S).group(1))
    assert "进度目标 ≥ 2.12 个月" in card and "进度正常" in card and "未达标" not in card


def test_december_leads_with_the_annual_verdict(pace_warehouse: Path, tmp_path: Path):
    html = build_report(pace_warehouse, tmp_path / "dec.html", "2022-12").read_text(encoding="utf-8")
    header = _text(re.search(r'<header class="report">(.*?)</header>', html, re.S).group(1))
    assert "进度正常" not in header and "全省达标" in header
    province = _section(html, "province")
    assert "进度目标" not in _text(re.search(r"<thead>(.*?)</thead>", province, re.S).group(1))
    rows = dict(re.findall(r'<tr data-kpi="([a-z0-9_]+)">(.*?)</tr>', province, re.S))
    assert "● 达标" in _text(rows["avg_employment_months"])   # 9.0 months ≥ 8.5 in December
    row_of = dict(re.findall(r'<td class="code">(\d{6})</td>(.*?)</tr>', _section(html, "counties"), re.S))
    assert "s-met" in row_of["530102"] and "s-on_track" not in row_of["530102"]
