"""Customer history: every customer's state at the end of each day, stored as the days it changed."""

import dagster as dg

from segmentation_pipeline.defs.helpers import area, markdown_preview, table_schema
from segmentation_pipeline.defs.resources import Warehouse
from segmentation_pipeline.domain.contract import ATTRIBUTION_DAYS
from segmentation_pipeline.domain.segments.snapshot import HISTORY_COLUMNS
from segmentation_pipeline.sql import catalog, query
from segmentation_pipeline.warehouse import dirty_window, replace_days

INPUTS = [
    f"stg_{name}" for name in ("transactions", "returns", "customers", "service_interactions", "campaign_exposures")
]


class HistoryConfig(dg.Config):
    attribution_days: int = ATTRIBUTION_DAYS
    """Days after a campaign message in which a purchase counts as its conversion."""


@dg.asset(**area("segments"), kinds={"duckdb"}, deps=INPUTS)
def customer_history(config: HistoryConfig, warehouse: Warehouse) -> dg.MaterializeResult:
    """Every customer's frequency, money spent and kept, order rhythm, returns, service contacts,
    campaign responses and category breadth at the end of each day on which one of them changed,
    computed only from data of that day or earlier. Any day's snapshot is each customer's latest row
    on or before it, with recency and tenure counted to that day (`snapshot_on(day)` in SQL).
    Recomputes the days its inputs rewrote since its last run, and every later day."""
    with warehouse.get_connection() as con:
        window = dirty_window(con, "customer_history", INPUTS)
        if window is None:
            return dg.MaterializeResult(metadata={"days recomputed": 0, "note": "no input changed since the last run"})
        rows = replace_days(
            con,
            catalog.CUSTOMER_HISTORY,
            window,
            query("segments/customer_history"),
            {"attribution_days": config.attribution_days},
            refreshed_by="customer_history",
        )
        schema = table_schema(con, catalog.CUSTOMER_HISTORY, HISTORY_COLUMNS)
        preview = markdown_preview(
            con,
            "SELECT * FROM snapshot_on(covered_until('customer_history')) ORDER BY monetary_net DESC",
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "dagster/column_schema": schema,
            "days recomputed": (window.end - window.start).days,
            "first day recomputed": str(window.start),
            "top customers on the last day": dg.MetadataValue.md(preview),
        }
    )
