"""A/B results of every campaign: each variant against control, overall and per segment, with intervals,
corrected p-values, CUPED, minimum detectable effects, the return guardrail and a recommended variant."""

from datetime import datetime

import dagster as dg
import duckdb
import pandas as pd

from segmentation_pipeline.defs.helpers import area, frame_markdown, table_schema, write_frame
from segmentation_pipeline.defs.resources import Warehouse
from segmentation_pipeline.domain.cadence import RETRAIN_EVERY_DAYS
from segmentation_pipeline.domain.campaigns.settings import CampaignSettings
from segmentation_pipeline.domain.contract import ATTRIBUTION_DAYS, CAMPAIGN_EXPOSURES
from segmentation_pipeline.sql import catalog, query

SRM_P_VALUE = 0.001
"""A campaign's split is flagged when a chi-square test against an equal split gives a p-value below this."""
SUMMARY_COLUMNS = {
    "variant": "variant",
    "cut": "cut",
    "treated": "n",
    "control": "n control",
    "conversion_lift": "conv. lift",
    "conversion_lift_low": "low",
    "conversion_lift_high": "high",
    "conversion_p_corrected": "p (corr.)",
    "revenue_lift": "revenue lift",
    "revenue_lift_low": "low ",
    "revenue_lift_high": "high ",
    "mde_conversion": "MDE conv.",
    "return_rate_increase": "return rate Δ",
    "status": "status",
}
"""Columns of the per-campaign summary in the metadata, and their headings."""


def interval_ends(
    prefix: str, method: str, estimate: str | None = None, ends: tuple[str, ...] = ("low", "high")
) -> dict[str, str]:
    """Descriptions of the columns ``<prefix>_low`` and ``<prefix>_high``: the ends of the interval of ``estimate``
    (the column ``prefix`` by default)."""
    sides = {"low": "Lower", "high": "Upper"}
    return {f"{prefix}_{end}": f"{sides[end]} end of {estimate or prefix}'s {method} interval." for end in ends}


RESULT_COLUMNS = {
    "campaign_id": CAMPAIGN_EXPOSURES.column("campaign_id").description,
    "variant": "Offer variant compared with control.",
    "cut_type": "`all`, `segment` (K-means segment the day before the message) or `rfm_segment`.",
    "cut": "`all`, or the segment or RFM segment of the customers in the cut.",
    "treated": "Customers sent the variant in the cut.",
    "control": "Control customers in the cut.",
    "status": "`tested`, `too small to test ...` or `no control group ...`.",
    "treated_conversion": "Share of the customers sent the variant who converted.",
    "control_conversion": "Share of the control customers who converted.",
    "conversion_lift": "Conversion rate of the variant minus control's.",
    **interval_ends("conversion_lift", "Newcombe hybrid-score"),
    "conversion_relative_lift": "Variant's conversion rate over control's, less 1.",
    **interval_ends("conversion_relative", "log risk-ratio", "conversion_relative_lift"),
    "conversion_p": "Two-proportion z test p-value of the conversion lift, uncorrected.",
    "conversion_p_corrected": "conversion_p Holm-corrected across the segment (and RFM) cuts; overall cut uncorrected.",
    "treated_revenue_per_customer": "Revenue per customer sent the variant (zeros included).",
    "control_revenue_per_customer": "Revenue per control customer (zeros included).",
    "revenue_lift": "Revenue per exposed customer, variant minus control.",
    **interval_ends("revenue_lift", "Welch"),
    "revenue_relative_lift": "Variant's revenue per customer over control's, less 1.",
    **interval_ends("revenue_relative", "delta-method", "revenue_relative_lift"),
    "revenue_p": "Welch t test p-value of the revenue lift, uncorrected.",
    "revenue_p_corrected": "revenue_p corrected as conversion_p_corrected is.",
    "cuped_revenue_lift": "The revenue lift after CUPED with pre-exposure spend.",
    **interval_ends("cuped_revenue_lift", "Welch"),
    "cuped_variance_reduction": "Share of the revenue's variance CUPED removed.",
    "mde_conversion": "Smallest conversion lift the cut could detect at 80% power (two-sided 5%).",
    "mde_revenue": "Smallest revenue lift per customer the cut could detect at 80% power (two-sided 5%).",
    "treated_return_rate": "Unit return rate of the variant's orders in the attribution window.",
    "control_return_rate": "Unit return rate of control's orders in the attribution window.",
    "return_rate_increase": "treated_return_rate minus control_return_rate.",
    **interval_ends("return_rate_increase", "Newcombe hybrid-score", ends=("low",)),
    "guardrail_breached": "Return rate increase above the margin and its interval above zero: the variant is not "
    "recommended in this cut.",
}
"""Columns of the A/B results (`campaigns.ab_results`), one row per campaign, variant and cut."""


class CampaignResultsConfig(dg.Config):
    recompute_every_days: int = RETRAIN_EVERY_DAYS
    """Results are recomputed when a campaign's attribution window closes, and at least this often in days of
    data (returns of the window's orders arrive late)."""
    recompute_now: bool = False
    """Recompute in this run, whatever the cadence."""
    attribution_days: int = ATTRIBUTION_DAYS
    """Days after the message in which orders count, when the exposure file gives no outcome."""
    confidence: float = CampaignSettings.confidence
    alpha: float = CampaignSettings.alpha
    """A lift counts when its corrected p-value is below this."""
    min_arm_customers: int = CampaignSettings.min_arm_customers
    """A cut with fewer customers in the variant or in control is shown as too small to test."""
    return_rate_margin: float = CampaignSettings.return_rate_margin
    """Increase in the unit return rate of a variant's orders beyond which it is flagged, not recommended."""


