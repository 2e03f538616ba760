"""A/B results per campaign and cut: the guardrail, cuts too small to test, campaigns without control, corrections."""

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.domain.campaigns.ab_results import analyse_campaigns
from segmentation_pipeline.domain.campaigns.settings import CampaignSettings
from segmentation_pipeline.domain.campaigns.statistics import holm


def arm(variant: str, n: int, rate: float, rng, returns: float = 0.1, segment: str = "A") -> pd.DataFrame:
    """Exposures of one arm: conversions at `rate`, revenue of converters, orders' units and returned units."""
    converted = rng.random(n) < rate
    pre_spend = rng.gamma(2.0, 50.0, n)
    units = np.where(converted, 4, 0)
    return pd.DataFrame(
        {
            "campaign_id": "C1",
            "customer_id": [f"{variant}-{segment}-{i}" for i in range(n)],
            "variant": variant,
            "is_control": variant == "control",
            "converted": converted,
            "revenue": np.where(converted, 20 + pre_spend + rng.gamma(2.0, 10.0, n), 0.0),
            "pre_spend": pre_spend,
            "units_bought": units,
            "units_returned": rng.binomial(units, returns),
            "segment_name": segment,
            "rfm_segment": "Loyal",
        }
    )


def test_a_variant_that_lifts_conversion_but_raises_returns_is_flagged_not_recommended():
    rng = np.random.default_rng(1)
    exposures = pd.concat(
        [
            arm("control", 3000, 0.10, rng),
            arm("deep_discount", 3000, 0.20, rng, returns=0.35),  # planted: far more of its orders come back
            arm("free_shipping", 3000, 0.15, rng),
        ]
    )
    analysis = analyse_campaigns(exposures, CampaignSettings(return_rate_margin=0.05))

    overall = analysis.results.set_index(["variant", "cut_type"]).xs("all", level="cut_type")
    assert overall.loc["deep_discount", "guardrail_breached"] and not overall.loc["free_shipping", "guardrail_breached"]
    assert overall.loc["deep_discount", "conversion_lift"] > overall.loc["free_shipping", "conversion_lift"] > 0
    (recommendation,) = analysis.recommendations[analysis.recommendations["cut_type"] == "all"].itertuples()
    assert recommendation.recommended_variant == "free_shipping"
    assert recommendation.flagged_variants == "deep_discount"


def test_cuts_too_small_are_shown_as_such_and_a_campaign_without_control_gets_no_lift():
    rng = np.random.default_rng(2)
    exposures = pd.concat(
        [arm("control", 2000, 0.1, rng), arm("offer", 2000, 0.1, rng), arm("offer", 40, 0.5, rng, segment="B")]
    )
    results = analyse_campaigns(exposures, CampaignSettings()).results.set_index(["cut_type", "cut"])
    assert results.loc[("segment", "B"), "status"].startswith("too small to test")
    assert np.isnan(results.loc[("segment", "B"), "conversion_lift"])  # not a zero lift
    assert results.loc[("segment", "A"), "status"] == "tested"

    no_control = analyse_campaigns(exposures[~exposures["is_control"]], CampaignSettings())
    assert set(no_control.results["status"]) == {"no control group: no lift computed"}
    assert no_control.recommendations["recommended_variant"].isna().all()


def test_segment_cuts_are_holm_corrected_and_the_overall_cut_is_not():
    rng = np.random.default_rng(3)
    exposures = pd.concat(
        [arm(v, 800, r, rng, segment=s) for s in "ABC" for v, r in (("control", 0.1), ("offer", 0.14))]
    )
    results = analyse_campaigns(exposures, CampaignSettings()).results
    segments = results[results["cut_type"] != "all"]
    assert segments["conversion_p_corrected"].to_numpy() == pytest.approx(holm(segments["conversion_p"].to_numpy()))
    overall = results[results["cut_type"] == "all"].iloc[0]
    assert overall["conversion_p_corrected"] == overall["conversion_p"]


def test_cuped_with_pre_exposure_spend_narrows_the_revenue_interval_around_the_same_lift():
    rng = np.random.default_rng(4)
    exposures = pd.concat([arm("control", 4000, 0.3, rng), arm("offer", 4000, 0.36, rng)])
    overall = analyse_campaigns(exposures, CampaignSettings()).results.iloc[0]
    assert overall["cuped_variance_reduction"] > 0.05
    width = overall["revenue_lift_high"] - overall["revenue_lift_low"]
    assert overall["cuped_revenue_lift_high"] - overall["cuped_revenue_lift_low"] < width
    assert abs(overall["cuped_revenue_lift"] - overall["revenue_lift"]) < width / 2


def test_sample_ratios_are_tested_against_an_equal_split():
    rng = np.random.default_rng(5)
    balanced = pd.concat([arm("control", 5000, 0.1, rng), arm("offer", 5030, 0.1, rng)])
    unbalanced = pd.concat([arm("control", 5000, 0.1, rng), arm("offer", 5400, 0.1, rng)])
    assert analyse_campaigns(balanced, CampaignSettings()).sample_ratios["p_value"].item() > 0.5
    assert analyse_campaigns(unbalanced, CampaignSettings()).sample_ratios["p_value"].item() < 0.001
