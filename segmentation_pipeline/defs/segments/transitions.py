"""Segment transitions: how customers moved between segments from one day to another, and where sizes head."""

from datetime import timedelta

import dagster as dg

from segmentation_pipeline.defs.helpers import area, frame_markdown, iso_day, table_schema, write_frame
from segmentation_pipeline.defs.resources import Warehouse
from segmentation_pipeline.sql import catalog


class TransitionsConfig(dg.Config):
    from_day: str | None = None
    """First snapshot day (ISO date, e.g. 2025-03-31); empty: the month end before `to_day`."""
    to_day: str | None = None
    """Second snapshot day (ISO date); empty: the latest month end with segments."""
    forecast_periods: int = 3
    """Steps of the `from_day` to `to_day` interval the size forecast projects ahead."""


@dg.asset(**area("segments"), kinds={"duckdb", "pandas"}, deps=["customer_segments"])
def segment_transitions(config: TransitionsConfig, warehouse: Warehouse) -> dg.MaterializeResult:
    """How customers moved between segments from one snapshot day to another (by default the previous
    month end to the latest one): counts and rates, with customers who left and who arrived, and a
    Markov forecast of segment sizes."""
    from segmentation_pipeline.domain.segments.transitions import (
        segment_migration,
        snapshot_pair,
        transition_rates_columns,
    )

    with warehouse.get_connection() as con:
        first, last = con.sql(
            f"SELECT min(fitted_on), covered_until('customer_segments') FROM {catalog.SEGMENT_MODELS}"
        ).fetchall()[0]
        days = [first + timedelta(days=d) for d in range((last - first).days + 1)] if first and last else []
        pair = snapshot_pair(days, iso_day("from_day", config.from_day), iso_day("to_day", config.to_day))
        if pair is None:
            return dg.MaterializeResult(metadata={"note": "needs segments on two month ends"})
        assignments = con.execute(
            "SELECT customer_id, as_of_day AS as_of, segment_name AS segment FROM segments_on($first) "
            "UNION ALL SELECT customer_id, as_of_day, segment_name FROM segments_on($second)",
            {"first": pair[0], "second": pair[1]},
        ).df()
        migration = segment_migration(assignments, *pair, periods=config.forecast_periods)
        write_frame(con, catalog.TRANSITION_COUNTS, migration.counts.reset_index(names="from_segment"))
        rates = migration.rates.reset_index(names="from_segment")
        write_frame(con, catalog.TRANSITION_RATES, rates)
        write_frame(con, catalog.SIZE_FORECAST, migration.forecast.reset_index(names="period"))
        schema = table_schema(con, catalog.TRANSITION_RATES, transition_rates_columns(rates.columns))
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
