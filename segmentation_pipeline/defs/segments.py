"""Segments layer: RFM scores and named RFM segments per customer and day."""

from datetime import timedelta

import dagster as dg

from segmentation_pipeline.defs.features import SNAPSHOT_TABLE
from segmentation_pipeline.defs.metadata import counts_markdown, table_schema
from segmentation_pipeline.defs.partitions import daily_partitions, event_window, single_run_backfill
from segmentation_pipeline.defs.resources import Warehouse
from segmentation_pipeline.warehouse import Window, replace_days

RFM_TABLE = "segments.rfm"
RFM_COLUMNS = {
    "r_score": "Recency score 1-5 (5 = bought most recently), ties never split.",
    "f_score": "Frequency score 1-5 (5 = most orders).",
    "m_score": "Monetary score 1-5 (5 = most net money kept).",
    "rfm_cell": "The three scores as text, e.g. 545.",
    "rfm_score": "R + F + M, 3-15.",
    "rfm_segment": "Named segment from the R x FM grid (Champions ... Lost).",
}
# Days scored together; bounds memory on long backfills.
CHUNK_DAYS = 31


def chunks(window: Window, days: int = CHUNK_DAYS) -> list[Window]:
    starts = range(0, (window.end - window.start).days, days)
    return [Window(window.start + timedelta(d), min(window.start + timedelta(d + days), window.end)) for d in starts]


@dg.asset(
    group_name="segments",
    kinds={"duckdb", "pandas"},
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    deps=[dg.AssetDep("customer_snapshot")],
)
def rfm_segments(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """RFM scores (quintiles that stay meaningful under ties) and the standard named RFM segment
    of every customer, for each day."""
    from segmentation_pipeline.domain.rfm import rfm_scores_by_day

    window = event_window(context)
    rows = 0
    with warehouse.get_connection() as con:
        for chunk in chunks(window):
            snapshots = con.execute(
                f"SELECT as_of_day, customer_id, recency_days, frequency, monetary_net FROM {SNAPSHOT_TABLE} "
                "WHERE as_of_day >= $start AND as_of_day < $end",
                chunk.params,
            ).df()
            con.register("scored_days", rfm_scores_by_day(snapshots))
            columns = ", ".join(["as_of_day", "customer_id", *RFM_COLUMNS])
            rows += replace_days(con, RFM_TABLE, chunk, f"SELECT {columns} FROM scored_days")
            con.unregister("scored_days")
        last_day = con.execute(
            f"SELECT rfm_segment, count(*) FROM {RFM_TABLE} WHERE as_of_day = "
            f"(SELECT max(as_of_day) FROM {RFM_TABLE} WHERE as_of_day < $end) GROUP BY 1 ORDER BY 2 DESC",
            {"end": window.end},
        ).fetchall()
        schema = table_schema(con, RFM_TABLE, RFM_COLUMNS)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "dagster/column_schema": schema,
            "customers per segment on the last day": dg.MetadataValue.md(counts_markdown(dict(last_day), "segment")),
        }
    )


segment_assets = [rfm_segments]
