"""Segment profiles: what each segment looks like on the latest day and what marketing should do."""

import dagster as dg

from segmentation_pipeline.defs.helpers import area, frame_markdown, table_schema, write_frame
from segmentation_pipeline.defs.resources import Warehouse
from segmentation_pipeline.domain.segments.profiles import profile_statistic_columns
from segmentation_pipeline.domain.segments.refit import SEGMENT_HISTORY_COLUMNS
from segmentation_pipeline.sql import catalog, query

PROFILE_COLUMNS = {
    "as_of_day": "The day the profile describes (latest day with segments).",
    "segment": SEGMENT_HISTORY_COLUMNS["segment_id"],
    "segment_name": SEGMENT_HISTORY_COLUMNS["segment_name"],
    "top_categories": "Categories with the largest share of the segment's net spend up to the day.",
    "recommended_action": "Marketing action from the playbook.",
}


@dg.asset(**area("segments"), kinds={"duckdb", "pandas"}, deps=["customer_segments"])
def segment_profiles(warehouse: Warehouse) -> dg.MaterializeResult:
    """What each segment looks like on the latest day: size, share of customers and revenue, mean and
    median R/F/M, order value, return rate, the features that set it apart (standardised differences
    from all customers), its top categories by share of net spend and the marketing action the
    playbook recommends."""
    from segmentation_pipeline.domain.segments.profiles import named_profiles

    with warehouse.get_connection() as con:
        latest = con.sql(query("segments/latest_segmented_snapshot")).df()
        profiles = named_profiles(latest, con.sql(query("segments/category_spend")).df())
        write_frame(con, catalog.SEGMENT_PROFILES, profiles.reset_index())
        schema = table_schema(
            con, catalog.SEGMENT_PROFILES, PROFILE_COLUMNS | profile_statistic_columns(profiles.columns)
        )
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
