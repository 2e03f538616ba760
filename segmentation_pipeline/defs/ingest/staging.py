"""Staging: each contract table read from the source as text (`raw.<table>`), typed, trimmed and
deduplicated (`staging.<table>`); rows that break a rule go to `staging.quarantine` with a reason."""

import dagster as dg

from segmentation_pipeline.defs.helpers import area, counts_markdown, markdown_preview, table_schema
from segmentation_pipeline.defs.partitions import daily_partitions, event_window, first_day, single_run_backfill
from segmentation_pipeline.defs.resources import SourceResource, Warehouse
from segmentation_pipeline.domain.contract import TABLES, Table
from segmentation_pipeline.sql.staging import window_filter
from segmentation_pipeline.warehouse import (
    Window,
    customers_fingerprint,
    load_raw_window,
    quarantine_by_reason,
    record_refresh,
    stage_window,
)

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
        deps=REFERENCES.get(table.name, []),
        partitions_def=daily_partitions if table.partitioned else None,
        backfill_policy=single_run_backfill if table.partitioned else None,
        description=(
            f"{table.description} Read from the source as text with its file and row (`raw.{table.name}`), "
            + ("for the event days of the partition, " if table.partitioned else "replaced in full on each run, ")
            + "then typed, trimmed and deduplicated; rows that break a rule are moved to `staging.quarantine` "
            "with a reason code and their original values."
        ),
    )
    def staging_asset(
        context: dg.AssetExecutionContext, warehouse: Warehouse, source: SourceResource
    ) -> dg.MaterializeResult:
        reader = source.reader()
        reader.prepare()
        window = event_window(context)
        params = window.params if table.partitioned else None
        with warehouse.get_connection() as con:
            load_raw_window(con, reader, table, window)
            if table.partitioned:
                counts = stage_window(con, table, window, refreshed_by=f"stg_{table.name}")
            else:
                before = customers_fingerprint(con)
                counts = stage_window(con, table, window)
                if customers_fingerprint(con) != before:  # signups shape every customer's tenure
                    record_refresh(con, f"stg_{table.name}", Window(first_day(), first_day()))
            reasons = quarantine_by_reason(con, table, window)
            return dg.MaterializeResult(
                metadata={
                    "dagster/row_count": counts.staged,
                    "dagster/column_schema": table_schema(con, f"staging.{table.name}", table.descriptions),
                    "source": reader.describe(),
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
