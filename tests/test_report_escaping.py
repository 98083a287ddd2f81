"""The report's templates escape every value from the warehouse (issue 11 #6): a county name, a KPI
label or a warning county carrying markup comes out as text, in element content and in attributes.
Pure rendering of hand-made ReportData: no warehouse run, so it takes a second."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

from dagster_project.report.data import ReportData, WarningCount, load_report_data
from dagster_project.report.render import render_html
from tests.test_report import REPORT_MONTH, build_hand_warehouse

HOSTILE_COUNTY = '<script>alert("县")</script>&五华区'
HOSTILE_LABEL = "<script>x</script> & 人均务工时长"
REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def hostile_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    warehouse = build_hand_warehouse(tmp_path_factory.mktemp("escape") / "zengshou.duckdb")
    data = load_report_data(warehouse)
    scores = [dataclasses.replace(s, region_name=HOSTILE_COUNTY) if s.region_code == "530102" else s
              for s in data.scores]
    kpis = [dataclasses.replace(k, label_zh=HOSTILE_LABEL) if k.code == "avg_employment_months" else k
            for k in data.kpis]
    warnings = [WarningCount("530100", "530102", HOSTILE_COUNTY, "stalled", 2)]
    hostile = dataclasses.replace(data, scores=scores, kpis=kpis, warnings=warnings,
                                  generated_at=dt.datetime(2023, 4, 1, 8, 0))
    assert isinstance(hostile, ReportData) and hostile.as_of_month == REPORT_MONTH
    return render_html(hostile)


def test_hostile_values_come_out_escaped(hostile_html: str) -> None:
    html = hostile_html
    # no element made of warehouse values: the page has no <script> (the hand project name is escaped too)
    assert not re.search(r"<script", html, re.I)
    county = "&lt;script&gt;alert(&quot;县&quot;)&lt;/script&gt;&amp;五华区"
    label = "&lt;script&gt;x&lt;/script&gt; &amp; 人均务工时长"
    counties = re.search(r'<section id="counties">.*?</section>', html, re.S).group(0)
    assert f'<td class="name">{county}</td>' in counties
    # in an attribute (the county table's header title and each cell's tooltip) as well as in text
    assert f'<th class="kpi" title="{label}">' in counties
    assert f'title="{label}：' in counties
    warnings = re.search(r'<section id="warnings">.*?</section>', html, re.S).group(0)
    assert f'<tr data-county="530102"><td>{county}</td>' in warnings
    province = re.search(r'<section id="province">.*?</section>', html, re.S).group(0)
    assert f'<span class="no">②</span>{label} <span class="code">avg_employment_months</span>' in province
    # a bare ampersand from the data never reaches the page unescaped
    assert "& 人均" not in html and "&五华区" not in html


def test_templates_are_package_data() -> None:
    """A non-editable install ships the templates: every file under report/templates matches the
    package-data patterns of pyproject.toml."""
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["dagster_project.report"]
    templates = REPO_ROOT / "dagster_project" / "report" / "templates"
    files = [p.relative_to(templates.parent).as_posix() for p in templates.rglob("*") if p.is_file()]
    assert files and all(any(fnmatch(f, pattern) for pattern in patterns) for f in files), files
