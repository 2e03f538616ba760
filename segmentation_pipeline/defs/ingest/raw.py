"""Raw layer: each contract table copied as text from the configured source, by event day."""

from datetime import UTC, date, datetime

import dagster as dg

from segmentation_pipeline.defs.helpers import area, counts_markdown, markdown_preview, table_schema
from segmentation_pipeline.defs.partitions import daily_partitions, event_window, single_run_backfill
from segmentation_pipeline.defs.resources import SourceResource, Warehouse
from segmentation_pipeline.domain.contract import EVENT_TABLES, TABLES, Table
from segmentation_pipeline.sql.staging import window_filter
from segmentation_pipeline.warehouse import load_raw_window, quarantine_unplaced_rows


def build_raw_asset(table: Table) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"raw_{table.name}",
        **area("ingest"),
        kinds={"duckdb"},
        partitions_def=daily_partitions if table.partitioned else None,
        backfill_policy=single_run_backfill if table.partitioned else None,
        description=(
            f"{table.description} Exactly as the source holds them (text), with the source file and row, "
            + ("for the event days of the partition." if table.partitioned else "replaced in full on each run.")
        ),
    )
    def raw_asset(
        context: dg.AssetExecutionContext, warehouse: Warehouse, source: SourceResource
    ) -> dg.MaterializeResult:
        reader = source.reader()
        reader.prepare()
        window = event_window(context)
        with warehouse.get_connection() as con:
            rows = load_raw_window(con, reader, table, window)
            return dg.MaterializeResult(
                metadata={
                    "dagster/row_count": rows,
                    "dagster/column_schema": table_schema(con, f"raw.{table.name}", table.descriptions),
                    "source": reader.describe(),
                    "preview": dg.MetadataValue.md(
                        markdown_preview(
                            con,
                            f"SELECT * FROM raw.{table.name} WHERE {window_filter(table)}",
                            window.params if table.partitioned else None,
                        )
                    ),
                }
            )

    return raw_asset


@dg.asset(
    **area("ingest"),
    kinds={"duckdb"},
    deps=[f"raw_{t.name}" for t in EVENT_TABLES],
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
    quarantined = {k: v for k, v in summary.items() if not k.endswith(":pending")}
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(quarantined.values()),
            "by table and reason": dg.MetadataValue.md(counts_markdown(summary, "table:reason")),
        }
    )


raw_assets = [build_raw_asset(t) for t in TABLES.values()] + [unplaced_raw_rows]
