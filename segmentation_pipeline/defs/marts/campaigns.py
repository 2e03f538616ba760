"""Campaign results flattened for BI tools."""

import dagster as dg

from segmentation_pipeline.defs.helpers import area, markdown_preview, table_schema
from segmentation_pipeline.defs.resources import Artifacts, Warehouse
from segmentation_pipeline.domain.marts.campaigns import flat_campaign_results
from segmentation_pipeline.domain.marts.columns import CAMPAIGN_RESULTS, descriptions
from segmentation_pipeline.sql import catalog, query
from segmentation_pipeline.warehouse import export_table, run_in_transaction

EXPORT = "marts/campaign_results.parquet"


@dg.asset(**area("marts"), kinds={"pandas", "duckdb", "parquet"}, deps=["campaign_results"])
def mart_campaign_results(warehouse: Warehouse, artifacts: Artifacts) -> dg.MaterializeResult:
    """Every campaign's A/B results as one flat table (`marts.campaign_results`): one row per campaign, variant,
    cut (overall, segment, RFM segment) and metric (conversion, revenue per customer, CUPED-adjusted revenue,
    return rate) with the lift, its interval, p-values, the minimum detectable effect, the return guardrail and
    whether the variant is the one recommended for the cut."""
    with warehouse.get_connection() as con:
        analysed = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name || '.' || table_name IN ($results, $verdicts)",
            {"results": catalog.AB_RESULTS, "verdicts": catalog.CAMPAIGN_RECOMMENDATIONS},
        ).fetchall()[0][0]
        if analysed < 2:
            return dg.MaterializeResult(metadata={"note": "not built: no campaign analysed yet"})
        flat = flat_campaign_results(
            con.sql(f"FROM {catalog.AB_RESULTS}").df(), con.sql(f"FROM {catalog.CAMPAIGN_RECOMMENDATIONS}").df()
        )
        con.register("flat_campaign_results", flat)
        try:
            run_in_transaction(con, query("marts/campaign_results"), {})
        finally:
            con.unregister("flat_campaign_results")
        export_table(con, catalog.MART_CAMPAIGNS, artifacts.export_path(EXPORT))
        schema = table_schema(con, catalog.MART_CAMPAIGNS, descriptions(CAMPAIGN_RESULTS))
        preview = markdown_preview(
            con,
            "SELECT campaign_id, variant, status, lift, lift_low, lift_high, p_value, is_recommended "
            f"FROM {catalog.MART_CAMPAIGNS} WHERE cut_type = 'all' AND metric = 'conversion'",
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(flat),
            "dagster/column_schema": schema,
            "campaigns": int(flat["campaign_id"].nunique()),
            "conversion lift overall": dg.MetadataValue.md(preview),
            "export": dg.MetadataValue.path(str(artifacts.export_path(EXPORT))),
            **({"note": "no rows: no campaign exposure staged yet"} if flat.empty else {}),
        }
    )
