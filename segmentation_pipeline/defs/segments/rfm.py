"""RFM: recency, frequency and money scores and the named RFM segment of every customer and day."""

import dagster as dg

from segmentation_pipeline.defs.helpers import area, counts_markdown, table_schema
from segmentation_pipeline.defs.partitions import daily_partitions, event_window, single_run_backfill
from segmentation_pipeline.defs.resources import Warehouse
from segmentation_pipeline.domain.segments.rfm import RFM_COLUMNS
from segmentation_pipeline.sql import catalog
from segmentation_pipeline.warehouse import chunks, last_day_counts, replace_days


@dg.asset(
    **area("segments"),
    kinds={"duckdb", "pandas"},
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    deps=["customer_snapshot"],
)
def rfm_segments(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """RFM scores (quintiles that stay meaningful under ties) and the standard named RFM segment
    of every customer, for each day."""
    from segmentation_pipeline.domain.segments.rfm import rfm_scores_by_day

    window = event_window(context)
    rows = 0
    with warehouse.get_connection() as con:
        for chunk in chunks(window):
            snapshots = con.execute(
                f"SELECT as_of_day, customer_id, recency_days, frequency, monetary_net FROM {catalog.SNAPSHOT} "
                "WHERE as_of_day >= $start AND as_of_day < $end",
                chunk.params,
            ).df()
            con.register("scored_days", rfm_scores_by_day(snapshots))
            columns = ", ".join(["as_of_day", "customer_id", *RFM_COLUMNS])
            rows += replace_days(con, catalog.RFM, chunk, f"SELECT {columns} FROM scored_days")
            con.unregister("scored_days")
        last_day = dict(last_day_counts(con, catalog.RFM, "rfm_segment", window))
        schema = table_schema(con, catalog.RFM, RFM_COLUMNS)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "dagster/column_schema": schema,
            "customers per segment on the last day": dg.MetadataValue.md(counts_markdown(last_day, "segment")),
        }
    )
