"""Response and uplift models per campaign, and the audience of the next send."""

import dagster as dg

from segmentation_pipeline.defs.helpers import area, frame_markdown, table_schema, write_frame
from segmentation_pipeline.defs.resources import Artifacts, Warehouse
from segmentation_pipeline.domain.campaigns.settings import CampaignSettings
from segmentation_pipeline.domain.campaigns.targeting import UPLIFT_AUDIENCE_COLUMNS
from segmentation_pipeline.sql import catalog, query
from segmentation_pipeline.warehouse import export_table

EXPORT = "uplift_audience.csv"


class CampaignTargetingConfig(dg.Config):
    refit_now: bool = False
    """Refit in this run, even if the campaign results have not changed since the last fit."""
    top_share: float = CampaignSettings.top_share
    """Share of today's customers, by predicted uplift, in each campaign's audience."""
    seed: int = CampaignSettings.seed


@dg.asset(**area("campaigns"), kinds={"scikitlearn", "duckdb", "csv"}, deps=["campaign_results", "customer_history"])
def campaign_targeting(
    config: CampaignTargetingConfig, warehouse: Warehouse, artifacts: Artifacts
) -> dg.MaterializeResult:
    """Refitted whenever `campaign_results` was recomputed. Per campaign: a logistic regression and a gradient-boosted response model of the customers sent an
    offer, compared on held-out customers; a two-model uplift model of the strongest variant against
    control with its held-out Qini curve against random targeting; and today's customers with the highest
    predicted uplift (`top_share`) as the audience of the next send (`campaigns.uplift_audience`, exported
    as `uplift_audience.csv`), and every customer's decile of predicted uplift (`campaigns.uplift_deciles`)."""
    from segmentation_pipeline.domain.campaigns.targeting import target_campaigns

    settings = CampaignSettings(top_share=config.top_share, seed=config.seed)
    with warehouse.get_connection() as con:
        results_at, fitted_at = con.sql(
            f"SELECT max(ran_at) FILTER (WHERE asset = 'campaign_results'), "
            f"max(ran_at) FILTER (WHERE asset = 'campaign_targeting') FROM {catalog.CAMPAIGN_RUNS}"
        ).fetchall()[0]
        if not config.refit_now and (results_at is None or (fitted_at is not None and fitted_at > results_at)):
            return dg.MaterializeResult(metadata={"decision": "not refitted: the campaign results have not changed"})
        exposures = con.sql(f"SELECT * FROM {catalog.CAMPAIGN_EXPOSURES} WHERE outcome_known").df()
        customers = con.sql(query("campaigns/customers_today")).df()
        targeting = target_campaigns(exposures, customers, settings)
        con.execute("BEGIN TRANSACTION").fetchall()
        write_frame(con, catalog.TARGETING_SUMMARY, targeting.summary)
        write_frame(con, catalog.RESPONSE_METRICS, targeting.response_metrics)
        write_frame(con, catalog.QINI_CURVES, targeting.qini)
        write_frame(con, catalog.UPLIFT_AUDIENCE, targeting.audience)
        write_frame(con, catalog.UPLIFT_DECILES, targeting.deciles)
        run = {"asset": "campaign_targeting", "data_through": None, "closed_campaigns": None}
        con.execute(query("campaigns/record_run"), run).fetchall()
        con.execute("COMMIT").fetchall()
        schema = table_schema(con, catalog.UPLIFT_AUDIENCE, UPLIFT_AUDIENCE_COLUMNS)
        if len(targeting.audience):
            export_table(con, catalog.UPLIFT_AUDIENCE, artifacts.export_path(EXPORT))
    summary = targeting.summary.set_index("campaign_id") if len(targeting.summary) else targeting.summary
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(targeting.audience),
            "dagster/column_schema": schema,
            "campaigns": len(targeting.summary),
            "per campaign (Qini on held-out customers, uplift = treated - control conversion)": dg.MetadataValue.md(
                frame_markdown(summary, 3)
            ),
            "response models on held-out customers": dg.MetadataValue.md(frame_markdown(targeting.response_metrics, 3)),
            "audience export": dg.MetadataValue.path(str(artifacts.export_path(EXPORT))),
            "customers given an uplift decile": int(targeting.deciles["customer_id"].nunique()),
        }
    )
