"""Staging: each contract table read from the source as text (`raw.<table>`), typed, trimmed and
deduplicated (`staging.<table>`); rows that break a rule go to `staging.quarantine` with a reason."""

import dagster as dg

from segmentation_pipeline.defs.helpers import area, counts_markdown, table_schema
from segmentation_pipeline.defs.partitions import event_window, first_day, monthly_partitions, single_run_backfill
from segmentation_pipeline.defs.resources import SourceResource, Warehouse
from segmentation_pipeline.domain.contract import TABLES, Table
from segmentation_pipeline.sql import catalog
from segmentation_pipeline.sql.staging import staged_columns
from segmentation_pipeline.warehouse import (
    Window,
    customers_fingerprint,
    days_to_stage,
    load_raw_window,
    quarantine_by_reason,
    reconcile,
    record_refresh,
    stage_window,
    staged_per_month,
)

# Tables a staging table is checked against: customers for unknown references,
# transactions for matching returns to purchases.
REFERENCES = {
    "transactions": ["stg_customers"],
    "returns": ["stg_customers", "stg_transactions"],
    "campaign_exposures": ["stg_customers"],
    "service_interactions": ["stg_customers"],
}


class StagingConfig(dg.Config):
    force: bool = False
    """Restage every day of the partitions, even days whose source rows did not change (e.g. after
    a change of the staging rules); by default only new, changed or vanished days are staged."""


def staged_text(table: Table, restage: Window | None) -> str:
    if restage is None:
        return "nothing: no source row changed"
    return f"{len(restage.days())} days from {restage.start}" if table.partitioned else "the whole table"


def build_staging_asset(table: Table) -> dg.AssetsDefinition:
    columns = staged_columns(table)
    descriptions = {name: text for name, _, text in columns}

    @dg.asset(
        name=f"stg_{table.name}",
        **area("ingest"),
        kinds={"duckdb"},
        deps=REFERENCES.get(table.name, []),
        partitions_def=monthly_partitions if table.partitioned else None,
        backfill_policy=single_run_backfill if table.partitioned else None,
        metadata={
            "dagster/column_schema": dg.TableSchema(
                columns=[dg.TableColumn(n, kind, description=text) for n, kind, text in columns]
            )
        },
        description=(
            f"{table.description} Read from the source as text with its file and row (`raw.{table.name}`), "
            + (
                "for the event days of the partition's months whose source rows are new or changed, "
                if table.partitioned
                else "replaced in full when the source's rows changed, "
            )
            + "then typed, trimmed and deduplicated; rows that break a rule are moved to `staging.quarantine` "
            "with a reason code and their original values."
        ),
    )
    def staging_asset(
        context: dg.AssetExecutionContext, config: StagingConfig, warehouse: Warehouse, source: SourceResource
    ) -> dg.MaterializeResult:
        reader = source.reader()
        reader.prepare()
        window = event_window(context)
        with warehouse.get_connection() as con:
            restage = days_to_stage(con, reader, table, window, force=config.force)
            if restage is not None:
                signups = None if table.partitioned else customers_fingerprint(con)
                load_raw_window(con, reader, table, restage)
                stage_window(con, table, restage, staged_by=f"stg_{table.name}")
                if signups is not None and customers_fingerprint(con) != signups:
                    # signups shape every customer's tenure: the histories recompute from the first day
                    record_refresh(con, f"stg_{table.name}", Window(first_day(), first_day()))
            counts = reconcile(con, table, window)
            metadata = {
                "dagster/column_schema": table_schema(con, catalog.staging(table.name), descriptions),
                "staged in this run": staged_text(table, restage),
                "raw rows": counts.raw,
                "staged rows": counts.staged,
                "quarantined rows": counts.quarantined,
                "quarantine by reason": dg.MetadataValue.md(counts_markdown(quarantine_by_reason(con, table, window))),
            }
            if table.partitioned:  # each month's materialisation carries its own row count
                for month, rows in staged_per_month(con, table, window).items():
                    context.add_asset_metadata({"dagster/row_count": rows}, partition_key=month)
                metadata["days staged in this run"] = 0 if restage is None else len(restage.days())
            else:
                metadata["dagster/row_count"] = counts.staged
            return dg.MaterializeResult(metadata=metadata)

    return staging_asset


staging_assets = [build_staging_asset(t) for t in TABLES.values()]
