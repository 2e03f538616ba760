"""Insights on segments: profiles with actions, transitions, acquisition cohorts, recovery of known types."""

from datetime import date

import dagster as dg
import duckdb
import pandas as pd

from segmentation_pipeline.defs.features import SNAPSHOT_TABLE
from segmentation_pipeline.defs.metadata import table_schema
from segmentation_pipeline.defs.resources import SourceResource, Warehouse
from segmentation_pipeline.defs.segments import SEGMENTS_TABLE


def write_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Replace a whole table with a model-sized frame."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}").fetchall()
    con.register("frame_to_write", frame)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM frame_to_write").fetchall()
    con.unregister("frame_to_write")


def frame_markdown(frame: pd.DataFrame, digits: int = 2) -> str:
    numbers = frame.select_dtypes("number").columns
    return frame.round({c: digits for c in numbers}).to_markdown() if not frame.empty else "_no rows_"


LATEST_SEGMENT_DAY = f"(SELECT max(as_of_day) FROM {SEGMENTS_TABLE})"
# Net spend per customer and category up to the end of the latest segment day: line value after
# discounts minus refunds, a refund counted in the category of the returned product.
CATEGORY_SPEND_SQL = f"""
WITH until AS (SELECT CAST({LATEST_SEGMENT_DAY} + INTERVAL 1 DAY AS TIMESTAMP) AS end_ts),
product_categories AS (
    SELECT product_id, min(category) AS category FROM staging.transactions
    WHERE category IS NOT NULL GROUP BY product_id
)
SELECT customer_id, category, sum(amount) AS net_spend FROM (
    SELECT customer_id, category, net_amount AS amount FROM staging.transactions
    WHERE category IS NOT NULL AND order_ts < (SELECT end_ts FROM until)
    UNION ALL
    SELECT r.customer_id, p.category, -coalesce(r.refund_amount, 0) AS amount
    FROM staging.returns r JOIN product_categories p USING (product_id)
    WHERE r.return_ts < (SELECT end_ts FROM until)
)
GROUP BY customer_id, category
"""
PROFILE_COLUMNS = {
    "as_of_day": "The day the profile describes (latest day with segments).",
    "segment": "Segment id, stable across model refits.",
    "segment_name": "Readable segment name.",
    "top_categories": "Categories with the largest share of the segment's net spend up to the day.",
    "recommended_action": "Marketing action from the playbook.",
}


@dg.asset(group_name="segments", kinds={"duckdb", "pandas"}, deps=["customer_segments"])
def segment_profiles(warehouse: Warehouse) -> dg.MaterializeResult:
    """What each segment looks like on the latest day: size, share of customers and revenue, mean and
    median R/F/M, order value, return rate, the features that set it apart (standardised differences
    from all customers), its top categories by share of net spend and the marketing action the
    playbook recommends."""
    from segmentation_pipeline.domain.clustering import recommended_action
    from segmentation_pipeline.domain.clustering import segment_profiles as profile

    with warehouse.get_connection() as con:
        latest = con.sql(
            f"SELECT s.*, c.segment_id, c.segment_name FROM {SNAPSHOT_TABLE} s JOIN {SEGMENTS_TABLE} c "
            f"USING (as_of_day, customer_id) WHERE as_of_day = {LATEST_SEGMENT_DAY}"
        ).df()
        category_spend = con.sql(CATEGORY_SPEND_SQL).df()
        profiles = profile(latest, latest["segment_id"].to_numpy(), category_spend)
        names = latest.groupby("segment_id")["segment_name"].first()
        profiles.insert(0, "segment_name", names.reindex(profiles.index))
        profiles["recommended_action"] = [recommended_action(n) for n in profiles["segment_name"]]
        profiles.insert(0, "as_of_day", latest["as_of_day"].max())
        write_frame(con, "segments.segment_profiles", profiles.reset_index())
        schema = table_schema(con, "segments.segment_profiles", PROFILE_COLUMNS)
    summary = profiles[["segment_name", "customers", "share_customers", "revenue_share", "return_rate"]]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(profiles),
            "dagster/column_schema": schema,
            "profiles": dg.MetadataValue.md(frame_markdown(summary)),
            "top categories": dg.MetadataValue.md(frame_markdown(profiles[["segment_name", "top_categories"]])),
            "actions": dg.MetadataValue.md(frame_markdown(profiles[["segment_name", "recommended_action"]])),
        }
    )


class TransitionsConfig(dg.Config):
    from_day: str | None = None
    """First snapshot day (ISO date, e.g. 2025-03-31); empty: the month end before `to_day`."""
    to_day: str | None = None
    """Second snapshot day (ISO date); empty: the latest month end with segments."""
    forecast_periods: int = 3
    """Steps of the `from_day` to `to_day` interval the size forecast projects ahead."""


