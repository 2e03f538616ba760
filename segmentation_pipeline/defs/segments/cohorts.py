"""Acquisition cohorts: customers by month of first purchase, their retention, revenue and segment mix."""

import dagster as dg

from segmentation_pipeline.defs.helpers import area, frame_markdown, table_schema, write_frame
from segmentation_pipeline.defs.resources import Warehouse
from segmentation_pipeline.sql import catalog, query


@dg.asset(**area("segments"), kinds={"duckdb", "pandas"}, deps=["stg_transactions", "customer_segments"])
def acquisition_cohorts(warehouse: Warehouse) -> dg.MaterializeResult:
    """Customers grouped by the month of their first purchase: share still buying and revenue per
    customer in each month since, and the segment mix of each cohort today."""
    from segmentation_pipeline.domain.segments.cohorts import cohort_retention_columns, cohort_tables

    with warehouse.get_connection() as con:
        orders = con.sql(query("segments/monthly_orders")).df()
        latest = con.sql(
            "SELECT customer_id, segment_name AS segment FROM segments_on(covered_until('customer_segments'))"
        ).df()
        cohorts, tables = cohort_tables(orders, latest)
        for name, table in catalog.COHORT_TABLES.items():
            write_frame(con, table, tables[name])
        schema = table_schema(
            con, catalog.COHORT_TABLES["retention"], cohort_retention_columns(tables["retention"].columns)
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(cohorts.customers),
            "dagster/column_schema": schema,
            "retention (first 6 months)": dg.MetadataValue.md(frame_markdown(cohorts.retention.iloc[:, :6])),
        }
    )
