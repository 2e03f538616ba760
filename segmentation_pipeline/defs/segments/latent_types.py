"""Segments against the shop's true customer types, where the source knows them."""

import dagster as dg

from segmentation_pipeline.defs.helpers import area, frame_markdown, table_schema, write_frame
from segmentation_pipeline.defs.resources import SourceResource, Warehouse
from segmentation_pipeline.sql import catalog, query


@dg.asset(**area("segments"), kinds={"duckdb", "scikitlearn"}, deps=["customer_segments"])
def segments_vs_latent_types(warehouse: Warehouse, source: SourceResource) -> dg.MaterializeResult:
    """Whether the latest segments find the shop's true customer types, where the source knows them
    (the synthetic shop): the adjusted Rand index between segments and types, and how many customers
    of each type fall in each segment. The ground truth is read only for this evaluation."""
    from segmentation_pipeline.domain.segments.latent_types import segments_vs_types

    truth = source.customer_truth_path()
    if truth is None:
        return dg.MaterializeResult(
            metadata={"ground truth": f"none: {source.reader().describe()} has no known customer types"}
        )
    with warehouse.get_connection() as con:
        pairs = con.execute(query("segments/latent_type_pairs"), {"truth": str(truth)}).df()
        recovery = segments_vs_types(pairs)
        write_frame(con, catalog.LATENT_TYPE_CONFUSION, recovery.confusion.reset_index())
        schema = table_schema(con, catalog.LATENT_TYPE_CONFUSION)
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
