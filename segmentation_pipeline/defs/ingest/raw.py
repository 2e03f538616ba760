"""Source rows that belong to no event day: quarantined with their reason, so no source row is lost."""

from datetime import UTC, date, datetime

import dagster as dg

from segmentation_pipeline.defs.helpers import area, counts_markdown, table_schema
from segmentation_pipeline.defs.resources import SourceResource, Warehouse
from segmentation_pipeline.domain.contract import EVENT_TABLES
from segmentation_pipeline.sql import catalog
from segmentation_pipeline.sql.staging import LINEAGE
from segmentation_pipeline.warehouse import quarantine_unplaced_rows

QUARANTINE_COLUMNS = {
    "table_name": "Contract table the row was read for (transactions, returns, ...).",
    "partition_date": "Event day the row belongs to; empty for a row that belongs to no event day.",
    "source_file": LINEAGE["_source_file"][1],
    "source_row": LINEAGE["_source_row"][1],
    "reason": "Why the row was rejected: the first rule it breaks (reason codes in docs/data_quality.md).",
    "field": "The column the reason is about, when there is one.",
    "raw_values": "The row's original values, as the source gave them (JSON).",
}
"""Columns of the quarantine (`staging.quarantine`): every source row kept out of staging, with its reason."""


@dg.asset(
    **area("ingest"),
    kinds={"duckdb"},
    deps=[f"stg_{t.name}" for t in EVENT_TABLES],
)
def unplaced_raw_rows(warehouse: Warehouse, source: SourceResource) -> dg.MaterializeResult:
    """Source rows that belong to no event day: missing, unparseable or future timestamps, or days
    before the first partition. They go to quarantine with their reason so no source row is lost;
    rows dated after the last materialised day are counted as pending, not quarantined."""
    reader = source.reader()
    reader.prepare()
    with warehouse.get_connection() as con:
        summary = quarantine_unplaced_rows(
            con,
            reader,
            EVENT_TABLES,
            first_day=date.fromisoformat(source.partitions_start),
            last_day_end=date.fromisoformat(source.partitions_end) if source.partitions_end else None,
            now=datetime.now(UTC).replace(tzinfo=None),
        )
        schema = table_schema(con, catalog.QUARANTINE, QUARANTINE_COLUMNS)
    quarantined = {k: v for k, v in summary.items() if not k.endswith(":pending")}
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(quarantined.values()),
            "dagster/column_schema": schema,
            "by table and reason": dg.MetadataValue.md(counts_markdown(summary, "table:reason")),
        }
    )
