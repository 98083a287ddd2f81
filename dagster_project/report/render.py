"""The report as one self-contained HTML page (CSS and SVG inline, no script, no network).

Who reads it: officials of the provincial 乡村振兴 / 人社 offices, on screen or printed. So the page is
in Chinese with the KPI code beside every label (the code is what analysts and the scorecard use),
statuses carry a symbol as well as a colour (printouts are often black and white), and every KPI has
one number (①, ②, …) used in every section so the wide county table can use short headers.

Every value that comes from the warehouse passes through `html.escape` before it reaches the page.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape

from dagster_project.report.data import (
    LOCAL_KPIS,
    TREND_KPIS,
    WARNING_REASONS,
    Kpi,
    Project,
    ReportData,
    Score,
    WarningCount,
)
from dagster_project.report.fmt import (
    PROGRESS_MARK,
    PROGRESS_ZH,
    STATUS_MARK,
    STATUS_ZH,
    fmt_count,
    fmt_money,
    fmt_percent,
    fmt_target,
    fmt_value,
)
from dagster_project.report.svg import empty_chart, line_chart

# Compliant projects beyond this many are summarised, not listed: the list is a to-do list, and at
# province scale thousands of compliant rows would bury it. Non-compliant projects are always all listed.
MAX_COMPLIANT_PROJECTS = 300

REPORT_TITLE = "云南省脱贫人口稳岗就业促增收监测报告"

CSS = """
:root {
  --ink: #1d2733; --muted: #5f6b7a; --line: #dde2e8; --soft: #f5f7f9; --accent: #1f5f8b;
  --met-bg: #e2f2e7; --met-ink: #1e6b3a; --not-bg: #fbe4e1; --not-ink: #a8322a;
  --nt-bg: #eef1f5; --nt-ink: #56606c; --nd-bg: #ffffff; --nd-ink: #9aa3ad;
}
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body {
  margin: 0; color: var(--ink); background: #fff; line-height: 1.55; font-size: 14px;
  font-family: "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC",
               "WenQuanYi Micro Hei", "Noto Sans SC", system-ui, sans-serif;
}
main { max-width: 1320px; margin: 0 auto; padding: 32px 36px 48px; }
header.report { border-bottom: 3px solid var(--accent); padding-bottom: 14px; margin-bottom: 22px; }
header.report h1 { font-size: 26px; margin: 0 0 6px; letter-spacing: 0.04em; font-weight: 600; }
header.report .meta { color: var(--muted); font-size: 13px; }
header.report .meta span + span::before { content: "·"; margin: 0 8px; color: var(--line); }
.summary { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0 4px; }
.summary .tile { flex: 1 1 150px; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px;
  background: var(--soft); }
.summary .tile b { display: block; font-size: 24px; font-weight: 600; }
.summary .tile small { color: var(--muted); }
section { margin: 30px 0 0; }
h2 { font-size: 19px; font-weight: 600; margin: 0 0 4px; padding-left: 10px; border-left: 4px solid var(--accent); }
p.note { color: var(--muted); margin: 2px 0 12px; font-size: 13px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: middle; }
thead th { background: var(--soft); font-weight: 600; color: var(--muted); font-size: 12.5px;
  border-bottom: 2px solid var(--line); }
td.num, th.num { text-align: right; white-space: nowrap; }
.code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace;
  font-size: 11.5px; color: var(--muted); }
.en { display: block; color: var(--muted); font-size: 11.5px; }
.no { display: inline-block; min-width: 1.6em; color: var(--accent); font-weight: 600; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; white-space: nowrap;
  border: 1px solid transparent; }
.s-met { background: var(--met-bg); color: var(--met-ink); }
.s-not_met { background: var(--not-bg); color: var(--not-ink); }
.s-no_target { background: var(--nt-bg); color: var(--nt-ink); }
.s-no_data { background: var(--nd-bg); color: var(--nd-ink); border-color: var(--line); }
.s-on_track { background: var(--met-bg); color: var(--met-ink); }
.s-behind { background: var(--not-bg); color: var(--not-ink); }
.s-not_due { background: var(--nt-bg); color: var(--nt-ink); }
td.pace-target { color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 18px; }
figure.trend { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 12px 12px 6px;
  break-inside: avoid; }
