"""What the report reads is listed once, in the dbt exposure ``kpi_report`` (issue 11 #5).

The tables the report's SQL queries (dagster_project/report/data.py, read as source text: every string
literal, f-string parts included) must be exactly the exposure's depends_on, and the Dagster asset
``reports/kpi_report`` must depend on exactly those assets. A query added to the report without the
exposure (or the other way round) fails here, so the asset graph cannot say the report is fresh while a
table it reads is being rebuilt.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.marts import exposure_nodes, exposure_nodes_from_manifest

DATA_PY = Path(__file__).resolve().parents[1] / "dagster_project" / "report" / "data.py"
# Known by hand from report/data.py: the scorecard (KPIs, scores, trends), the region names, the
# 以工代赈 projects, the early-warning counts, the KPI labels and order (seed), and the project names
# (intermediate: the mart carries no 项目名称).
READ_BY_HAND = {"marts.kpi_scorecard", "marts.dim_region", "marts.fct_relief_wage_ratio",
                "marts.fct_early_warning_counts", "reference.kpi_targets",
                "intermediate.int_relief_projects_evaluated"}
_FROM = re.compile(r"\b(?:from|join)\s+([a-z_]\w*)\.([a-z_]\w*)\b", re.IGNORECASE)
_LOOKED_UP = re.compile(r"table_schema\s*=\s*'(\w+)'\s+and\s+table_name\s*=\s*'(\w+)'", re.IGNORECASE)


def tables_in_source(source: str) -> set[str]:
    """``schema.table`` of every relation the module's SQL reads: FROM / JOIN in its string literals,
    the tables it looks up in information_schema, and ``_table_exists(con, "schema", "table")`` calls."""
    tree = ast.parse(source)
    texts: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            texts.append("".join(v.value if isinstance(v, ast.Constant) else " x " for v in node.values))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            texts.append(node.value)
    # Adjacent literals (implicit concatenation) are one Constant already; a SQL split over a `+` is not:
    # join everything, each literal on its own line.
    sql = "\n".join(texts)
    found = {f"{s}.{t}".lower() for s, t in _FROM.findall(sql) if s.lower() != "information_schema"}
    found |= {f"{s}.{t}".lower() for s, t in _LOOKED_UP.findall(sql)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_table_exists":
            schema, table = (a.value for a in node.args[1:3] if isinstance(a, ast.Constant))
            found.add(f"{schema}.{table}")
    return found


def _relation(node: dict) -> str:
    return f"{node.get('config', {}).get('schema') or node.get('schema')}.{node['name']}"


def test_the_parser_on_a_hand_made_module() -> None:
    source = ('def f(con, t):\n'
              '    _table_exists(con, "marts", "a")\n'
              '    con.execute("select * from marts.b b join reference.c using (k)")\n'
              '    con.execute(f"select {t} from intermediate.d left join marts.b on true")\n'
              '    con.execute("select 1 from information_schema.columns where table_schema = \'x\' "\n'
              '                "and table_name = \'y\'")\n')
    assert tables_in_source(source) == {"marts.a", "marts.b", "reference.c", "intermediate.d", "x.y"}


def test_the_report_reads_what_the_parser_finds() -> None:
    assert tables_in_source(DATA_PY.read_text("utf-8")) == READ_BY_HAND


def test_the_exposure_lists_exactly_what_the_report_reads() -> None:
    assert {_relation(n) for n in exposure_nodes("kpi_report")} == tables_in_source(DATA_PY.read_text("utf-8"))


def test_the_report_asset_depends_on_the_exposure() -> None:
    from dagster_project.assets.report import REPORT_KEY, kpi_report

    deps = {d for keys in kpi_report.asset_deps.values() for d in keys}
    assert deps == {dg.AssetKey(r.split(".")) for r in READ_BY_HAND}
    assert kpi_report.asset_deps[REPORT_KEY] == deps


def test_a_missing_exposure_is_named() -> None:
    with pytest.raises(KeyError, match="no exposure 'kpi_report'"):
        exposure_nodes_from_manifest({"exposures": {}, "nodes": {}}, "kpi_report")
