"""Batch return scores: recent order lines and customers' expected return rates, with CSV exports."""

from datetime import date, timedelta

import dagster as dg
import pandas as pd

from segmentation_pipeline.defs.helpers import area, frame_markdown, table_schema
from segmentation_pipeline.defs.resources import Artifacts, Warehouse
from segmentation_pipeline.domain.returns.features import RETURN_WINDOW_DAYS
from segmentation_pipeline.domain.returns.model import CUSTOMER_RATE_COLUMNS, LINE_SCORE_COLUMNS
from segmentation_pipeline.sql import catalog, query
from segmentation_pipeline.warehouse import Window, dirty_window, export_table, record_refresh

EXPORTS = {
    catalog.RECENT_LINE_SCORES: "return_line_scores.csv",
    catalog.CUSTOMER_RETURN_RATES: "customer_expected_return_rate.csv",
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
    exports for marketing and BI tools. Each line is scored once by the model in force: a daily refresh
    scores the new day's lines, a new model or recomputed facts rescore what they change."""
    from segmentation_pipeline.domain.returns.gate import usable
    from segmentation_pipeline.domain.returns.model import line_scores

    model, why_not = usable(artifacts.return_models().load_production(), config.window_days)
    in_force = model.version if model else (f"{why_not}; nothing scored" if why_not else "none in production")
    with warehouse.get_connection() as con:
        latest = con.sql("SELECT covered_until('return_line_facts')").fetchall()[0][0]
        recomputed = dirty_window(con, "return_scores", ["return_line_facts"])
        recomputed = recomputed or Window(date.min, date.min)
        if latest is None:
            latest = date.min + timedelta(days=config.customer_days)
        first = latest - timedelta(days=config.customer_days - 1)
        recent = latest - timedelta(days=config.recent_days - 1)
        stale = {"first": first, "version": model.version if model else None, **recomputed.params}
        con.execute(query("returns/stale_scores"), stale).fetchall()
        if model is not None:
            facts = con.execute(query("returns/unscored_lines"), {"first": first, "last": latest}).df()
            con.register("new_scores", line_scores(model, facts, pd.Timestamp(recent)))
            con.execute(f"INSERT INTO {catalog.LINE_SCORES} BY NAME SELECT * FROM new_scores").fetchall()
            con.unregister("new_scores")
        record_refresh(con, "return_scores", Window(first, latest + timedelta(days=1)))
        con.execute(
            f"CREATE OR REPLACE TABLE {catalog.RECENT_LINE_SCORES} AS SELECT * EXCLUDE (as_of_day) "
            f"FROM {catalog.LINE_SCORES} WHERE as_of_day >= $recent ORDER BY order_ts, order_id, line_no",
            {"recent": recent},
        ).fetchall()
        con.execute(query("returns/customer_return_rates")).fetchall()
        for table, file_name in EXPORTS.items():
            export_table(con, table, artifacts.export_path(file_name))
        line_schema = table_schema(con, catalog.RECENT_LINE_SCORES, LINE_SCORE_COLUMNS)
        customer_schema = table_schema(con, catalog.CUSTOMER_RETURN_RATES, CUSTOMER_RATE_COLUMNS)
        riskiest = con.sql(f"SELECT * FROM {catalog.RECENT_LINE_SCORES} ORDER BY return_probability DESC LIMIT 5").df()
        counts = con.sql(
            f"SELECT (SELECT count(*) FROM {catalog.RECENT_LINE_SCORES}), count(*), avg(expected_return_rate) "
            f"FROM {catalog.CUSTOMER_RETURN_RATES}"
        ).fetchall()[0]
    yield dg.MaterializeResult(
        asset_key="recent_return_scores",
        metadata={
            "dagster/row_count": counts[0],
            "dagster/column_schema": line_schema,
            "model version": in_force,
            "lines scored in this run": len(facts) if model is not None else 0,
            "riskiest recent lines": dg.MetadataValue.md(frame_markdown(riskiest.set_index("order_id"), 3)),
            "export": dg.MetadataValue.path(str(artifacts.export_path(EXPORTS[catalog.RECENT_LINE_SCORES]))),
        },
    )
    yield dg.MaterializeResult(
        asset_key="customer_expected_return_rates",
        metadata={
            "dagster/row_count": counts[1],
            "dagster/column_schema": customer_schema,
            "model version": in_force,
            "mean expected return rate": float(counts[2] or 0.0),
            "export": dg.MetadataValue.path(str(artifacts.export_path(EXPORTS[catalog.CUSTOMER_RETURN_RATES]))),
        },
    )
