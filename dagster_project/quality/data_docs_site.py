"""The offline face of the Data Docs site: GE's pages made self-sufficient, the batch verdict on raw
batch pages, and a static index rendered here.

Why: GE 1.x pages load Bootstrap, jQuery, Font Awesome and friends from public CDNs, and its index
builds its list in JavaScript from those libraries; on an intranet machine (the usual place for this
warehouse) the index showed only a heading. So every page GE renders is rewritten: no remote
stylesheet, script or image, one local stylesheet (``static/zengshou.css``, the CSS below: the few
Bootstrap classes GE's validation pages use, and check/cross marks instead of the icon font), the
"Failed only" filter and the "Show more info" boxes done in CSS, and links only to files that exist.
The index is plain HTML written from the site's own list of validations (``index.json``), so it
needs no script at all. Everything here is pure string work: no network, no browser.

Why the verdict: a raw batch's GE result is "Failed" whenever it has quarantined rows (each rule's
expectation lists them), although the pipeline accepted the batch; the page and the index state the
verdict the loader applied (accepted with N quarantined rows within ZENGSHOU_MAX_REJECT_RATE, or
rejected with its reason), and GE's "Status" line is relabelled as what it is: whether every
expectation held.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Mapping
from typing import Any

CSS_NAME = "zengshou.css"
VERDICT_START, VERDICT_END = "<!-- zengshou:verdict -->", "<!-- /zengshou:verdict -->"

CSS = """\
/* zengshou Data Docs: local stylesheet (no CDN). The subset of Bootstrap 4 classes GE's pages use. */
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", -apple-system,
  "Segoe UI", Roboto, Arial, sans-serif; font-size: 14px; line-height: 1.5; color: #212529; background: #fff; }