@dg.asset(
    **area("campaigns"),
    kinds={"duckdb", "scipy"},
    deps=[
        "stg_campaign_exposures",
        "stg_transactions",
        "stg_returns",
        "customer_history",
        "customer_segments",
        "rfm_segments",
    ],
)
def campaign_results(config: CampaignResultsConfig, warehouse: Warehouse) -> dg.MaterializeResult:
    """Every campaign whose outcomes are known (given by the exposure file, or its attribution window has
    closed): each variant against control, overall and within
    each segment and RFM segment of the day before the message; conversion and revenue lifts with 95%
    intervals, corrected p-values, CUPED, the minimum detectable effect, the sample-ratio test, the return
    guardrail and the recommended variant per cut (`campaigns.*`). Recomputed when a campaign's attribution
    window closes, every `recompute_every_days` days of data, or when asked."""
    from segmentation_pipeline.domain.campaigns.ab_results import analyse_campaigns
    from segmentation_pipeline.domain.campaigns.cadence import recompute_due

    settings = CampaignSettings(
        confidence=config.confidence,
        alpha=config.alpha,
        min_arm_customers=config.min_arm_customers,
        return_rate_margin=config.return_rate_margin,
    )
    with warehouse.get_connection() as con:
        observed_until = con.sql("SELECT observed_until()").fetchall()[0][0]
        if observed_until is None:
            return dg.MaterializeResult(metadata={"decision": "no staged events yet"})
        params = {"attribution_days": config.attribution_days}
        closed_now = ", ".join(c for (c,) in con.execute(query("campaigns/closed_campaigns"), params).fetchall())
        why = recompute_due(
            last_run(con, "campaign_results"),
            observed_until,
            closed_now,
            config.recompute_every_days,
            config.recompute_now,
        )
        if why is None:
            return dg.MaterializeResult(metadata={"decision": "not recomputed: no campaign closed since the last run"})
        con.execute("BEGIN TRANSACTION").fetchall()
        con.execute(
            f"CREATE OR REPLACE TABLE {catalog.CAMPAIGN_EXPOSURES} AS {query('campaigns/exposures')}",
            params | {"observed_until": observed_until},
        ).fetchall()
        known = con.sql(f"SELECT * FROM {catalog.CAMPAIGN_EXPOSURES} WHERE outcome_known").df()
        open_campaigns = [
            c
            for (c,) in con.sql(
                f"SELECT DISTINCT campaign_id FROM {catalog.CAMPAIGN_EXPOSURES} WHERE NOT outcome_known "
                f"AND campaign_id NOT IN (SELECT campaign_id FROM {catalog.CAMPAIGN_EXPOSURES} WHERE outcome_known) "
                "ORDER BY 1"
            ).fetchall()
        ]
        analysis = analyse_campaigns(known, settings)
        run = {"asset": "campaign_results", "data_through": observed_until, "closed_campaigns": closed_now}
        con.execute(query("campaigns/record_run"), run).fetchall()
        write_frame(con, catalog.AB_RESULTS, analysis.results)
        write_frame(con, catalog.SAMPLE_RATIOS, analysis.sample_ratios)
        write_frame(con, catalog.CAMPAIGN_RECOMMENDATIONS, analysis.recommendations)
        con.execute("COMMIT").fetchall()
        schema = table_schema(con, catalog.AB_RESULTS, RESULT_COLUMNS)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(analysis.results),
            "dagster/column_schema": schema,
            "why recomputed": why,
            "campaigns analysed": int(known["campaign_id"].nunique()),
            "campaigns still in their attribution window": ", ".join(open_campaigns) or "none",
            "outcomes from": ", ".join(sorted(set(known["outcome_source"]))) or "no exposures",
            "recommended variant per cut": dg.MetadataValue.md(
                frame_markdown(analysis.recommendations.set_index(["campaign_id", "cut_type", "cut"]))
            ),
            **{
                f"campaign {campaign}": dg.MetadataValue.md(campaign_summary(results))
                for campaign, results in analysis.results.groupby("campaign_id")
            },
        }
    )


def last_run(con: duckdb.DuckDBPyConnection, asset: str) -> tuple[datetime, str] | None:
    """The data time and closed campaigns of the asset's last run, None before the first."""
    rows = con.execute(
        f"SELECT data_through, closed_campaigns FROM {catalog.CAMPAIGN_RUNS} WHERE asset = $asset "
        "ORDER BY ran_at DESC LIMIT 1",
        {"asset": asset},
    ).fetchall()
    return rows[0] if rows else None


def campaign_summary(results: pd.DataFrame) -> str:
    """One campaign's results per variant and cut, with intervals, as a markdown table."""
    shown = results.reindex(columns=list(SUMMARY_COLUMNS)).rename(columns=SUMMARY_COLUMNS)
    return frame_markdown(shown.set_index(["variant", "cut"]), 3)


@dg.asset_check(
    asset=campaign_results,
    name="sample_ratio_as_planned",
    description=f"Warns, naming them, when a campaign's customers per variant depart from an equal split "
    f"(chi-square p < {SRM_P_VALUE}): broken randomisation or lost exposures make its results unreliable.",
)
def sample_ratio_as_planned(warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        ratios = con.sql(f"SELECT * FROM {catalog.SAMPLE_RATIOS}").df()
    mismatched = ratios[ratios["p_value"] < SRM_P_VALUE]
    return dg.AssetCheckResult(
        passed=mismatched.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "campaigns checked": len(ratios),
            "campaigns with a sample ratio mismatch": ", ".join(mismatched["campaign_id"]) or "none",
            "per campaign": dg.MetadataValue.md(frame_markdown(ratios.set_index("campaign_id"), 4)),
        },
    )
