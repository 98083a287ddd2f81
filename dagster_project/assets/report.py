"""The report officials read, as a Dagster asset after the scorecard (issue 3, part 4).

Materialising it writes the same file `zengshou report` writes (data/reports/zengshou_report_<YYYY-MM>.html
beside the warehouse's directory) for the latest snapshot. It only reads the warehouse, read-only and
briefly, so it never competes with the loaders or dbt for DuckDB's single writer.

Its upstream assets are the dbt exposure ``kpi_report``'s depends_on (dbt/models/marts/_exposures.yml),
keyed as the dbt assets are: the one list of what the report reads, which tests/test_report_lineage.py
compares with the tables report/data.py queries.
"""

import dagster as dg

from dagster_project.assets.transform import TRANSLATOR
from dagster_project.marts import exposure_nodes
from dagster_project.report import ReportError, load_report_data, write_report
from dagster_project.resources import WarehouseResource

REPORT_KEY = dg.AssetKey(["reports", "kpi_report"])
REPORT_EXPOSURE = "kpi_report"
REPORT_DEPS = [TRANSLATOR.get_asset_key(node) for node in exposure_nodes(REPORT_EXPOSURE)]


class ReportConfig(dg.Config):
    as_of_month: str | None = None  # 'YYYY-MM'; default the latest month in marts.kpi_scorecard


@dg.asset(
    key=REPORT_KEY,
    group_name="reports",
    deps=REPORT_DEPS,
    kinds={"html", "python"},
    description="监测报告 (HTML, Chinese, self-contained): province summary, prefecture ranking, county "
                "traffic lights, month trends and the 以工代赈 project list.",
)
def kpi_report(context: dg.AssetExecutionContext, config: ReportConfig,
               warehouse: WarehouseResource) -> dg.MaterializeResult:
    try:
        with warehouse.lock("report", exclusive=False):
            data = load_report_data(warehouse.file, config.as_of_month, warehouse.memory_limit)
    except ReportError as exc:
        raise dg.Failure(description=f"report not written: {exc}") from exc
    path = write_report(data)
    trend_months = sorted({p.month for points in data.trends.values() for p in points})
    context.log.info(f"report for {data.as_of_month:%Y-%m} written to {path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "as_of_month": f"{data.as_of_month:%Y-%m}",
            "months": len(trend_months),
            "trend_months": ", ".join(f"{m:%Y-%m}" for m in trend_months),
            "kpi_count": len(data.kpis),
            "kpi_codes": ", ".join(k.code for k in data.kpis),
            "projects": len(data.projects),
            "non_compliant_projects": sum(1 for p in data.projects if p.is_compliant is False),
            "size_bytes": path.stat().st_size,
        },
    )