figure.trend figcaption { font-weight: 600; font-size: 14px; }
figure.trend figcaption .code { font-weight: 400; margin-left: 6px; }
svg.chart { display: block; font-family: inherit; }
.legend { color: var(--muted); font-size: 12px; margin: 4px 0 0; }
.legend i { display: inline-block; width: 18px; height: 0; vertical-align: middle; margin: 0 4px 0 12px; }
.legend i.l-line { border-top: 3px solid #1f5f8b; }
.legend i.l-band { height: 10px; background: #d7e6f2; }
.legend i.l-target { border-top: 2px dashed #b4532a; }
.ranks { display: grid; grid-template-columns: repeat(auto-fill, minmax(390px, 1fr)); gap: 16px; }
.rank { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; break-inside: avoid; }
.rank h3 { font-size: 14px; margin: 0; font-weight: 600; }
.rank .sub { color: var(--muted); font-size: 12px; margin-bottom: 6px; }
.rank td { padding: 3px 6px; font-size: 13px; }
.rank td.pn { white-space: nowrap; }
.rank td.r { color: var(--muted); width: 2em; text-align: right; }
.bar { height: 8px; background: #c9dcea; border-radius: 2px; min-width: 1px; }
.bar.s-not_met { background: #efb7b0; }
.bar.s-met { background: #a9d5b7; }
.bar.s-behind { background: #efb7b0; }
.bar.s-on_track { background: #a9d5b7; }
table.counties { font-size: 12px; }
table.counties th, table.counties td { padding: 3px 4px; border: 1px solid var(--line); }
table.counties thead th { position: sticky; top: 0; z-index: 1; text-align: center; vertical-align: bottom; }
table.counties thead th.kpi { writing-mode: vertical-rl; white-space: nowrap; padding: 6px 2px; min-width: 52px; }
table.counties thead th.kpi .no { writing-mode: horizontal-tb; display: block; margin: 0 auto 4px; text-align: center; }
table.counties td.cell { text-align: center; white-space: nowrap; }
table.counties td.cell .m { margin-right: 2px; font-size: 10px; }
table.counties tr.pref td { background: #eaf1f7; font-weight: 600; }
table.counties tr.pref td.cell { font-weight: 600; }
table.counties td.name { white-space: nowrap; }
tr.pref td.name { padding-left: 6px; }
tr.county td.name { padding-left: 18px; }
.kpi-legend { columns: 2; column-gap: 32px; font-size: 12.5px; margin: 6px 0 12px; padding: 0; list-style: none; }
.kpi-legend li { break-inside: avoid; }
table.projects td { font-size: 13px; }
table.projects td.code { white-space: nowrap; }
table.projects tr.p-bad td { background: #fdf2f0; }
footer { margin-top: 40px; padding-top: 12px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12px; }
footer dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 8px 0; }
footer dt { font-weight: 600; }
footer dd { margin: 0; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  main { max-width: none; padding: 0; }
  body { font-size: 11.5px; }
  section { break-inside: auto; }
  h2 { break-after: avoid; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
  table.counties thead th { position: static; }
  .charts { grid-template-columns: repeat(3, 1fr); }
  .ranks { grid-template-columns: repeat(3, 1fr); }
}
"""


def kpi_no(order: int) -> str:
    """①…⑳ for the first twenty KPIs (U+2460…), then plain numbers: the same mark in every section."""
    return chr(0x2460 + order - 1) if 1 <= order <= 20 else f"({order})"


# status codes (达标 …) and pace codes (进度正常 …) share no_target / no_data, with the same labels
_LABEL_ZH = {**PROGRESS_ZH, **STATUS_ZH}
_MARK = {**PROGRESS_MARK, **STATUS_MARK}


def _badge(status: str) -> str:
    mark = _MARK.get(status, "")
    return f'<span class="badge s-{escape(status)}">{mark} {escape(_LABEL_ZH.get(status, status))}</span>'


def _shown(data: ReportData, sc: Score | None) -> str:
    """The code a cell leads with: pace (progress_status, from the mart) through the year, the annual
    verdict (status) in December or when the warehouse has no pace column."""
    if sc is None:
        return "no_data"
    if data.leads_with_pace and sc.progress_status:
        return sc.progress_status
    return sc.status


def _kpi_label(kpi: Kpi, *, english: bool = False) -> str:
    en = f'<span class="en">{escape(kpi.label_en)}</span>' if english and kpi.label_en else ""
    return (f'<span class="no">{kpi_no(kpi.order)}</span>{escape(kpi.label_zh)} '
            f'<span class="code">{escape(kpi.code)}</span>{en}')


def _header(data: ReportData, province: dict[str, Score]) -> str:
    counts = {s: sum(1 for sc in province.values() if sc.status == s) for s in STATUS_ZH}
    pace = {s: sum(1 for sc in province.values() if sc.progress_status == s) for s in PROGRESS_ZH}
    bad_projects = sum(1 for p in data.projects if p.is_compliant is False)
    pace_tiles = [
        (str(pace["on_track"]), "全省进度正常"),
        (str(pace["behind"]), "全省进度滞后"),
        (str(pace["not_due"]), "未到考核期"),
    ] if data.leads_with_pace else []
    tiles = [
        (str(len(data.kpis)), "监测指标（项）"),
        *pace_tiles,
        (str(counts["met"]), "全省达标"),
        (str(counts["not_met"]), "全省未达标"),
        (str(counts["no_target"] + counts["no_data"]), "无目标或无数据"),
        (f"{bad_projects} / {len(data.projects)}", f"{data.year}年以工代赈项目未达标 / 总数"),
    ]
    tile_html = "".join(f'<div class="tile"><b>{escape(v)}</b><small>{escape(label)}</small></div>'
                        for v, label in tiles)
    return (
        f'<header class="report"><h1>{escape(REPORT_TITLE)}</h1>'
        f'<div class="meta"><span>数据截至 {data.as_of_month.year}年{data.as_of_month.month}月'
        f'（快照 {data.as_of_month:%Y-%m}）</span>'
        f"<span>生成时间 {escape(data.generated_at.strftime('%Y-%m-%d %H:%M'))}</span>"
        f'<span>数据来源 marts.kpi_scorecard · marts.fct_relief_wage_ratio</span></div>'
        f'<div class="summary">{tile_html}</div></header>'
    )


def _province_section(data: ReportData, province: dict[str, Score]) -> str:
    pace = data.leads_with_pace
    rows = []
    for kpi in data.kpis:
        sc = province.get(kpi.code)
        if sc is None:
            blanks = 6 if pace else 4
            rows.append(f"<tr><td>{_kpi_label(kpi, english=True)}</td>" + '<td class="num">—</td>' * blanks
                        + f"<td>{_badge('no_data')}</td></tr>")
            continue
        pace_cells = (
            f'<td class="num pace-target">{escape(fmt_target(sc.progress_target, sc.comparator, kpi.unit))}</td>'
            f"<td>{_badge(sc.progress_status or 'no_data')}</td>" if pace else "")
        rows.append(
            f'<tr data-kpi="{escape(kpi.code)}"><td>{_kpi_label(kpi, english=True)}</td>'
            f'<td class="num"><b>{escape(fmt_value(sc.actual, kpi.unit))}</b></td>'
            f"{pace_cells}"
            f'<td class="num">{escape(fmt_target(sc.target, sc.comparator, kpi.unit))}</td>'
            f'<td class="num">{escape(fmt_count(sc.numerator))}</td>'
            f'<td class="num">{escape(fmt_count(sc.denominator))}</td>'
            f"<td>{_badge(sc.status)}</td></tr>"
        )
    month = data.as_of_month.month
    if pace:
        note = (f"云南省（530000）各项指标实际值与按进度折算的目标对照（截至{month}月：累计类指标按 "
                f"目标 × {month} ÷ 12 折算，公益性岗位与上年同期比，考核月份之前为未到考核期）；"
                "年度目标与年度判定列为对照《通知》全年目标的当前结果，12月为最终判定。")
        head = ('<th class="num">实际值</th><th class="num">进度目标</th><th>进度</th><th class="num">年度目标</th>'
                '<th class="num">分子</th><th class="num">分母</th><th>年度判定</th>')
    else:
        note = ("云南省（530000）各项指标实际值与《通知》目标对照"
                + ("（12月为全年最终判定）" if data.is_year_end else "") + "；分子、分母为计算口径下的人数或金额。")
        head = ('<th class="num">实际值</th><th class="num">目标</th>'
                '<th class="num">分子</th><th class="num">分母</th><th>状态</th>')
    return (
        '<section id="province"><h2>一、全省指标概览</h2>'
        f'<p class="note">{escape(note)}</p>'
        f'<table class="province"><thead><tr><th>指标 / KPI</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _trend_section(data: ReportData) -> str:
    figures = []
    for code in TREND_KPIS:
        kpi = data.kpi(code)
        label = kpi.label_zh if kpi else code
        unit = kpi.unit if kpi else "ratio"
        title = f"{label}（{code}）{data.year}年逐月"
        points = data.trends.get(code, [])
        comparator = next((s.comparator for s in data.scores if s.kpi_code == code and s.region_level == "province"),
                          None)
        svg = line_chart(points, title=title, unit=unit, comparator=comparator) if kpi else empty_chart(
            title, "本期记分卡中无此指标")
        no = f'<span class="no">{kpi_no(kpi.order)}</span>' if kpi else ""
        figures.append(
            f'<figure class="trend" data-kpi="{escape(code)}"><figcaption>{no}{escape(label)}'
            f'<span class="code">{escape(code)}</span></figcaption>{svg}</figure>'
        )
    return (
        '<section id="trends"><h2>二、月度趋势</h2>'
        f'<p class="note">{data.year}年1月至{data.as_of_month.month}月全省逐月数值；'
        '浅色带为各州（市）的最低至最高值，虚线为目标；圆点绿色为达标，红色为未达标。</p>'
        f'<div class="charts">{"".join(figures)}</div>'
        '<p class="legend"><i class="l-line"></i>全省<i class="l-band"></i>州（市）区间<i class="l-target"></i>目标</p>'
        "</section>"
    )


def _ranked(scores: list[Score], comparator: str | None) -> list[Score]:
    """Best first: descending for '≥' targets (and KPIs without one), ascending for '≤'; no value last."""
    ascending = comparator in ("<=", "<")
    with_value = sorted((s for s in scores if s.actual is not None),
                        key=lambda s: (s.actual if ascending else -s.actual, s.region_code))  # type: ignore[operator]
    return with_value + sorted((s for s in scores if s.actual is None), key=lambda s: s.region_code)


def _ranking_section(data: ReportData, by_level: dict[str, dict[str, list[Score]]]) -> str:
    cards = []
    prefectures = by_level.get("prefecture", {})
    for kpi in data.kpis:
        scores = prefectures.get(kpi.code, [])
        comparator = next((s.comparator for s in scores if s.comparator), None)
        target = next((s.target for s in scores if s.target is not None), None)
        pace_target = next((s.progress_target for s in scores if s.progress_target is not None), None)
        ranked = _ranked(scores, comparator)
        values = [s.actual for s in ranked if s.actual is not None]
        lo, hi = min([0.0, *values]), max([0.0, *values])
        span = (hi - lo) or 1.0
        rows = []
        for rank, s in enumerate(ranked, start=1):
            width = 0.0 if s.actual is None else (s.actual - lo) / span * 100
            shown = escape(_shown(data, s))
            rows.append(
                f'<tr><td class="r">{rank if s.actual is not None else ""}</td>'
                f'<td class="pn">{escape(s.region_name)}</td>'
                f'<td class="num">{escape(fmt_value(s.actual, kpi.unit, compact=True))}</td>'
                f'<td style="width:30%"><div class="bar s-{shown}" style="width:{width:.1f}%"></div></td>'
                f'<td>{_badge(_shown(data, s))}</td></tr>'
            )
        body = "".join(rows) or '<tr><td colspan="5" class="code">无州（市）数据</td></tr>'
        cards.append(
            f'<div class="rank" data-kpi="{escape(kpi.code)}"><h3>{_kpi_label(kpi)}</h3>'
            f'<div class="sub">目标 {escape(fmt_target(target, comparator, kpi.unit))}'
            + (f'；进度目标 {escape(fmt_target(pace_target, comparator, kpi.unit))}'
               if data.leads_with_pace and pace_target is not None and pace_target != target else "")
            + "</div>"
            f"<table><tbody>{body}</tbody></table></div>"
        )
    return (
        '<section id="prefectures"><h2>三、州（市）排名</h2>'
        '<p class="note">按指标分列各州（市），表现好者在前（“≥”类指标数值高者在前）；无数据者列于末尾。</p>'
        f'<div class="ranks">{"".join(cards)}</div></section>'
    )


def _county_section(data: ReportData, by_region: dict[str, dict[str, Score]], regions: dict[str, Score]) -> str:
    kpis = data.kpis
    head = "".join(
        f'<th class="kpi" title="{escape(k.label_zh)}"><span class="no">{kpi_no(k.order)}</span>'
        f'<span class="code">{escape(k.code)}</span></th>' for k in kpis
    )
    legend = "".join(f"<li>{_kpi_label(k)}</li>" for k in kpis)

    def cells(code: str) -> str:
        out = []
        row = by_region.get(code, {})
        for k in kpis:
            sc = row.get(k.code)
            status = _shown(data, sc)
            value = fmt_value(sc.actual if sc else None, k.unit, compact=True)
            tip = f"{k.label_zh}：{value}（{_LABEL_ZH.get(status, status)}）"
            out.append(f'<td class="cell s-{escape(status)}" title="{escape(tip)}">'
                       f'<span class="m">{_MARK.get(status, "")}</span>{escape(value)}</td>')
        return "".join(out)

    prefectures = sorted((s for s in regions.values() if s.region_level == "prefecture"), key=lambda s: s.region_code)
    counties_of: dict[str | None, list[Score]] = defaultdict(list)
    for s in regions.values():
        if s.region_level == "county":
            counties_of[s.parent_code].append(s)
    rows = []
    listed: set[str] = set()
    for pref in prefectures:
        rows.append(f'<tr class="pref"><td class="name">{escape(pref.region_name)}</td>'
                    f'<td class="code">{escape(pref.region_code)}</td>{cells(pref.region_code)}</tr>')
        for c in sorted(counties_of.get(pref.region_code, []), key=lambda s: s.region_code):
            listed.add(c.region_code)
            rows.append(f'<tr class="county"><td class="name">{escape(c.region_name)}</td>'
                        f'<td class="code">{escape(c.region_code)}</td>{cells(c.region_code)}</tr>')
    # counties whose prefecture is unknown to dim_region are still shown rather than silently dropped
    for c in sorted((s for s in regions.values() if s.region_level == "county" and s.region_code not in listed),
                    key=lambda s: s.region_code):
        rows.append(f'<tr class="county"><td class="name">{escape(c.region_name)}</td>'
                    f'<td class="code">{escape(c.region_code)}</td>{cells(c.region_code)}</tr>')
    n_counties = sum(1 for s in regions.values() if s.region_level == "county")
    legend_codes = [*PROGRESS_ZH] if data.leads_with_pace else [*STATUS_ZH]
    status_legend = ("进度（12月为年度判定）：" if data.leads_with_pace else "") + " ".join(
        _badge(s) for s in legend_codes)
    return (
        '<section id="counties"><h2>四、县（市、区）指标红绿灯</h2>'
        f'<p class="note">{len(prefectures)}个州（市）、{n_counties}个县（市、区）逐项状态，'
        '州（市）行在前、所辖县随后。'
        f"状态：{status_legend}</p>"
        f'<ul class="kpi-legend">{legend}</ul>'
        '<table class="counties"><thead><tr><th>地区</th><th>区划代码</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _project_row(i: int, p: Project) -> str:
    if p.is_compliant is False:
        badge, cls = _badge("not_met"), "p-bad"
    elif p.is_compliant is None:
        badge, cls = '<span class="badge s-no_target">○ 无比例要求</span>', "p-none"
    else:
        badge, cls = _badge("met"), "p-ok"
    gap = (p.remuneration_ratio - p.required_ratio
           if p.remuneration_ratio is not None and p.required_ratio is not None else None)
    gap_text = "—" if gap is None else f"{gap * 100:+.1f} 个百分点"
    return (
        f'<tr class="{cls}" data-project="{escape(p.project_id)}"><td class="num">{i}</td><td>{badge}</td>'
        f'<td class="code">{escape(p.project_id)}</td><td>{escape(p.project_name or "—")}</td>'
        f"<td>{escape(p.prefecture_name or '—')}</td><td>{escape(p.county_name or p.county_code or '—')}</td>"
        f"<td>{escape(p.fund_source or '—')}</td>"
        f'<td class="num">{escape(fmt_money(p.central_funds_wan))}</td>'
        f'<td class="num">{escape(fmt_money(p.labor_remuneration_wan))}</td>'
        f'<td class="num">{escape(fmt_percent(p.remuneration_ratio))}</td>'
        f'<td class="num">{escape(fmt_percent(p.required_ratio))}</td>'
        f'<td class="num">{escape(gap_text)}</td></tr>'
    )


def _project_section(data: ReportData) -> str:
    bad = [p for p in data.projects if p.is_compliant is False]
    no_rule = [p for p in data.projects if p.is_compliant is None]
    ok = [p for p in data.projects if p.is_compliant is True]
    shown = bad + no_rule + ok[:MAX_COMPLIANT_PROJECTS]
    rows = "".join(_project_row(i, p) for i, p in enumerate(shown, start=1))
    if not rows:
        rows = f'<tr><td colspan="12" class="code">{data.year}年无以工代赈项目台账数据</td></tr>'
    omitted = len(ok) - min(len(ok), MAX_COMPLIANT_PROJECTS)
    more = (f'<p class="note">另有 {omitted} 个达标项目未逐一列出（完整清单见 marts.fct_relief_wage_ratio）。</p>'
            if omitted else "")
    return (
        f'<section id="projects"><h2>五、{data.year}年以工代赈项目劳务报酬占比</h2>'
        f'<p class="note">共 {len(data.projects)} 个项目：未达标 {len(bad)} 个（列于最前，按差距从大到小），'
        f"无比例要求 {len(no_rule)} 个，达标 {len(ok)} 个。"
        "劳务报酬占比 = 劳务报酬发放金额 ÷ 中央资金；中央预算内投资项目要求 ≥ 30%，"
        "中央财政衔接推进乡村振兴补助资金项目要求 ≥ 20%。</p>"
        '<table class="projects"><thead><tr><th class="num">序号</th><th>状态</th><th>项目编号</th><th>项目名称</th>'
        '<th>州（市）</th><th>县（市、区）</th><th>资金来源</th><th class="num">中央资金（万元）</th>'
        '<th class="num">劳务报酬（万元）</th><th class="num">占比</th><th class="num">要求</th>'
        f'<th class="num">差距</th></tr></thead><tbody>{rows}</tbody></table>{more}</section>'
    )


def _warning_section(data: ReportData, regions: dict[str, Score]) -> str:
    """Early-warning counts per county and reason (SPEC §2.3), the counties with most people first.
    Counts only: the names behind them (户编号 / 人口编号) are for county staff, in PostgreSQL."""
    reasons = list(WARNING_REASONS)
    head = "".join(f'<th class="num" data-reason="{escape(r)}">{escape(WARNING_REASONS[r])}'
                   f'<span class="code"> {escape(r)}</span></th>' for r in reasons)
    intro = ('<section id="warnings"><h2>六、就业不稳预警人数</h2>'
             '<p class="note">本期快照中需逐一跟进的脱贫人口：断工（上月在岗、本月务工月数未增加）、'
             '返乡回流（本年上期在县外务工、本期在县内或未务工）、有意愿未就业未服务（有就业意愿未就业，'
             '月末前30天内无就业服务记录）。本报告只列人数；名单（户编号、人口编号）仅向县、州（市）、'
             '省级账号开放。</p>')
    if data.warnings is None:
        return intro + '<p class="note">数据仓库中无 marts.fct_early_warning_counts。</p></section>'
    per_county: dict[str, dict[str, int]] = defaultdict(dict)
    names: dict[str, WarningCount] = {}
    for w in data.warnings:
        per_county[w.county_code][w.reason] = per_county[w.county_code].get(w.reason, 0) + w.persons
        names.setdefault(w.county_code, w)
    totals = {r: sum(c.get(r, 0) for c in per_county.values()) for r in reasons}

    def cells(counts: dict[str, int]) -> str:
        return "".join(f'<td class="num">{counts.get(r, 0):,}</td>' for r in reasons) + \
            f'<td class="num"><b>{sum(counts.get(r, 0) for r in reasons):,}</b></td>'

    order = sorted(per_county, key=lambda c: (-sum(per_county[c].values()), c))
    rows = [f'<tr class="pref"><td>全省合计</td><td class="code">530000</td><td></td>{cells(totals)}</tr>']
    for code in order:
        w = names[code]
        pref = regions.get(w.prefecture_code or "")
        rows.append(f'<tr data-county="{escape(code)}"><td>{escape(w.county_name or code)}</td>'
                    f'<td class="code">{escape(code)}</td><td>{escape(pref.region_name if pref else "—")}</td>'
                    f"{cells(per_county[code])}</tr>")
    none = "" if order else '<p class="note">本期无预警人员。</p>'
    return (
        intro + '<table class="warnings"><thead><tr><th>县（市、区）</th><th>区划代码</th><th>州（市）</th>'
        f'{head}<th class="num">合计</th></tr></thead><tbody>{"".join(rows)}</tbody></table>{none}</section>'
    )


def _local_section(data: ReportData, by_region: dict[str, dict[str, Score]], regions: dict[str, Score]) -> str:
    """Local-employment quality (就地就近 = 县内 + 县外省内 workers) and 乡村工匠, province and prefectures."""
    kpis = [k for code in LOCAL_KPIS if (k := data.kpi(code)) is not None]
    intro = ('<section id="local"><h2>七、就地就近务工质量</h2>'
             '<p class="note">就地就近务工指在本县或省内县外务工的脱贫人口；人均务工时长目标与全体务工人员相同'
             '（≥ 8.5 个月，年中按进度 8.5 × M ÷ 12 判断）；乡村工匠为截至月末已认定的人数。</p>')
    if not kpis:
        return intro + '<p class="note">本期记分卡中无就地就近务工指标。</p></section>'
    head = "".join(f'<th class="num" data-kpi="{escape(k.code)}">{escape(k.label_zh)}'
                   f'<span class="code"> {escape(k.code)}</span></th>' for k in kpis)
    shown = sorted((s for s in regions.values() if s.region_level in ("province", "prefecture")),
                   key=lambda s: (s.region_level != "province", s.region_code))
    rows = []
    for region in shown:
        cells = []
        for k in kpis:
            sc = by_region.get(region.region_code, {}).get(k.code)
            status = _shown(data, sc)  # pace through the year, the annual verdict in December
            value = fmt_value(sc.actual if sc else None, k.unit)
            mark = f"{_MARK[status]} " if status in ("met", "not_met", "on_track", "behind") else ""
            cells.append(f'<td class="num s-{escape(status)}">{mark}{escape(value)}</td>')
        cls = "pref" if region.region_level == "province" else ""
        rows.append(f'<tr class="{cls}" data-region="{escape(region.region_code)}"><td>{escape(region.region_name)}'
                    f'</td><td class="code">{escape(region.region_code)}</td>{"".join(cells)}</tr>')
    return (
        intro + '<table class="local"><thead><tr><th>地区</th><th>区划代码</th>'
        f'{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></section>'
    )


def _footer(data: ReportData) -> str:
    months = "、".join(f"{m:%Y-%m}" for m in data.months)
    return (
        "<footer><dl>"
        "<dt>口径</dt><dd>脱贫人口指户类型为脱贫户的家庭成员；务工指务工时间（月）大于0；"
        "比例以分子 ÷ 分母计算，分母为0时记为“无数据”。</dd>"
        f"<dt>状态</dt><dd>{' '.join(_badge(s) for s in STATUS_ZH)}；“无目标”指《通知》未对该层级设定目标。</dd>"
        f"<dt>进度</dt><dd>{' '.join(_badge(s) for s in ('on_track', 'behind', 'not_due'))}；"
        "按截至当月应完成的年度目标份额判断，12月与年度判定一致。</dd>"
        f"<dt>已有快照</dt><dd>{escape(months)}</dd>"
        f'<dt>数据库</dt><dd class="code">{escape(data.warehouse.name)}</dd>'
        "</dl>本报告由 zengshou 数据仓库自动生成，完全离线，无外部资源。</footer>"
    )


def render_html(data: ReportData) -> str:
    """The whole page as a string; pure (no I/O), so it can be tested on hand-made ReportData."""
    by_region: dict[str, dict[str, Score]] = defaultdict(dict)
    by_level: dict[str, dict[str, list[Score]]] = defaultdict(lambda: defaultdict(list))
    regions: dict[str, Score] = {}
    for s in data.scores:
        by_region[s.region_code][s.kpi_code] = s
        by_level[s.region_level][s.kpi_code].append(s)
        regions.setdefault(s.region_code, s)
    province = next((row for code, row in by_region.items() if regions[code].region_level == "province"), {})
    title = f"{REPORT_TITLE}（{data.as_of_month:%Y-%m}）"
    body = "".join([
        _header(data, province),
        _province_section(data, province),
        _trend_section(data),
        _ranking_section(data, by_level),
        _county_section(data, by_region, regions),
        _project_section(data),
        _warning_section(data, regions),
        _local_section(data, by_region, regions),
        _footer(data),
    ])
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="zengshou report"><title>{escape(title)}</title>'
        f"<style>{CSS}</style></head><body><main>{body}</main></body></html>\n"
    )
