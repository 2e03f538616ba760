"""Batch return scores: recent order lines and customers' expected return rates, with CSV exports."""

import dagster as dg
import pandas as pd

from segmentation_pipeline.defs.helpers import area, frame_markdown, table_schema, write_frame
from segmentation_pipeline.defs.resources import Artifacts, Warehouse
from segmentation_pipeline.domain.returns.features import RETURN_WINDOW_DAYS
from segmentation_pipeline.sql import catalog
from segmentation_pipeline.warehouse import export_table

EXPORTS = {
    catalog.LINE_SCORES: "return_line_scores.csv",
    catalog.CUSTOMER_RETURN_RATES: "customer_expected_return_rate.csv",
}
LINE_SCORE_COLUMNS = {
    "return_probability": "Calibrated probability that the line comes back within the return window.",
    "top_factors": "The three features that move this line's probability most, with the move.",
    "model_version": "The production model that scored the line.",
}
CUSTOMER_RATE_COLUMNS = {
    "expected_return_rate": "Mean return probability of the customer's lines in the scoring period.",
    "scored_lines": "The customer's lines in the scoring period.",
}


class ReturnScoresConfig(dg.Config):
    recent_days: int = 7
    """Lines of orders placed in this many latest days get a batch return probability."""
    customer_days: int = 365
    """A customer's expected return rate averages their lines of this many latest days."""
    window_days: int = RETURN_WINDOW_DAYS
    """Scores come only from a production model predicting returns within this many days."""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "recent_return_scores",
            deps=["return_model", "return_line_facts"],
            kinds={"scikitlearn", "duckdb", "csv"},
            **area("returns"),
            description="Return probability and its three strongest factors for every line of the most recent "
            "orders (`returns.recent_line_scores`, exported as `return_line_scores.csv`).",
        ),
        dg.AssetSpec(
            "customer_expected_return_rates",
            deps=["return_model", "return_line_facts"],
            kinds={"scikitlearn", "duckdb", "csv"},
            **area("returns"),
            description="Each customer's expected return rate: the mean return probability of their lines of the "
            "latest year (`returns.customer_expected_return_rate`, exported as `customer_expected_return_rate.csv`).",
        ),
    ],
)
def return_scores(config: ReturnScoresConfig, warehouse: Warehouse, artifacts: Artifacts):
    """The production model's batch scores of recent lines and of customers, in the warehouse and as CSV
    exports for marketing and BI tools."""
    from segmentation_pipeline.domain.returns.gate import usable
    from segmentation_pipeline.domain.returns.model import batch_scores

    production = artifacts.return_models().load_production()
    model, why_not = usable(production, config.window_days)
    in_force = model.version if model else (f"{why_not}; nothing scored" if why_not else "none in production")
    with warehouse.get_connection() as con:
        latest = con.sql(f"SELECT max(as_of_day) FROM {catalog.LINE_FACTS}").fetchall()[0][0]
        facts = con.execute(
            f"SELECT * FROM {catalog.LINE_FACTS} WHERE as_of_day > CAST($latest AS DATE) - $days",
            {"latest": latest, "days": max(config.recent_days, config.customer_days)},
        ).df()
        recent_start = pd.Timestamp(latest) - pd.Timedelta(days=config.recent_days - 1) if latest else None
        lines, customers = batch_scores(model, facts, recent_start)
        write_frame(con, catalog.LINE_SCORES, lines)
        write_frame(con, catalog.CUSTOMER_RETURN_RATES, customers)
        for table, file_name in EXPORTS.items():
            export_table(con, table, artifacts.export_path(file_name))
        line_schema = table_schema(con, catalog.LINE_SCORES, LINE_SCORE_COLUMNS)
        customer_schema = table_schema(con, catalog.CUSTOMER_RETURN_RATES, CUSTOMER_RATE_COLUMNS)
    riskiest = lines.sort_values("return_probability", ascending=False).head(5)
    yield dg.MaterializeResult(
        asset_key="recent_return_scores",
        metadata={
            "dagster/row_count": len(lines),
            "dagster/column_schema": line_schema,
            "model version": in_force,
            "riskiest recent lines": dg.MetadataValue.md(frame_markdown(riskiest.set_index("order_id"), 3)),
            "export": dg.MetadataValue.path(str(artifacts.export_path(EXPORTS[catalog.LINE_SCORES]))),
        },
    )
    yield dg.MaterializeResult(
        asset_key="customer_expected_return_rates",
        metadata={
            "dagster/row_count": len(customers),
            "dagster/column_schema": customer_schema,
            "model version": in_force,
            "mean expected return rate": float(customers["expected_return_rate"].mean()) if len(customers) else 0.0,
            "export": dg.MetadataValue.path(str(artifacts.export_path(EXPORTS[catalog.CUSTOMER_RETURN_RATES]))),
        },
    )
