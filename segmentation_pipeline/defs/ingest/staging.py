"""Staging layer: typed, trimmed, deduplicated contract tables; rejected rows go to quarantine."""

import dagster as dg

from segmentation_pipeline.defs.helpers import area, counts_markdown, markdown_preview, table_schema
from segmentation_pipeline.defs.partitions import daily_partitions, event_window, single_run_backfill
from segmentation_pipeline.defs.resources import Warehouse
from segmentation_pipeline.domain.contract import TABLES, Table
from segmentation_pipeline.sql.staging import window_filter
from segmentation_pipeline.warehouse import quarantine_by_reason, stage_window

# Tables a staging table is checked against: customers for unknown references,
# transactions for matching returns to purchases.
REFERENCES = {
    "transactions": ["stg_customers"],
    "returns": ["stg_customers", "stg_transactions"],
    "campaign_exposures": ["stg_customers"],
    "service_interactions": ["stg_customers"],
}


def build_staging_asset(table: Table) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"stg_{table.name}",
        **area("ingest"),
        kinds={"duckdb"},
        deps=[f"raw_{table.name}", *REFERENCES.get(table.name, [])],
        partitions_def=daily_partitions if table.partitioned else None,
        backfill_policy=single_run_backfill if table.partitioned else None,
        description=(
            f"{table.description} Typed, trimmed and deduplicated; rows that break a rule are moved to "
            "`staging.quarantine` with a reason code and their original values."
        ),
    )
    def staging_asset(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        window = event_window(context)
        params = window.params if table.partitioned else None
        with warehouse.get_connection() as con:
            counts = stage_window(con, table, window)
            reasons = quarantine_by_reason(con, table, window)
            return dg.MaterializeResult(
                metadata={
                    "dagster/row_count": counts.staged,
                    "dagster/column_schema": table_schema(con, f"staging.{table.name}", table.descriptions),
                    "raw rows": counts.raw,
                    "quarantined rows": counts.quarantined,
                    "quarantine by reason": dg.MetadataValue.md(counts_markdown(reasons)),
                    "preview": dg.MetadataValue.md(
                        markdown_preview(
                            con, f"SELECT * FROM staging.{table.name} WHERE {window_filter(table)}", params
                        )
                    ),
                }
            )

    return staging_asset


staging_assets = [build_staging_asset(t) for t in TABLES.values()]
