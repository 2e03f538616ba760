"""Customer snapshots: every customer's state at the end of each day, the input of RFM and segments."""

import dagster as dg

from segmentation_pipeline.defs.helpers import area, markdown_preview, table_schema
from segmentation_pipeline.defs.partitions import daily_partitions, event_window, single_run_backfill
from segmentation_pipeline.defs.resources import Warehouse
from segmentation_pipeline.domain.contract import ATTRIBUTION_DAYS
from segmentation_pipeline.domain.segments.snapshot import SNAPSHOT_COLUMNS
from segmentation_pipeline.sql import catalog, query
from segmentation_pipeline.warehouse import replace_days


class SnapshotConfig(dg.Config):
    attribution_days: int = ATTRIBUTION_DAYS
    """Days after a campaign message in which a purchase counts as its conversion."""


@dg.asset(
    **area("segments"),
    kinds={"duckdb"},
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    deps=[f"stg_{name}" for name in ("transactions", "returns", "customers", "service_interactions")]
    + ["stg_campaign_exposures"],
)
def customer_snapshot(
    context: dg.AssetExecutionContext, config: SnapshotConfig, warehouse: Warehouse
) -> dg.MaterializeResult:
    """Every customer's recency, frequency, money spent and kept, tenure, order rhythm, returns,
    service contacts, campaign responses and category breadth as they stood at the end of each day,
    computed only from data of that day or earlier."""
    window = event_window(context)
    with warehouse.get_connection() as con:
        rows = replace_days(
            con,
            catalog.SNAPSHOT,
            window,
            query("segments/customer_snapshot"),
            {"attribution_days": config.attribution_days},
        )
        schema = table_schema(con, catalog.SNAPSHOT, SNAPSHOT_COLUMNS)
        preview = markdown_preview(
            con,
            f"SELECT * FROM {catalog.SNAPSHOT} WHERE as_of_day = (SELECT max(as_of_day) FROM {catalog.SNAPSHOT} "
            "WHERE as_of_day < $end) ORDER BY monetary_net DESC",
            {"end": window.end},
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "dagster/column_schema": schema,
            "top customers on the last day": dg.MetadataValue.md(preview),
        }
    )
