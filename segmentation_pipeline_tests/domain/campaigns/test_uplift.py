"""Campaign response and uplift models: held-out comparison, Qini curve and coefficient, top-uplift audience."""

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.domain.campaigns import uplift as uplift_module
from segmentation_pipeline.domain.campaigns.uplift import (
    QINI_POINTS,
    compare_response_models,
    fit_uplift,
    observed_uplift,
    qini_coefficient,
    qini_curve,
    top_decile,
    uplift_deciles,
)


def randomised_send(n: int, seed: int, effect: float) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Half the customers get the offer; it lifts conversion from 5% by ``effect`` for recency under 60 days only."""
    rng = np.random.default_rng(seed)
    features = pd.DataFrame(
        {
            "recency_days": rng.uniform(0, 240, n),
            "frequency": rng.poisson(3, n).astype(float),
            "monetary": rng.lognormal(4, 1, n),
        }
    )
    features.loc[rng.random(n) < 0.1, "monetary"] = np.nan
    treated = rng.random(n) < 0.5
    responsive = features["recency_days"].to_numpy() < 60
    converted = rng.random(n) < 0.05 + effect * (treated & responsive)
    return features, treated, converted


def exposed_customers(n: int, seed: int, window: bool) -> tuple[pd.DataFrame, np.ndarray]:
    """Customers sent an offer; conversion peaks 20-45 days after the last visit, or falls with it linearly."""
    rng = np.random.default_rng(seed)
    features = pd.DataFrame(
        {
            "days_since_last_visit": rng.uniform(0, 120, n),
            "frequency": rng.poisson(3, n).astype(float),
            "monetary": rng.lognormal(4, 1, n),
        }
    )
    days = features["days_since_last_visit"].to_numpy()
    features.loc[rng.random(n) < 0.05, "days_since_last_visit"] = np.nan
    if window:
        chance = np.where((days > 20) & (days < 45), 0.30, 0.05)
    else:
        chance = 1 / (1 + np.exp(-(-1.0 - days / 30)))
    return features, rng.random(n) < chance


@pytest.fixture(scope="module")
def responsive_send():
    features, treated, converted = randomised_send(20_000, seed=1, effect=0.10)
    return features, treated, converted, fit_uplift(features, treated, converted)


def test_the_uplift_model_finds_the_customers_the_offer_works_for(responsive_send):
    features, _, _, evaluation = responsive_send

    assert evaluation.qini_coefficient > 0.08
    assert evaluation.overall_uplift > 0
    assert evaluation.top_decile_uplift > evaluation.overall_uplift + 0.03
    audience = top_decile(np.arange(len(features)), evaluation.model.uplift(features))
    assert len(audience) == 2_000
    assert (features["recency_days"].to_numpy()[audience["customer_id"]] < 60).mean() > 0.8


def test_the_qini_curve_runs_from_nothing_to_everyone_above_random(responsive_send):
    qini = responsive_send[3].qini

    assert list(qini.columns) == ["share_targeted", "incremental_conversions", "random"]
    assert len(qini) == QINI_POINTS
    assert qini["share_targeted"].iloc[0] == 0 and qini["share_targeted"].iloc[-1] == 1
    assert qini[["incremental_conversions", "random"]].iloc[0].tolist() == [0, 0]
    assert qini["incremental_conversions"].iloc[-1] == pytest.approx(qini["random"].iloc[-1])
    middle = qini[qini["share_targeted"].between(0.2, 0.5)]
    assert (middle["incremental_conversions"] > middle["random"]).all()


def test_without_an_effect_the_qini_coefficient_is_near_zero():
    features, treated, converted = randomised_send(50_000, seed=2, effect=0.0)

    evaluation = fit_uplift(features, treated, converted)

    assert abs(evaluation.qini_coefficient) < 0.05
    assert abs(evaluation.overall_uplift) < 0.01


def test_the_qini_coefficient_is_one_for_the_perfect_ranking_and_zero_for_none():
    rng = np.random.default_rng(3)
    treated, converted = rng.random(4_000) < 0.5, rng.random(4_000) < 0.1
    perfect = np.where(converted, np.where(treated, 1.0, -1.0), 0.0)

    assert qini_coefficient(treated, converted, perfect) == pytest.approx(1.0)
    assert qini_coefficient(treated, converted, -perfect) < -0.3
    assert qini_coefficient(treated, converted, np.zeros(4_000)) == pytest.approx(0.0, abs=1e-12)
    curve = qini_curve(treated, converted, rng.random(4_000))
    incremental = converted[treated].sum() - converted[~treated].sum() * treated.sum() / (~treated).sum()
    assert curve["random"].iloc[-1] == pytest.approx(incremental)


def test_evaluation_uses_only_the_held_out_customers_and_is_seeded(monkeypatch):
    features, treated, converted = randomised_send(6_000, seed=4, effect=0.10)
    fitted_on = []
    fit_two_models = uplift_module._fit_two_models

    def recording(x, *args):
        fitted_on.append(x.index.to_numpy())
        return fit_two_models(x, *args)

    with monkeypatch.context() as patch:
        patch.setattr(uplift_module, "_fit_two_models", recording)
        first = fit_uplift(features, treated, converted, seed=11)
    again = fit_uplift(features, treated, converted, seed=11)
    other = fit_uplift(features, treated, converted, seed=12)

    held = first.held_out
    assert held.dtype == bool and len(held) == 6_000
    assert first.held_out_customers == held.sum() == pytest.approx(0.3 * 6_000, abs=2)
    np.testing.assert_array_equal(fitted_on[0], np.flatnonzero(~held))
    np.testing.assert_array_equal(fitted_on[1], np.arange(6_000))
    for arm in (True, False):
        for outcome in (True, False):
            cell = (treated == arm) & (converted == outcome)
            assert held[cell].sum() == pytest.approx(0.3 * cell.sum(), abs=1)
    assert first.overall_uplift == pytest.approx(observed_uplift(treated[held], converted[held]))
    t, y = treated[held], converted[held]
    incremental = y[t].sum() - y[~t].sum() * t.sum() / (~t).sum()
    assert first.qini["incremental_conversions"].iloc[-1] == pytest.approx(incremental)
    np.testing.assert_array_equal(again.held_out, held)
    pd.testing.assert_frame_equal(again.qini, first.qini)
    np.testing.assert_array_equal(again.model.uplift(features), first.model.uplift(features))
    assert (other.held_out != held).any()


def test_too_few_conversions_in_either_group_is_refused_with_the_counts():
    features, treated, converted = randomised_send(2_000, seed=5, effect=0.0)
    control_conversions = np.flatnonzero(~treated & converted)
    converted = converted.copy()
    converted[control_conversions[15:]] = False

    with pytest.raises(ValueError, match=r"15 control conversions.*at least 20"):
        fit_uplift(features, treated, converted)
    with pytest.raises(ValueError, match=r"12 conversions"):
        compare_response_models(features, np.arange(2_000) < 12)


def test_text_features_are_refused_by_name():
    features, treated, converted = randomised_send(2_000, seed=6, effect=0.10)

    with pytest.raises(ValueError, match="segment"):
        fit_uplift(features.assign(segment="VIP"), treated, converted)


def test_gradient_boosting_beats_logistic_regression_on_a_conversion_window():
    features, converted = exposed_customers(8_000, seed=7, window=True)

    comparison = compare_response_models(features, converted)

    metrics = comparison.metrics
    assert list(metrics.index) == ["logistic regression", "gradient boosting"]
    assert list(metrics.columns) == [
        "customers",
        "conversion_rate",
        "mean_predicted",
        "roc_auc",
        "pr_auc",
        "brier",
        "top_decile_lift",
        "calibration_error",
    ]
    assert metrics.loc["gradient boosting", "roc_auc"] > metrics.loc["logistic regression", "roc_auc"] + 0.05
    assert comparison.best == "gradient boosting"
    held = comparison.held_out
    assert (metrics["customers"] == held.sum()).all() and held.sum() == 2_400
    assert metrics.loc["gradient boosting", "conversion_rate"] == pytest.approx(converted[held].mean())
    assert list(comparison.calibration.columns) == ["bin", "mean_predicted", "observed_rate", "customers"]
    assert comparison.calibration["customers"].sum() == held.sum()


def test_logistic_regression_wins_when_conversion_falls_steadily():
    features, converted = exposed_customers(8_000, seed=8, window=False)

    comparison = compare_response_models(features, converted)

    assert comparison.best == "logistic regression"
    assert comparison.metrics.loc["logistic regression", "roc_auc"] >= comparison.metrics["roc_auc"].max()


def test_top_decile_is_the_highest_uplift_tenth_rounded_up():
    ids = np.array([f"c{i}" for i in range(25)])
    uplift = np.linspace(-0.1, 0.1, 25)[np.random.default_rng(9).permutation(25)]

    audience = top_decile(ids, uplift)

    assert len(audience) == 3
    assert audience["rank"].tolist() == [1, 2, 3]
    assert audience["uplift"].tolist() == sorted(uplift, reverse=True)[:3]
    assert audience["customer_id"].tolist() == ids[np.argsort(-uplift)[:3]].tolist()
    assert len(top_decile(np.arange(100), np.zeros(100), share=0.07)) == 7
    tied = np.repeat([0.1, 0.3, 0.0, 0.2], 50)[np.random.default_rng(10).permutation(200)]
    top_half = top_decile(np.arange(200), tied, share=0.5)["customer_id"].to_numpy()
    np.testing.assert_array_equal(top_half, np.r_[np.flatnonzero(tied == 0.3), np.flatnonzero(tied == 0.2)])
    assert top_decile(np.arange(5), np.array([0.1, 0.3, 0.3, 0.0, 0.2]), share=0.01)["customer_id"].tolist() == [1]


def test_every_customer_gets_the_decile_of_their_predicted_uplift():
    ids = np.array([f"c{i}" for i in range(25)])
    uplift = np.random.default_rng(3).normal(size=25)
    deciles = uplift_deciles(ids, uplift)
    assert sorted(deciles["customer_id"]) == sorted(ids)
    assert deciles["uplift"].is_monotonic_decreasing and deciles["uplift_decile"].is_monotonic_increasing
    assert deciles["uplift_decile"].value_counts().sort_index().tolist() == [3, 2, 3, 2, 3, 2, 3, 2, 3, 2]
    assert deciles.iloc[0]["customer_id"] == ids[np.argmax(uplift)]
