"""A/B results per campaign, variant and segment: conversion and revenue lifts with intervals, corrected
p-values, minimum detectable effects, CUPED, the return guardrail and a recommended variant per segment.

Every variant is compared with its campaign's control, overall and within each segment and RFM segment the
customers were in the day before the message. The overall comparison is the campaign's test and is not
corrected; the segment and RFM-segment cuts of one campaign, variant and metric are one family, Holm-corrected:
the cuts an analyst scans for "where does it work".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.campaigns.settings import CampaignSettings
from segmentation_pipeline.domain.campaigns.statistics import (
    Effect,
    cuped,
    holm,
    mean_difference,
    minimum_detectable_mean_lift,
    minimum_detectable_rate_lift,
    rate_difference,
    sample_ratio_mismatch,
)

CUTS = {"all": None, "segment": "segment_name", "rfm_segment": "rfm_segment"}
"""Cut type -> the exposure column whose values are the cuts (all exposures for `all`)."""
TESTED = "tested"
RESULT_KEYS = ["campaign_id", "variant", "cut_type", "cut"]
RECOMMENDATION_COLUMNS = ["campaign_id", "cut_type", "cut", "recommended_variant", "reason", "flagged_variants"]


@dataclass(frozen=True)
class CampaignAnalysis:
    """Results per campaign, variant and cut; the sample-ratio checks; a recommended variant per cut."""

    results: pd.DataFrame
    sample_ratios: pd.DataFrame
    recommendations: pd.DataFrame


def _effect_columns(prefix: str, effect: Effect) -> dict[str, float]:
    return {
        f"{prefix}_lift": effect.estimate,
        f"{prefix}_lift_low": effect.low,
        f"{prefix}_lift_high": effect.high,
        f"{prefix}_relative_lift": effect.relative,
        f"{prefix}_relative_low": effect.relative_low,
        f"{prefix}_relative_high": effect.relative_high,
        f"{prefix}_p": effect.p_value,
    }


def compare_arms(treated: pd.DataFrame, control: pd.DataFrame, settings: CampaignSettings) -> dict[str, object]:
    """One variant against control within one cut: sizes, rates, lifts, CUPED, MDE and the return guardrail."""
    row: dict[str, object] = {"treated": len(treated), "control": len(control)}
    if min(len(treated), len(control)) < settings.min_arm_customers:
        row["status"] = f"too small to test (at least {settings.min_arm_customers} customers per arm)"
        return row
    conversions = int(treated["converted"].sum()), int(control["converted"].sum())
    conversion = rate_difference(conversions[0], len(treated), conversions[1], len(control), settings.confidence)
    revenue_t, revenue_c = (arm["revenue"].to_numpy(dtype=np.float64) for arm in (treated, control))
    revenue = mean_difference(revenue_t, revenue_c, settings.confidence)
    both = pd.concat([treated, control])
    adjusted = cuped(both["revenue"].to_numpy(np.float64), both["pre_spend"].to_numpy(np.float64))
    cuped_revenue = mean_difference(
        adjusted.adjusted[: len(treated)], adjusted.adjusted[len(treated) :], settings.confidence
    )
    returned = [int(arm["units_returned"].sum()) for arm in (treated, control)]
    bought = [int(arm["units_bought"].sum()) for arm in (treated, control)]
    returns = rate_difference(returned[0], bought[0], returned[1], bought[1], settings.confidence)
    row |= {
        "status": TESTED,
        "treated_conversion": conversions[0] / len(treated),
        "control_conversion": conversions[1] / len(control),
        **_effect_columns("conversion", conversion),
        "treated_revenue_per_customer": float(revenue_t.mean()),
        "control_revenue_per_customer": float(revenue_c.mean()),
        **_effect_columns("revenue", revenue),
        "cuped_revenue_lift": cuped_revenue.estimate,
        "cuped_revenue_lift_low": cuped_revenue.low,
        "cuped_revenue_lift_high": cuped_revenue.high,
        "cuped_variance_reduction": adjusted.variance_reduction,
        "mde_conversion": minimum_detectable_rate_lift(
            conversions[1] / len(control), len(treated), len(control), 1 - settings.confidence, settings.power
        ),
        "mde_revenue": minimum_detectable_mean_lift(
            float(revenue_t.std(ddof=1)),
            float(revenue_c.std(ddof=1)),
            len(treated),
            len(control),
            1 - settings.confidence,
            settings.power,
        ),
        "treated_return_rate": returned[0] / bought[0] if bought[0] else float("nan"),
        "control_return_rate": returned[1] / bought[1] if bought[1] else float("nan"),
        "return_rate_increase": returns.estimate,
        "return_rate_increase_low": returns.low,
        "guardrail_breached": bool(returns.estimate > settings.return_rate_margin and returns.low > 0),
    }
    return row


def _cuts(exposures: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    cuts = [("all", "all", exposures)]
    for cut_type, column in CUTS.items():
        if column is not None:
            cuts += [(cut_type, str(value), group) for value, group in exposures.groupby(column, sort=True)]
    return cuts


def _corrected(results: pd.DataFrame) -> pd.DataFrame:
    """p-values corrected per campaign, variant and metric: Holm across the segment and RFM-segment cuts; the
    overall cut keeps its own."""
    for metric in ("conversion", "revenue"):
        column = f"{metric}_p"
        if column not in results:
            results[column] = np.nan
        results[f"{column}_corrected"] = results[column]
        cuts = results[results["cut_type"] != "all"]
        for family in cuts.groupby(["campaign_id", "variant"]).groups.values():
            results.loc[family, f"{column}_corrected"] = holm(results.loc[family, column].to_numpy(np.float64))
    return results


def recommend(results: pd.DataFrame, settings: CampaignSettings) -> pd.DataFrame:
    """Per campaign and cut: the variant with the largest conversion lift among those whose corrected lift is
    significant and positive and whose return rate stays within the margin; variants that lift conversion but
    breach the guardrail are listed as flagged."""
    rows = []
    for (campaign, cut_type, cut), group in results.groupby(["campaign_id", "cut_type", "cut"], sort=False):
        tested = group[group["status"] == TESTED]
        if tested.empty:
            rows.append(
                {
                    "campaign_id": campaign,
                    "cut_type": cut_type,
                    "cut": cut,
                    "recommended_variant": None,
                    "reason": str(group["status"].iloc[0]),
                    "flagged_variants": "",
                }
            )
            continue
        lifting = tested[(tested["conversion_p_corrected"] < settings.alpha) & (tested["conversion_lift"] > 0)]
        breached = lifting["guardrail_breached"].astype(bool)
        flagged = lifting[breached]
        allowed = lifting[~breached].sort_values("conversion_lift", ascending=False)
        if not allowed.empty:
            best = allowed.iloc[0]
            reason = (
                f"conversion +{best['conversion_lift']:.3f} ({best['conversion_lift_low']:.3f} to "
                f"{best['conversion_lift_high']:.3f}), return rate {best['return_rate_increase']:+.3f}"
            )
            variant = best["variant"]
        else:
            variant = None
            reason = "no variant lifts conversion significantly" + (
                " within the return guardrail" if len(flagged) else ""
            )
        rows.append(
            {
                "campaign_id": campaign,
                "cut_type": cut_type,
                "cut": cut,
                "recommended_variant": variant,
                "reason": reason,
                "flagged_variants": ", ".join(flagged["variant"]),
            }
        )
    return pd.DataFrame(rows, columns=RECOMMENDATION_COLUMNS)


def analyse_campaigns(exposures: pd.DataFrame, settings: CampaignSettings) -> CampaignAnalysis:
    """Every campaign's A/B results, sample-ratio check and recommendations from its exposures (one row per
    exposure: campaign_id, variant, is_control, converted, revenue, pre_spend, units_bought, units_returned,
    segment_name, rfm_segment). A campaign without a control group gets counts only and says so."""
    rows, ratios = [], []
    for campaign, exposed in exposures.groupby("campaign_id", sort=True):
        counts = exposed.groupby("variant").size()
        chi2, p_value = sample_ratio_mismatch(counts.to_dict())
        ratios.append(
            {
                "campaign_id": campaign,
                "variants": len(counts),
                "customers": int(counts.sum()),
                "counts": ", ".join(f"{v}: {n}" for v, n in counts.items()),
                "chi2": chi2,
                "p_value": p_value,
            }
        )
        control_rows = exposed["is_control"].astype(bool)
        for variant in sorted(set(exposed.loc[~control_rows, "variant"])):
            for cut_type, cut, group in _cuts(exposed):
                key = {"campaign_id": campaign, "variant": variant, "cut_type": cut_type, "cut": cut}
                treated = group[(group["variant"] == variant) & ~group["is_control"].astype(bool)]
                control = group[group["is_control"].astype(bool)]
                if not control_rows.any():
                    rows.append(
                        key | {"treated": len(treated), "control": 0, "status": "no control group: no lift computed"}
                    )
                    continue
                rows.append(key | compare_arms(treated, control, settings))
    results = _corrected(pd.DataFrame(rows, columns=None if rows else [*RESULT_KEYS, "treated", "control", "status"]))
    ratios_frame = pd.DataFrame(ratios, columns=None if ratios else ["campaign_id", "customers", "chi2", "p_value"])
    return CampaignAnalysis(results, ratios_frame, recommend(results, settings))