a { color: #0b5cad; text-decoration: none; } a:hover { text-decoration: underline; }
h1 { font-size: 1.6rem; margin: .2rem 0 .6rem; } h2 { font-size: 1.25rem; margin: 1.6rem 0 .5rem; }
h4 { font-size: 1.2rem; margin: 0 0 .4rem; } h5 { font-size: 1.05rem; margin: 0; } h6, .h6 { font-size: .95rem;
  font-weight: 600; margin: 0; }
.lead { font-size: 1rem; color: #555; }
.container-fluid { width: 100%; padding-left: 12px; padding-right: 12px; }
.row { display: flex; flex-wrap: wrap; margin-left: -8px; margin-right: -8px; }
.row > * { padding-left: 8px; padding-right: 8px; }
.col-12, .col-sm-12, .col-xs-12 { flex: 0 0 100%; max-width: 100%; }
.col-6 { flex: 0 0 50%; max-width: 50%; }
@media (min-width: 768px) {
  .col-md-2 { flex: 0 0 16.667%; max-width: 16.667%; } .col-md-10 { flex: 0 0 83.333%; max-width: 83.333%; }
  .d-md-block { display: block !important; } .d-md-inline-flex { display: inline-flex !important; }
}
@media (max-width: 767px) { .col-6 { flex: 0 0 100%; max-width: 100%; } }
.d-none { display: none; } .d-flex { display: flex; } .d-sm-block { display: block; }
.float-left { float: left; } .mr-auto { margin-right: auto; } .align-items-center { align-items: center; }
.justify-content-center { justify-content: center; }
.m-0 { margin: 0 !important; } .m-2 { margin: .5rem; } .mb-0 { margin-bottom: 0; } .mb-1 { margin-bottom: .25rem; }
.mb-2 { margin-bottom: .5rem; } .mb-3 { margin-bottom: 1rem; } .mb-4 { margin-bottom: 1.5rem; }
.mt-1 { margin-top: .25rem; } .ml-1 { margin-left: .25rem; } .ml-2 { margin-left: .5rem; }
.mr-2 { margin-right: .5rem; } .p-0 { padding: 0 !important; } .p-1 { padding: .25rem; } .p-2 { padding: .5rem; }
.p-3 { padding: 1rem; } .px-0 { padding-left: 0 !important; padding-right: 0 !important; }
.pt-4 { padding-top: 1.5rem; } .pb-4 { padding-bottom: 1.5rem; } .pl-5 { padding-left: 2rem; }
.pr-5 { padding-right: 2rem; } .pl-md-4 { padding-left: 1.2rem; }
.navbar { display: flex; align-items: center; padding: .4rem 1rem; height: auto !important;
  background: #f7f8fa; border-bottom: 1px solid #dde1e6; }
.sticky-top { position: sticky; top: 0; z-index: 10; }
.sticky { position: sticky; top: 70px; }
.zs-brand { font-weight: 700; color: #1f3b57; margin-right: 1rem; white-space: nowrap; }
.breadcrumb { display: flex; flex-wrap: wrap; list-style: none; margin: 0; padding: .3rem .6rem;
  background: #eef1f4; border-radius: 4px; }
.breadcrumb-item + .breadcrumb-item::before { content: "/"; padding: 0 .4rem; color: #888; }
.breadcrumb-item.active { color: #555; }
.card { border: 1px solid #dde1e6; border-radius: 4px; background: #fff; margin-bottom: 1rem; }
.card-header { background: #f2f4f7; border-bottom: 1px solid #dde1e6; }
.card-body { padding: .6rem; }
.nav { list-style: none; margin: 0; padding: 0; }
.nav-link { display: block; padding: .15rem .4rem; }
.alert { padding: .6rem .9rem; border-radius: 4px; margin-bottom: .6rem; }
.alert-secondary { background: #eef1f4; border: 1px solid #d6dbe1; }
.ge-section { clear: both; margin-bottom: 26px; }
.table { width: 100%; border-collapse: collapse; margin: .4rem 0; }
.table th, .table td { border-top: 1px solid #dee2e6; padding: .35rem .5rem; text-align: left;
  vertical-align: top; }
.table thead th { border-bottom: 2px solid #dee2e6; background: #f7f8fa; }
.table-responsive { overflow-x: auto; }
.show-scrollbars { overflow: auto; } td .show-scrollbars { max-height: 60vh; }
.text-success { color: #1e7e34; } .text-danger { color: #c82333; }
.badge { display: inline-block; padding: .1rem .4rem; border-radius: 3px; background: #6c757d; color: #fff;
  font-size: 85%; }
.btn-group { display: inline-flex; gap: .3rem; }
.btn { display: inline-block; padding: .2rem .6rem; border: 1px solid #0b5cad; border-radius: 4px;
  cursor: pointer; color: #0b5cad; }
.btn:has(input:checked) { background: #0b5cad; color: #fff; }
/* Font Awesome is not shipped: GE's status icons become characters. */
.fas::before { font-style: normal; font-weight: 700; }
.fa-check-circle::before { content: "\\2714"; } .fa-times::before { content: "\\2718"; }
.fa-question-circle::before { content: "?"; }
/* "Show more info..." without Bootstrap's JavaScript: the box opens when its link targets it. */
.collapse { display: none; } .collapse:target { display: block; }
/* "Failed only" without jQuery. */
body:has(#option2:checked) :has(> .hide-succeeded-validation-target-child),
body:has(#option2:checked) .hide-succeeded-validation-target,
body:has(#option2:checked) :has(> :has(> .hide-succeeded-validations-column-section-target-child)) {
  display: none; }
/* The pipeline's verdict on a raw batch, and the index. */
.zs-verdict { border-radius: 4px; padding: .7rem 1rem; margin: 0 0 1rem; border: 1px solid; }
.zs-verdict strong { font-size: 1.05rem; }
.zs-accepted { background: #e9f6ec; border-color: #9fd3ab; }
.zs-rejected { background: #fdecee; border-color: #f1a7b0; }
.zs-index { max-width: 1400px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
.zs-index table { font-size: 13px; }
.zs-ok { color: #1e7e34; font-weight: 600; } .zs-bad { color: #c82333; font-weight: 600; }
.zs-muted { color: #6c757d; }
code { font-family: "Noto Sans Mono CJK SC", Menlo, Consolas, monospace; font-size: 92%; }
"""


def rel_root(page_rel: str) -> str:
    """'validations/raw/x/run/time/p.html' -> '../../../../../' (the site root seen from the page)."""
    return "../" * page_rel.count("/")


def offline_page(text: str, page_rel: str) -> str:
    """A GE page with no remote stylesheet, script or image, the local stylesheet, and no dead link."""
    root = rel_root(page_rel)
    text = re.sub(r"<script\b[^>]*>.*?</script>\s*", "", text, flags=re.S | re.I)
    text = re.sub(r"<link\b[^>]*\bhref=\"https?://[^\"]*\"[^>]*>\s*", "", text, flags=re.I)
    text = re.sub(r"<footer\b.*?</footer>\s*", "", text, flags=re.S | re.I)  # GE's newsletter banner
    # GE's remote logo -> the site's name (the link to the index stays)
    text = re.sub(r"<img\b[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>",
                  '<span class="zs-brand">zengshou 数据质量文档</span>', text, flags=re.S | re.I)
    text = re.sub(r"\s(?:onclick|data-toggle)=\"[^\"]*\"", "", text)
    # links into the site: the index at the right depth; suite pages (never built here) unlinked
    text = re.sub(r"href=\"(?:\.\./)*index\.html\"", f'href="{root}index.html"', text)
    text = re.sub(r"<a\b[^>]*href=\"[^\"]*expectations/[^\"]*\.html\"[^>]*>(.*?)</a>", r"\1", text, flags=re.S)
    text = re.sub(r"<link\b[^>]*rel=\"shortcut icon\"[^>]*>",
                  f'<link rel="shortcut icon" href="{root}static/images/favicon.ico" type="image/x-icon"/>', text)
    if f"static/{CSS_NAME}" not in text:
        text = text.replace("</head>", f'<link rel="stylesheet" href="{root}static/{CSS_NAME}">\n</head>', 1)
    return text


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.2%}" if whole else "0.00%"


def verdict_summary(verdict: Mapping[str, Any]) -> tuple[str, str]:
    """(one-line verdict for the index, CSS class) of a raw batch."""
    read, quarantined = int(verdict.get("rows_read") or 0), int(verdict.get("rows_quarantined") or 0)
    if verdict.get("status") == "published":
        limit = float(verdict.get("max_reject_rate") or 0)
        return (f"已接受 accepted：隔离 {quarantined}/{read} 行（{_pct(quarantined, read)}），"
                f"未超过上限 {limit:.2%}", "zs-accepted")
    return f"已拒绝 rejected：{verdict.get('reason') or '—'}", "zs-rejected"


def verdict_block(verdict: Mapping[str, Any]) -> str:
    """The banner at the top of a raw batch's page."""
    e = html.escape
    read = int(verdict.get("rows_read") or 0)
    loaded, quarantined = int(verdict.get("rows_loaded") or 0), int(verdict.get("rows_quarantined") or 0)
    batch, partition = e(str(verdict.get("batch_id") or "")), e(str(verdict.get("partition_key") or ""))
    if verdict.get("status") == "published":
        limit = float(verdict.get("max_reject_rate") or 0)
        body = (f"<strong>批次结论：已接受并发布 / Batch verdict: accepted</strong><br>"
                f"读入 {read} 行，发布 {loaded} 行，隔离 {quarantined} 行（{_pct(quarantined, read)}），"
                f"未超过上限 ZENGSHOU_MAX_REJECT_RATE = {limit:.2%}。下面未满足的期望正是这些被隔离的行"
                f"（quarantine.rejected_rows，批次 <code>{batch}</code>）。<br>"
                f"{read} rows read, {loaded} published, {quarantined} quarantined ({_pct(quarantined, read)}), "
                f"within the limit of {limit:.2%}: the unmet expectations below are exactly the quarantined rows.")
        css = "zs-accepted"
    else:
        reason = e(str(verdict.get("reason") or ""))
        body = (f"<strong>批次结论：已拒绝 / Batch verdict: rejected</strong><br>原因 / reason：{reason}<br>"
                f"本批次未发布，全部 {read} 行记入隔离区（批次 <code>{batch}</code>）；"
                f"{partition or '该分区'} 此前已发布的批次保持不变。<br>"
                f"Nothing of this batch was published; all {read} rows are in quarantine, and the batch "
                f"published before for {partition or 'this partition'} stays in place.")
        css = "zs-rejected"
    return f'{VERDICT_START}<div class="zs-verdict {css}">{body}</div>{VERDICT_END}'


_STATUS = re.compile(r"<span class=\"h6\"\s*>Status:</span>\s*<i class=\"fas fa-(?:times|check-circle) "
                     r"text-(?:danger|success)\"[^>]*></i>\s*(?:Failed|Succeeded)")
_MAIN = '<div class="col-md-10 col-lg-10 col-xs-12 pl-md-4 pr-md-3">'


def with_verdict(text: str, verdict: Mapping[str, Any], success: bool) -> str:
    """The page with the batch verdict at the top of its content and GE's status relabelled."""
    text = re.sub(re.escape(VERDICT_START) + ".*?" + re.escape(VERDICT_END), "", text, flags=re.S)
    label, _ = verdict_summary(verdict)
    mark = ('<i class="fas fa-check-circle text-success" aria-hidden="true"></i> 全部满足 all met' if success else
            '<i class="fas fa-times text-danger" aria-hidden="true"></i> 未全部满足 not all met')
    status = (f'<span class="h6">期望 Expectations:</span> {mark}<br> '
              f'<span class="h6">批次结论 Batch verdict:</span> {html.escape(label)}')
    text = _STATUS.sub(lambda _m: status, text, count=1)
    return text.replace(_MAIN, _MAIN + verdict_block(verdict), 1)


def _ge_cell(entry: Mapping[str, Any]) -> str:
    evaluated, successful = int(entry.get("evaluated") or 0), int(entry.get("successful") or 0)
    if entry.get("success"):
        return f'<span class="zs-ok">✔ 全部满足</span> <span class="zs-muted">{successful}/{evaluated}</span>'
    return (f'<span class="zs-bad">✘ {evaluated - successful} 条未满足</span> '
            f'<span class="zs-muted">{successful}/{evaluated}</span>')


def _verdict_cell(entry: Mapping[str, Any]) -> str:
    verdict = entry.get("verdict")
    if not verdict:
        return '<span class="zs-muted">—</span>'
    label, css = verdict_summary(verdict)
    return f'<span class="{"zs-ok" if css == "zs-accepted" else "zs-bad"}">{html.escape(label)}</span>'


def _row(entry: Mapping[str, Any]) -> str:
    e = html.escape
    when = str(entry.get("run_time") or "")[:19].replace("T", " ")
    page = e(str(entry["page"]))
    return (f'<tr><td>{e(when)}</td><td>{e(str(entry.get("suite")))}</td>'
            f'<td><a href="{page}">{e(str(entry.get("batch")))}</a></td><td>{e(str(entry.get("run_name")))}</td>'
            f"<td>{_ge_cell(entry)}</td><td>{_verdict_cell(entry)}</td></tr>")


_HEAD = ("<tr><th>时间 Time (UTC)</th><th>校验集 Suite</th><th>批次 / 表 Batch</th><th>运行 Run</th>"
         "<th>GE 期望 Expectations</th><th>批次结论 Pipeline verdict</th></tr>")


def render_index(entries: Iterable[Mapping[str, Any]], limit: int) -> str:
    """The site's index: the latest validation of every suite, then the newest ``limit`` validations."""
    ordered = sorted(entries, key=lambda x: str(x.get("run_time") or ""), reverse=True)
    latest: dict[str, Mapping[str, Any]] = {}
    for entry in ordered:
        latest.setdefault(str(entry.get("suite")), entry)
    newest = ordered[:limit]
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    latest_rows = "\n".join(_row(latest[s]) for s in sorted(latest))
    rows = "\n".join(_row(x) for x in newest)
    empty = '<tr><td colspan="6" class="zs-muted">尚无校验 / no validation yet</td></tr>'
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>zengshou 数据质量文档 · Data Docs</title>
<link rel="stylesheet" href="static/{CSS_NAME}">
<link rel="shortcut icon" href="static/images/favicon.ico" type="image/x-icon"/>
</head>
<body>
<nav class="navbar"><span class="zs-brand">zengshou 数据质量文档</span>
<span class="zs-muted">Great Expectations Data Docs · 生成于 {now} UTC</span></nav>
<main class="zs-index">
<h1>数据质量校验 / Validations</h1>
<p>每次入库（原始批次）和每次构建集市（marts）都用 Great Expectations 校验。原始批次一栏“批次结论”是流水线
实际作出的决定：隔离比例未超过 ZENGSHOU_MAX_REJECT_RATE 的批次照常发布，其被隔离的行就是“未满足”的期望。
本页及各校验页均为静态文件，断网可用。<br>
<span class="zs-muted">Every load (raw batches) and every marts build is validated with Great Expectations. For
raw batches, "Pipeline verdict" is what the loader decided: a batch whose quarantined share is within
ZENGSHOU_MAX_REJECT_RATE is published, and its quarantined rows are its unmet expectations. Static pages:
they work without a network.</span></p>
<h2>各校验集的最新结果 / Latest result per suite</h2>
<table class="table" id="latest-per-suite"><thead>{_HEAD}</thead>
<tbody>
{latest_rows or empty}
</tbody></table>
<h2>最近 {len(newest)} 次校验 / Newest validations</h2>
<table class="table" id="validations"><thead>{_HEAD}</thead>
<tbody>
{rows or empty}
</tbody></table>
<p class="zs-muted">列出最近 {limit} 次；每个校验集在磁盘上保留最近的若干次（旧页面仍可从 Dagster 检查的元数据打开）。
Lists the newest {limit}; older pages stay on disk, linked from each asset check's metadata in Dagster.</p>
</main>
</body>
</html>
"""
