"""Segments against the shop's true customer types, where the source knows them, and against a baseline."""

import dagster as dg

from segmentation_pipeline.defs.helpers import area, frame_markdown, table_schema, write_frame
from segmentation_pipeline.defs.resources import SourceResource, Warehouse
from segmentation_pipeline.sql import catalog, query


@dg.asset(**area("segments"), kinds={"duckdb", "scikitlearn"}, deps=["customer_segments"])
def segments_vs_latent_types(warehouse: Warehouse, source: SourceResource) -> dg.MaterializeResult:
    """Whether the latest segments find the shop's true customer types, where the source knows them
    (the synthetic shop, or a `customer_labels` file in a `files` source): the adjusted Rand index of
    the segments and of a plain K-means baseline (same number of segments, on recency, frequency, net
    money and the unit return rate) against the types, and how many customers of each type fall in
    each segment. The true types are read only for this evaluation."""
    from segmentation_pipeline.domain.segments.latent_types import confusion_columns, segments_vs_types
    from segmentation_pipeline.sources.base import SourceError

    with warehouse.get_connection() as con:
        labels = source.customer_labels_sql(con)
        if labels is None:
            return dg.MaterializeResult(
                metadata={"ground truth": f"none: {source.reader().describe()} has no known customer types"}
            )
        con.execute(f"CREATE OR REPLACE TEMP VIEW customer_labels AS {labels}")
        labelled = con.execute(query("segments/labelled_customers")).df()
        if labelled.empty:
            return dg.MaterializeResult(metadata={"ground truth": source.reader().describe(), "customers compared": 0})
        try:
            recovery = segments_vs_types(labelled)
        except ValueError as error:
            raise SourceError(f"customer labels of {source.reader().describe()}: {error}") from error
        confusion = recovery.confusion.reset_index()
        write_frame(con, catalog.LATENT_TYPE_CONFUSION, confusion)
        schema = table_schema(con, catalog.LATENT_TYPE_CONFUSION, confusion_columns(confusion.columns))
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(recovery.confusion),
            "dagster/column_schema": schema,
            "ground truth": source.reader().describe(),
            "customers compared": recovery.customers,
            "segments": recovery.segments,
            "adjusted Rand index": round(recovery.adjusted_rand_index, 3),
            "baseline adjusted Rand index": round(recovery.baseline_adjusted_rand_index, 3),
            "beats the baseline": recovery.adjusted_rand_index >= recovery.baseline_adjusted_rand_index,
            "customers per true type (rows) and segment (columns)": dg.MetadataValue.md(
                frame_markdown(recovery.confusion)
            ),
        }
    )
