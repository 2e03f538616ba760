"""The marts SQL builds alone: daily KPIs, segment sizes, customers, segments and products. Each is a table of
the `marts` schema, rebuilt every run with the columns of the data dictionary and exported as
`marts/<table>.parquet`."""

from dataclasses import dataclass

import dagster as dg
import duckdb

from segmentation_pipeline.defs.helpers import area, markdown_preview, table_schema
from segmentation_pipeline.defs.resources import Artifacts, Warehouse
from segmentation_pipeline.domain.marts.columns import MART_COLUMNS, descriptions
from segmentation_pipeline.sql import catalog, query
from segmentation_pipeline.warehouse import export_table, run_in_transaction


@dataclass(frozen=True)
class Mart:
    table: str
    description: str
    deps: tuple[str, ...]
    reads: tuple[str, ...]
    """Tables its SQL reads that only an upstream asset creates: without them the mart is not built."""
    when_empty: str
    """Why the table may hold no row."""

    @property
    def name(self) -> str:
        return self.table.split(".")[1]


MARTS = (
    Mart(
        catalog.DAILY_KPIS,
        "The shop's daily KPIs per segment (`marts.daily_kpis`): customers who ordered, orders, revenue net of "
        "discounts, units, units of those orders returned since, and orders by returning customers; one row per "
        "day and segment (the customer's segment on the day, `none` before their first).",
        deps=("stg_transactions", "stg_returns", "customer_segments"),
        reads=(),
        when_empty="no order staged yet",
    ),
    Mart(
        catalog.SEGMENT_SIZES,
        "How many customers hold each segment at the end of every day (`marts.segment_sizes`).",
        deps=("customer_segments",),
        reads=(),
        when_empty="no customer segmented yet",
    ),
    Mart(
        catalog.MART_CUSTOMERS,
        "One row per customer who has ordered (`marts.customers`): segment, RFM scores, expected return rate, "
        "P(alive), lifetime value gross and net of returns, churn risk, next best action, top recommended product, "
        "and what they have bought and returned.",
        deps=("return_scoring_state", "next_best_actions"),
        reads=(catalog.SCORING_STATE["customers.parquet"], catalog.NEXT_BEST_ACTIONS),
        when_empty="no customer has ordered yet",
    ),
    Mart(
        catalog.MART_SEGMENTS,
        "One row per segment of today's customers (`marts.segments`): size and share, the segment profile, and "
        "the mean lifetime value, churn probability and expected return rate of its customers.",
        deps=("mart_customers", "segment_profiles"),
        reads=(catalog.MART_CUSTOMERS, catalog.SEGMENT_PROFILES),
        when_empty="no customer has ordered yet",
    ),
    Mart(
        catalog.MART_PRODUCTS,
        "One row per product (`marts.products`): category, usual price, units sold and returned, return rate, "
        "and the customers with it on their recommendation list, with its mean return risk there.",
        deps=("return_scoring_state", "recommendations"),
        reads=(catalog.SCORING_STATE["products.parquet"],),
        when_empty="no product bought yet",
    ),
)


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.sql("SELECT schema_name || '.' || table_name FROM duckdb_tables()").fetchall()}


def build_mart(mart: Mart) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"mart_{mart.name}",
        **area("marts"),
        kinds={"duckdb", "parquet"},
        deps=list(mart.deps),
        description=mart.description,
    )
    def publish_mart(warehouse: Warehouse, artifacts: Artifacts) -> dg.MaterializeResult:
        export = artifacts.export_path(f"marts/{mart.name}.parquet")
        with warehouse.get_connection() as con:
            missing = sorted(set(mart.reads) - existing_tables(con))
            if missing:
                return dg.MaterializeResult(metadata={"note": f"not built: {', '.join(missing)} not written yet"})
            run_in_transaction(con, query(f"marts/{mart.name}"), {})
            export_table(con, mart.table, export)
            rows = con.sql(f"SELECT count(*) FROM {mart.table}").fetchall()[0][0]
            schema = table_schema(con, mart.table, descriptions(MART_COLUMNS[mart.table]))
            preview = markdown_preview(con, f"FROM {mart.table}")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "dagster/column_schema": schema,
                "preview": dg.MetadataValue.md(preview),
                "export": dg.MetadataValue.path(str(export)),
                **({"note": f"no rows: {mart.when_empty}"} if rows == 0 else {}),
            }
        )

    return publish_mart


mart_assets = [build_mart(mart) for mart in MARTS]
