"""Campaign A/B results as one flat table for BI tools: one row per campaign, variant, cut and metric."""

from __future__ import annotations

import pandas as pd

RESULT_METRICS: dict[str, dict[str, str]] = {
    "conversion": {
        "treated_value": "treated_conversion",
        "control_value": "control_conversion",
        "lift": "conversion_lift",
        "lift_low": "conversion_lift_low",
        "lift_high": "conversion_lift_high",
        "relative_lift": "conversion_relative_lift",
        "relative_lift_low": "conversion_relative_low",
        "relative_lift_high": "conversion_relative_high",
        "p_value": "conversion_p",
        "p_value_corrected": "conversion_p_corrected",
        "mde": "mde_conversion",
    },
    "revenue_per_customer": {
        "treated_value": "treated_revenue_per_customer",
        "control_value": "control_revenue_per_customer",
        "lift": "revenue_lift",
        "lift_low": "revenue_lift_low",
        "lift_high": "revenue_lift_high",
        "relative_lift": "revenue_relative_lift",
        "relative_lift_low": "revenue_relative_low",
        "relative_lift_high": "revenue_relative_high",
        "p_value": "revenue_p",
        "p_value_corrected": "revenue_p_corrected",
        "mde": "mde_revenue",
    },
    "revenue_per_customer_cuped": {
        "lift": "cuped_revenue_lift",
        "lift_low": "cuped_revenue_lift_low",
        "lift_high": "cuped_revenue_lift_high",
    },
    "return_rate": {
        "treated_value": "treated_return_rate",
        "control_value": "control_return_rate",
        "lift": "return_rate_increase",
        "lift_low": "return_rate_increase_low",
    },
}
"""Flat column -> column of `campaigns.ab_results`, per metric; flat columns a metric lacks stay empty."""
CUT = ["campaign_id", "cut_type", "cut"]
FLAT_COLUMNS = [
    "campaign_id",
    "variant",
    "cut_type",
    "cut",
    "metric",
    "status",
    "treated_customers",
    "control_customers",
    "treated_value",
    "control_value",
    "lift",
    "lift_low",
    "lift_high",
    "relative_lift",
    "relative_lift_low",
    "relative_lift_high",
    "p_value",
    "p_value_corrected",
    "mde",
    "guardrail_breached",
    "is_recommended",
    "recommendation",
]


def flat_campaign_results(results: pd.DataFrame, recommendations: pd.DataFrame) -> pd.DataFrame:
    """One row per campaign, variant, cut and metric of ``results`` (`campaigns.ab_results`), with whether the
    variant is the one ``recommendations`` (`campaigns.recommendations`) names for the cut, and why.

    A cut too small to test carries fewer columns in ``results``: the metrics' columns it lacks stay empty."""
    shared = results.reindex(columns=[*CUT, "variant", "status", "treated", "control", "guardrail_breached"])
    per_metric = [
        pd.concat(
            [shared, results.reindex(columns=list(sources.values())).set_axis(list(sources), axis=1)], axis=1
        ).assign(metric=metric)
        for metric, sources in RESULT_METRICS.items()
    ]
    chosen = recommendations.reindex(columns=[*CUT, "recommended_variant", "reason"])
    flat = pd.concat(per_metric, ignore_index=True).merge(chosen, on=CUT, how="left")
    flat["is_recommended"] = flat["variant"].eq(flat["recommended_variant"]) & flat["recommended_variant"].notna()
    flat = flat.rename(
        columns={"treated": "treated_customers", "control": "control_customers", "reason": "recommendation"}
    )
    ordered = flat.sort_values(["campaign_id", "cut_type", "cut", "variant"], kind="stable")
    return ordered.reindex(columns=FLAT_COLUMNS).reset_index(drop=True)
