"""The scoring state: the latest counts the real-time scoring service needs to describe a new order."""

from pathlib import Path

import dagster as dg

from segmentation_pipeline.defs.helpers import area, markdown_preview
from segmentation_pipeline.defs.resources import Artifacts, Warehouse
from segmentation_pipeline.sql import catalog, query
from segmentation_pipeline.warehouse import export_table, run_in_transaction


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
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows[catalog.SCORING_STATE["customers.parquet"]],
            "rows per table": dg.MetadataValue.json(rows),
            "state version": version,
            "model published with it": str(model_version),
            "serving folder": dg.MetadataValue.path(str(Path(artifacts.serving_dir) / version)),
            "shop": dg.MetadataValue.md(shop),
        }
    )