def iso_day(field: str, text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError as error:
        raise ValueError(f"{field}: {text!r} is not an ISO date (YYYY-MM-DD)") from error


@dg.asset(group_name="segments", kinds={"duckdb", "pandas"}, deps=["customer_segments"])
def segment_transitions(config: TransitionsConfig, warehouse: Warehouse) -> dg.MaterializeResult:
    """How customers moved between segments from one snapshot day to another (by default the previous
    month end to the latest one): counts and rates, with customers who left and who arrived, and a
    Markov forecast of segment sizes."""
    from segmentation_pipeline.domain.transitions import segment_migration, snapshot_pair

    with warehouse.get_connection() as con:
        days = [row[0] for row in con.sql(f"SELECT DISTINCT as_of_day FROM {SEGMENTS_TABLE}").fetchall()]
        pair = snapshot_pair(days, iso_day("from_day", config.from_day), iso_day("to_day", config.to_day))
        if pair is None:
            return dg.MaterializeResult(metadata={"note": "needs segments on two month ends"})
        assignments = con.execute(
            f"SELECT customer_id, as_of_day AS as_of, segment_name AS segment FROM {SEGMENTS_TABLE} "
            "WHERE as_of_day IN ($first, $second)",
            {"first": pair[0], "second": pair[1]},
        ).df()
        migration = segment_migration(assignments, *pair, periods=config.forecast_periods)
        write_frame(con, "segments.transition_counts", migration.counts.reset_index(names="from_segment"))
        write_frame(con, "segments.transition_rates", migration.rates.reset_index(names="from_segment"))
        write_frame(con, "segments.size_forecast", migration.forecast.reset_index(names="period"))
        schema = table_schema(con, "segments.transition_rates")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(migration.counts),
            "dagster/column_schema": schema,
            "from": str(pair[0]),
            "to": str(pair[1]),
            "transition rates": dg.MetadataValue.md(frame_markdown(migration.rates)),
            "forecast of segment sizes (steps ahead)": dg.MetadataValue.md(frame_markdown(migration.forecast, 0)),
        }
    )


@dg.asset(group_name="segments", kinds={"duckdb", "pandas"}, deps=["stg_transactions", "customer_segments"])
def acquisition_cohorts(warehouse: Warehouse) -> dg.MaterializeResult:
    """Customers grouped by the month of their first purchase: share still buying and revenue per
    customer in each month since, and the segment mix of each cohort today."""
    from segmentation_pipeline.domain.cohorts import cohort_matrices, segment_mix

    with warehouse.get_connection() as con:
        # one row per customer and month of purchase: all the cohort tables need
        orders = con.sql(
            "SELECT customer_id, date_trunc('month', order_ts) AS order_ts, SUM(net_amount) AS net_amount "
            "FROM staging.transactions GROUP BY ALL"
        ).df()
        latest = con.sql(
            f"SELECT customer_id, segment_name AS segment FROM {SEGMENTS_TABLE} "
            f"WHERE as_of_day = (SELECT max(as_of_day) FROM {SEGMENTS_TABLE})"
        ).df()
        cohorts = cohort_matrices(orders)
        mix = segment_mix(cohorts.first_purchase, latest)
        for name, frame in {
            "retention": cohorts.retention,
            "revenue_per_customer": cohorts.revenue_per_customer,
            "segment_mix": mix,
        }.items():
            wide = frame.copy()
            wide.columns = [f"m{c}" if not isinstance(c, str) else c for c in wide.columns]
            write_frame(con, f"segments.cohort_{name}", wide.reset_index())
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(cohorts.customers),
            "retention (first 6 months)": dg.MetadataValue.md(frame_markdown(cohorts.retention.iloc[:, :6])),
        }
    )


CONFUSION_TABLE = "segments.latent_type_confusion"


@dg.asset(group_name="segments", kinds={"duckdb", "scikitlearn"}, deps=["customer_segments"])
def segments_vs_latent_types(warehouse: Warehouse, source: SourceResource) -> dg.MaterializeResult:
    """Whether the latest segments find the shop's true customer types, where the source knows them
    (the synthetic shop): the adjusted Rand index between segments and types, and how many customers
    of each type fall in each segment. The ground truth is read only for this evaluation."""
    from segmentation_pipeline.domain.evaluation import segments_vs_types

    truth = source.customer_truth_path()
    if truth is None:
        return dg.MaterializeResult(
            metadata={"ground truth": f"none: {source.reader().describe()} has no known customer types"}
        )
    with warehouse.get_connection() as con:
        pairs = con.execute(
            f"SELECT c.customer_id, c.segment_name, t.latent_type FROM {SEGMENTS_TABLE} c "
            f"JOIN read_parquet($truth) t USING (customer_id) WHERE c.as_of_day = {LATEST_SEGMENT_DAY}",
            {"truth": str(truth)},
        ).df()
        recovery = segments_vs_types(pairs)
        write_frame(con, CONFUSION_TABLE, recovery.confusion.reset_index())
        schema = table_schema(con, CONFUSION_TABLE)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(recovery.confusion),
            "dagster/column_schema": schema,
            "ground truth": str(truth),
            "customers compared": recovery.customers,
            "adjusted Rand index": round(recovery.adjusted_rand_index, 3),
            "customers per latent type (rows) and segment (columns)": dg.MetadataValue.md(
                frame_markdown(recovery.confusion)
            ),
        }
    )


insight_assets = [segment_profiles, segment_transitions, acquisition_cohorts, segments_vs_latent_types]
