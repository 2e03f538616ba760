"""The scoring state: the latest counts the real-time scoring service needs to describe a new order."""

from pathlib import Path

import dagster as dg

from segmentation_pipeline.defs.helpers import area, markdown_preview, table_schema
from segmentation_pipeline.defs.resources import Artifacts, Warehouse
from segmentation_pipeline.domain.returns.features import FACT_COLUMNS
from segmentation_pipeline.domain.returns.model import CUSTOMER_RATE_COLUMNS
from segmentation_pipeline.domain.returns.scoring import RFM_COLUMNS as STATE_RFM_COLUMNS
from segmentation_pipeline.domain.returns.scoring import VALUE_COLUMNS as STATE_VALUE_COLUMNS
from segmentation_pipeline.domain.segments.refit import SEGMENT_HISTORY_COLUMNS
from segmentation_pipeline.domain.segments.rfm import RFM_COLUMNS
from segmentation_pipeline.domain.segments.snapshot import HISTORY_COLUMNS, SNAPSHOT_COLUMNS
from segmentation_pipeline.sql import catalog, query
from segmentation_pipeline.warehouse import export_table, run_in_transaction

STATE_FACT_COLUMNS = (
    "customer_prior_orders",
    "customer_prior_units",
    "customer_prior_returned_units",
    "customer_prior_lines",
    "customer_prior_returns",
    "customer_prior_contacts",
    "customer_segment",
)
"""Columns of the customer state that a new order's facts take as they are: named and meant as the return
model's facts."""


def customer_state_columns() -> dict[str, str]:
    """Columns of the customers' scoring state (`returns.customer_state`), described as in the tables they come
    from: the return model's facts, the customer history, the segment and RFM histories, the expected return
    rates and the customer values."""
    from segmentation_pipeline.domain.clv.value import VALUE_COLUMNS

    return {
        "customer_id": "Customer with a customer record or at least one staged event.",
        **{name: FACT_COLUMNS[name] for name in STATE_FACT_COLUMNS},
        "first_seen_ts": HISTORY_COLUMNS["first_seen_ts"],
        "last_order_ts": "When the customer's latest order was placed.",
        "segment_id": SEGMENT_HISTORY_COLUMNS["segment_id"],
        **{name: (RFM_COLUMNS | SNAPSHOT_COLUMNS)[name] for name in STATE_RFM_COLUMNS},
        "expected_return_rate": CUSTOMER_RATE_COLUMNS["expected_return_rate"],
        **{name: VALUE_COLUMNS[name] for name in STATE_VALUE_COLUMNS},
    }


@dg.asset(
    **area("returns"),
    kinds={"duckdb", "parquet"},
    deps=[f"stg_{name}" for name in ("transactions", "returns", "customers", "service_interactions")]
    + ["customer_segments", "rfm_segments", "customer_expected_return_rates", "return_model", "customer_value"],
)
def return_scoring_state(warehouse: Warehouse, artifacts: Artifacts) -> dg.MaterializeResult:
    """What every customer, product, category and the shop had bought and returned up to the latest
    staged data, with each customer's segment, lifetime value and churn risk, published with the name of the model in production as one unit (a new folder, then
    one pointer) that the real-time scoring service reads to describe and score a new order."""
    from segmentation_pipeline.serving.state import publish_state

    with warehouse.get_connection() as con:
        run_in_transaction(con, query("returns/scoring_state"), {})

        def write(folder: Path) -> None:
            for file_name, table in catalog.SCORING_STATE.items():
                export_table(con, table, folder / file_name)

        model_version = artifacts.return_models().production_version()
        version = publish_state(Path(artifacts.serving_dir), write, model_version)
        rows = {
            table: con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0] for table in catalog.SCORING_STATE.values()
        }
        shop = markdown_preview(con, f"SELECT * FROM {catalog.SCORING_STATE['shop.parquet']}")
        schema = table_schema(con, catalog.SCORING_STATE["customers.parquet"], customer_state_columns())
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows[catalog.SCORING_STATE["customers.parquet"]],
            "dagster/column_schema": schema,
            "rows per table": dg.MetadataValue.json(rows),
            "state version": version,
            "model published with it": str(model_version),
            "serving folder": dg.MetadataValue.path(str(Path(artifacts.serving_dir) / version)),
            "shop": dg.MetadataValue.md(shop),
        }
    )
