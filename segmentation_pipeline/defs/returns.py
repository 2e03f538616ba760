"""Returns layer: what the return model knows about every order line, and the latest counts the
scoring service needs to describe a new order the same way."""

from pathlib import Path

import dagster as dg

from segmentation_pipeline.defs.metadata import markdown_preview, table_schema
from segmentation_pipeline.defs.partitions import daily_partitions, event_window, single_run_backfill
from segmentation_pipeline.defs.resources import Warehouse
from segmentation_pipeline.domain.return_features import FACT_COLUMNS
from segmentation_pipeline.settings import SETTINGS
from segmentation_pipeline.warehouse import export_table, replace_days, run_in_transaction

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
RETURN_MACROS_SQL = (SQL_DIR / "return_events.sql").read_text()
LINE_FACTS_SQL = (SQL_DIR / "return_line_facts.sql").read_text()
LABELS_SQL = (SQL_DIR / "return_labels.sql").read_text()
SCORING_STATE_SQL = (SQL_DIR / "return_scoring_state.sql").read_text()

LINE_FACTS_TABLE = "returns.line_facts"
LINE_FACTS_COLUMNS = {**FACT_COLUMNS, "as_of_day": "Day the order was placed (the partition)."}
# Serving file name -> warehouse table of the scoring state.
SCORING_STATE_TABLES = {
    "customers.parquet": "returns.customer_state",
    "products.parquet": "returns.product_state",
    "categories.parquet": "returns.category_state",
    "shop.parquet": "returns.shop_state",
}
RETURN_INPUTS = [f"stg_{name}" for name in ("transactions", "returns", "customers", "service_interactions")]


@dg.asset(
    group_name="returns",
    kinds={"duckdb"},
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    deps=[*RETURN_INPUTS, "customer_segments"],
)
def return_line_facts(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Every order line of each day with its basket and what its customer, product, category and the
    shop had bought, returned and asked before the order was placed: the return model's inputs,
    free of anything learnt after the order."""
    window = event_window(context)
    with warehouse.get_connection() as con:
        run_in_transaction(con, RETURN_MACROS_SQL, {})
        rows = replace_days(con, LINE_FACTS_TABLE, window, LINE_FACTS_SQL)
        schema = table_schema(con, LINE_FACTS_TABLE, LINE_FACTS_COLUMNS)
        preview = markdown_preview(
            con,
            "SELECT order_id, line_no, order_ts, product_id, quantity, customer_prior_orders, "
            "customer_prior_returned_units, product_prior_units, product_prior_returned_units, customer_segment "
            f"FROM {LINE_FACTS_TABLE} WHERE as_of_day >= $start AND as_of_day < $end ORDER BY order_ts DESC",
            window.params,
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "dagster/column_schema": schema,
            "latest lines": dg.MetadataValue.md(preview),
        }
    )


@dg.asset(
    group_name="returns",
    kinds={"duckdb", "parquet"},
    deps=[*RETURN_INPUTS, "customer_segments", "rfm_segments", "customer_expected_return_rates"],
)
def return_scoring_state(warehouse: Warehouse) -> dg.MaterializeResult:
    """What every customer, product, category and the shop had bought and returned up to the latest
    staged data, exported as Parquet files the real-time scoring service reads to describe a new order."""
    with warehouse.get_connection() as con:
        run_in_transaction(con, RETURN_MACROS_SQL, {})
        run_in_transaction(con, SCORING_STATE_SQL, {})
        rows = {}
        for file_name, table in SCORING_STATE_TABLES.items():
            export_table(con, table, SETTINGS.serving_dir / file_name)
            rows[table] = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        shop = markdown_preview(con, "SELECT * FROM returns.shop_state")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows["returns.customer_state"],
            "rows per table": dg.MetadataValue.json(rows),
            "serving folder": dg.MetadataValue.path(str(SETTINGS.serving_dir)),
            "shop": dg.MetadataValue.md(shop),
        }
    )


return_assets = [return_line_facts, return_scoring_state]
