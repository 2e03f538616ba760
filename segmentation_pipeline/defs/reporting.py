"""Reporting layer: pages for analysts, written under the reports folder."""

import dagster as dg

from segmentation_pipeline.defs.resources import Warehouse
from segmentation_pipeline.domain.contract import TABLES
from segmentation_pipeline.domain.quality import quality_report_markdown
from segmentation_pipeline.settings import SETTINGS
from segmentation_pipeline.warehouse import quarantine_reasons, table_totals


@dg.asset(
    group_name="reporting",
    kinds={"duckdb", "markdown"},
    deps=[*(f"stg_{name}" for name in TABLES), "unplaced_raw_rows"],
)
def data_quality_report(warehouse: Warehouse) -> dg.MaterializeResult:
    """Rows kept and rejected per table and reason over every loaded day: the first page to read
    after a refresh. Written to `data/reports/data_quality.md`."""
    with warehouse.get_connection() as con:
        totals = table_totals(con, list(TABLES.values()))
        reasons = quarantine_reasons(con)
    text = quality_report_markdown(totals, reasons)
    SETTINGS.reports_dir.mkdir(parents=True, exist_ok=True)
    path = SETTINGS.reports_dir / "data_quality.md"
    path.write_text(text)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(reasons),
            "path": dg.MetadataValue.path(str(path)),
            "report": dg.MetadataValue.md(text),
        }
    )


reporting_assets = [data_quality_report]
