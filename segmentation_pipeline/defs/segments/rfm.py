"""RFM: recency, frequency and money scores and the named RFM segment of every customer and day."""

import dagster as dg

from segmentation_pipeline.defs.helpers import (
    area,
    counts_markdown,
    daily_snapshots,
    replace_days_with_changes,
    table_schema,
)
from segmentation_pipeline.defs.resources import Warehouse
from segmentation_pipeline.domain.segments.rfm import RFM_HISTORY_COLUMNS
from segmentation_pipeline.sql import catalog
from segmentation_pipeline.warehouse import dirty_window


@dg.asset(**area("segments"), kinds={"duckdb", "pandas"}, deps=["customer_history"])
def rfm_segments(warehouse: Warehouse) -> dg.MaterializeResult:
    """RFM scores (quintiles that stay meaningful under ties) and the standard named RFM segment of
    every customer for each day, stored as the days a customer's scores changed; any day's scores
    are each customer's latest row on or before it (`rfm_on(day)` in SQL)."""
    from segmentation_pipeline.domain.segments.rfm import rfm_changes

    with warehouse.get_connection() as con:
        window = dirty_window(con, "rfm_segments", ["customer_history"])
        if window is None:
            return dg.MaterializeResult(
                metadata={"days recomputed": 0, "note": "no history changed since the last run"}
            )
        days = daily_snapshots(con, window, ["recency_days", "frequency", "monetary_net"])
        changes = list(rfm_changes(days, len(days.customer_ids)))
        rows = replace_days_with_changes(con, catalog.RFM_HISTORY, window, changes, refreshed_by="rfm_segments")
        last_day = con.sql(
            "SELECT rfm_segment, count(*) FROM rfm_on(covered_until('rfm_segments')) GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
        schema = table_schema(con, catalog.RFM_HISTORY, RFM_HISTORY_COLUMNS)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "dagster/column_schema": schema,
            "days recomputed": (window.end - window.start).days,
            "customers per segment on the last day": dg.MetadataValue.md(counts_markdown(dict(last_day), "segment")),
        }
    )
