"""Who to send the next offer to: per campaign, a response model of the customers sent an offer, an uplift
model of its strongest variant against control judged by its Qini curve, and the customers of today with the
highest predicted uplift as the audience for the next send."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from segmentation_pipeline.domain.campaigns.settings import CampaignSettings
from segmentation_pipeline.domain.campaigns.uplift import (
    compare_response_models,
    fit_uplift,
    top_decile,
    uplift_deciles,
)

UPLIFT_AUDIENCE_COLUMNS = {
    "rank": "Position by predicted uplift among today's customers, 1 = highest.",
    "customer_id": "Customer in the audience.",
    "uplift": "Predicted increase in conversion probability from sending the variant.",
    "campaign_id": "Campaign whose next send the audience is for.",
    "variant": "The campaign's strongest variant, whose uplift is predicted.",
}
"""Columns of the audience of each campaign's next send (`campaigns.uplift_audience`)."""
UPLIFT_DECILE_COLUMNS = {
    "customer_id": "Customer with an order.",
    "uplift": UPLIFT_AUDIENCE_COLUMNS["uplift"],
    "uplift_decile": "Decile of predicted uplift among today's customers, 1 = the highest tenth.",
    "campaign_id": "Campaign whose strongest variant's uplift is predicted.",
    "variant": UPLIFT_AUDIENCE_COLUMNS["variant"],
}
"""Columns of every customer's uplift decile per campaign (`campaigns.uplift_deciles`)."""

TARGETING_FEATURES = (
    "recency_days",
    "tenure_days",
    "frequency",
    "purchase_days",
    "pre_spend",
    "avg_order_value",
    "mean_days_between_orders",
    "return_rate_units",
    "discount_share",
    "service_contacts",
    "campaign_responses",
    "category_breadth",
)
"""Pre-exposure features of a customer (the day before the message, or today for the audience)."""


@dataclass(frozen=True)
class Targeting:
    """Per campaign: response models compared, the uplift model's Qini curve, the audience of today, and every
    customer of today's decile of predicted uplift."""

    summary: pd.DataFrame
    """One row per campaign: variant modelled, held-out customers, Qini coefficient, uplift of the top decile
    and overall, the better response model and its ROC AUC, or why no model was fitted."""
    response_metrics: pd.DataFrame
    qini: pd.DataFrame
    audience: pd.DataFrame
    deciles: pd.DataFrame


def strongest_variant(exposed: pd.DataFrame) -> str | None:
    """The offer with the highest conversion rate among the campaign's variants (None without one)."""
    offers = exposed[~exposed["is_control"].astype(bool)]
    return str(offers.groupby("variant")["converted"].mean().idxmax()) if len(offers) else None


def target_campaigns(exposures: pd.DataFrame, customers: pd.DataFrame, settings: CampaignSettings) -> Targeting:
    """Fit, judge and apply the response and uplift models of every campaign with a control group.

    ``exposures`` has one row per exposure with ``TARGETING_FEATURES``, campaign_id, variant, is_control and
    converted; ``customers`` the same features for every customer today, with customer_id.
    """
    summary, metrics, curves, audiences, deciles = [], [], [], [], []
    today = customers[list(TARGETING_FEATURES)]
    for campaign, exposed in exposures.groupby("campaign_id", sort=True):
        variant = strongest_variant(exposed)
        row: dict[str, object] = {"campaign_id": campaign, "variant": variant}
        control = exposed["is_control"].astype(bool)
        try:
            if variant is None or not control.any():
                raise ValueError("no offer and control group to compare")
            offered = exposed[~control]
            response = compare_response_models(
                offered[list(TARGETING_FEATURES)], offered["converted"].to_numpy(bool), settings.seed
            )
            arms = exposed[control | (exposed["variant"] == variant)]
            uplift = fit_uplift(
                arms[list(TARGETING_FEATURES)],
                ~arms["is_control"].astype(bool).to_numpy(),
                arms["converted"].to_numpy(bool),
                settings.seed,
            )
        except ValueError as why:
            summary.append(row | {"status": str(why)})
            continue
        summary.append(
            row
            | {
                "status": "fitted",
                "held_out_customers": uplift.held_out_customers,
                "qini_coefficient": uplift.qini_coefficient,
                "top_decile_uplift": uplift.top_decile_uplift,
                "overall_uplift": uplift.overall_uplift,
                "response_model": response.best,
                "response_roc_auc": float(response.metrics.loc[response.best, "roc_auc"]),
            }
        )
        metrics.append(response.metrics.reset_index(names="model").assign(campaign_id=campaign))
        curves.append(uplift.qini.assign(campaign_id=campaign, variant=variant))
        predicted = uplift.model.uplift(today)
        audience = top_decile(customers["customer_id"].to_numpy(), predicted, settings.top_share)
        audiences.append(audience.assign(campaign_id=campaign, variant=variant))
        decided = uplift_deciles(customers["customer_id"].to_numpy(), predicted)
        deciles.append(decided.assign(campaign_id=campaign, variant=variant))
    return Targeting(
        pd.DataFrame(summary, columns=None if summary else ["campaign_id", "variant", "status"]),
        _frames(metrics, ["model", "customers", "conversion_rate", "roc_auc", "pr_auc", "campaign_id"]),
        _frames(curves, ["share_targeted", "incremental_conversions", "random", "campaign_id", "variant"]),
        _frames(audiences, ["rank", "customer_id", "uplift", "campaign_id", "variant"]),
        _frames(deciles, ["customer_id", "uplift", "uplift_decile", "campaign_id", "variant"]),
    )


def _frames(frames: list[pd.DataFrame], empty_columns: list[str]) -> pd.DataFrame:
    """The frames of every campaign as one, or an empty frame with the columns one would have."""
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=empty_columns)
