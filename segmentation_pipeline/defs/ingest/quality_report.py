"""The data-quality report: the first page to read after a refresh."""

import dagster as dg

from segmentation_pipeline.defs.helpers import area
from segmentation_pipeline.defs.resources import Artifacts, Warehouse
from segmentation_pipeline.domain.contract import TABLES
from segmentation_pipeline.domain.quality.report import quality_report_markdown
from segmentation_pipeline.warehouse import quarantine_reasons, table_totals


@dg.asset(
    **area("ingest"),
    kinds={"duckdb", "markdown"},
    deps=[*(f"stg_{name}" for name in TABLES), "unplaced_raw_rows"],
)
def data_quality_report(warehouse: Warehouse, artifacts: Artifacts) -> dg.MaterializeResult:
    """Rows kept and rejected per table and reason over every loaded day: the first page to read
    after a refresh, where raw = staged + quarantined + unplaced for each table (a table that does
    not add up is marked). Written to `data_quality.md` in the reports folder."""
    with warehouse.get_connection() as con:
        totals = table_totals(con, list(TABLES.values()))
        reasons = quarantine_reasons(con)
    text = quality_report_markdown(totals, reasons)
    path = artifacts.report_path("data_quality.md")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(reasons),
            "tables not reconciling": ", ".join(t.table for t in totals if t.unaccounted) or "none",
            "path": dg.MetadataValue.path(str(path)),
            "report": dg.MetadataValue.md(text),
        }
    )
