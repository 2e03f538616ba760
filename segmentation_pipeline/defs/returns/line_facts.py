"""Order-line facts: what the return model knows about every order line, free of anything learnt later."""

import dagster as dg

from segmentation_pipeline.defs.helpers import area, markdown_preview, table_schema
from segmentation_pipeline.defs.resources import Warehouse
from segmentation_pipeline.domain.returns.features import FACT_COLUMNS
from segmentation_pipeline.sql import catalog, query
from segmentation_pipeline.warehouse import dirty_window, replace_days

LINE_FACTS_COLUMNS = {**FACT_COLUMNS, "as_of_day": "Day the order was placed (the partition)."}


INPUTS = [f"stg_{name}" for name in ("transactions", "returns", "customers", "service_interactions")] + [
    "customer_segments"
]


@dg.asset(**area("returns"), kinds={"duckdb"}, deps=INPUTS)
def return_line_facts(warehouse: Warehouse) -> dg.MaterializeResult:
    """Every order line of each day with its basket and what its customer, product, category and the
    shop had bought, returned and asked before the order was placed: the return model's inputs,
    free of anything learnt after the order. Recomputes the days its inputs rewrote since its last
    run, and every later day."""
    with warehouse.get_connection() as con:
        window = dirty_window(con, "return_line_facts", INPUTS)
        if window is None:
            return dg.MaterializeResult(metadata={"days recomputed": 0, "note": "no input changed since the last run"})
        rows = replace_days(
            con, catalog.LINE_FACTS, window, query("returns/line_facts"), refreshed_by="return_line_facts"
        )
        schema = table_schema(con, catalog.LINE_FACTS, LINE_FACTS_COLUMNS)
        preview = markdown_preview(
            con,
            "SELECT order_id, line_no, order_ts, product_id, quantity, customer_prior_orders, "
            "customer_prior_returned_units, product_prior_units, product_prior_returned_units, customer_segment "
            f"FROM {catalog.LINE_FACTS} WHERE as_of_day >= $start AND as_of_day < $end ORDER BY order_ts DESC",
            window.params,
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "dagster/column_schema": schema,
            "days recomputed": (window.end - window.start).days,
            "latest lines": dg.MetadataValue.md(preview),
        }
    )
