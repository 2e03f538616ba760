"""Insights on segments: profiles with actions, month-over-month transitions, acquisition cohorts."""

import dagster as dg
import duckdb
import pandas as pd

from segmentation_pipeline.defs.features import SNAPSHOT_TABLE
from segmentation_pipeline.defs.resources import Warehouse
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


@dg.asset(group_name="segments", kinds={"duckdb", "pandas"}, deps=["customer_segments"])
def segment_profiles(warehouse: Warehouse) -> dg.MaterializeResult:
    """What each segment looks like on the latest day: size, share of customers and revenue, mean and
    median R/F/M, order value, return rate, the features that set it apart (standardised differences
    from all customers) and the marketing action the playbook recommends."""
    from segmentation_pipeline.domain.clustering import recommended_action
    from segmentation_pipeline.domain.clustering import segment_profiles as profile

    with warehouse.get_connection() as con:
        latest = con.sql(
            f"SELECT s.*, c.segment_id, c.segment_name FROM {SNAPSHOT_TABLE} s JOIN {SEGMENTS_TABLE} c "
            f"USING (as_of_day, customer_id) WHERE as_of_day = (SELECT max(as_of_day) FROM {SEGMENTS_TABLE})"
        ).df()
        profiles = profile(latest, latest["segment_id"].to_numpy())
        names = latest.groupby("segment_id")["segment_name"].first()
        profiles.insert(0, "segment_name", names.reindex(profiles.index))
        profiles["recommended_action"] = [recommended_action(n) for n in profiles["segment_name"]]
        profiles.insert(0, "as_of_day", latest["as_of_day"].max())
        write_frame(con, "segments.segment_profiles", profiles.reset_index())
    summary = profiles[["segment_name", "customers", "share_customers", "revenue_share", "return_rate"]]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(profiles),
            "profiles": dg.MetadataValue.md(frame_markdown(summary)),
            "actions": dg.MetadataValue.md(frame_markdown(profiles[["segment_name", "recommended_action"]])),
        }
    )


@dg.asset(group_name="segments", kinds={"duckdb", "pandas"}, deps=["customer_segments"])
def segment_transitions(warehouse: Warehouse) -> dg.MaterializeResult:
    """How customers moved between segments from the previous month end to the latest one (counts and
    rates, with customers who left and who arrived), and a Markov forecast of segment sizes."""
    from segmentation_pipeline.domain.transitions import markov_forecast, monthly_snapshot_dates, transition_matrix

    with warehouse.get_connection() as con:
        days = [row[0] for row in con.sql(f"SELECT DISTINCT as_of_day FROM {SEGMENTS_TABLE}").fetchall()]
        month_ends = monthly_snapshot_dates(days)[-2:]
        if len(month_ends) < 2:
            return dg.MaterializeResult(metadata={"note": "needs segments on two month ends"})
        assignments = con.execute(
            f"SELECT customer_id, as_of_day AS as_of, segment_name AS segment FROM {SEGMENTS_TABLE} "
            "WHERE as_of_day IN ($first, $second)",
            {"first": month_ends[0], "second": month_ends[1]},
        ).df()
        counts, rates = transition_matrix(assignments, *month_ends)
        current = assignments[assignments["as_of"] == pd.Timestamp(month_ends[1])]["segment"].value_counts()
        segments = [c for c in rates.columns if c in rates.index]
        forecast = markov_forecast(rates.loc[segments, [*segments, rates.columns[-1]]], current, periods=3)
        write_frame(con, "segments.transition_counts", counts.reset_index(names="from_segment"))
        write_frame(con, "segments.transition_rates", rates.reset_index(names="from_segment"))
        write_frame(con, "segments.size_forecast", forecast.reset_index(names="period"))
    return dg.MaterializeResult(
        metadata={
            "from": str(month_ends[0]),
            "to": str(month_ends[1]),
            "transition rates": dg.MetadataValue.md(frame_markdown(rates)),
            "forecast of segment sizes (months ahead)": dg.MetadataValue.md(frame_markdown(forecast, 0)),
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


insight_assets = [segment_profiles, segment_transitions, acquisition_cohorts]
