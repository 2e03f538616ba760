"""Churn risk: the model split by time against P(alive), and the risk bands."""

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.domain.clv.churn import CHURN_FEATURES, risk_bands, too_few, train_churn_model
from segmentation_pipeline.domain.clv.settings import ChurnSettings


def customers_at_cutoff(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Customers whose churn follows their recency; the returned P(alive) knows nothing of it."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({name: rng.gamma(2.0, 10.0, n) for name in CHURN_FEATURES})
    frame["recency_days"] = rng.uniform(0, 300, n)
    frame.loc[rng.random(n) < 0.1, "mean_days_between_orders"] = np.nan
    frame["churned"] = rng.random(n) < 1 / (1 + np.exp(-(frame["recency_days"] - 150) / 30))
    return frame, rng.uniform(0, 1, n)


def test_the_model_learns_at_one_cutoff_and_is_judged_at_the_next_against_the_baselines():
    train, _ = customers_at_cutoff(3000, seed=1)
    test, uninformed = customers_at_cutoff(2000, seed=2)
    perfect = test["churned"].to_numpy(float)

    model = train_churn_model(train, test, {"uninformed": uninformed}, ChurnSettings())
    beaten = train_churn_model(train, test, {"uninformed": uninformed, "perfect": perfect}, ChurnSettings())

    assert list(model.metrics.index) == ["model", "baseline: uninformed"]
    assert model.metrics.loc["model", "roc_auc"] > 0.85
    assert abs(model.metrics.loc["baseline: uninformed", "roc_auc"] - 0.5) < 0.05
    assert model.beats_baseline() and not beaten.beats_baseline()
    assert model.metrics.loc["model", "customers"] == 2000
    assert model.metrics.loc["model", "churn_rate"] == pytest.approx(test["churned"].mean())
    assert model.calibration["lines"].sum() == 2000
    probability = model.churn_probability(test)
    assert probability.min() >= 0 and probability.max() <= 1


def test_the_final_model_is_refitted_on_the_later_cutoff():
    train, _ = customers_at_cutoff(3000, seed=1)
    test, uninformed = customers_at_cutoff(2000, seed=2)
    test["churned"] = ~test["churned"]  # the later cutoff says the opposite

    model = train_churn_model(train, test, {"uninformed": uninformed}, ChurnSettings())

    assert model.metrics.loc["model", "roc_auc"] < 0.2  # judged with what it learnt at the earlier cutoff
    recent = test.assign(recency_days=10.0)
    lapsed = test.assign(recency_days=290.0)
    assert model.churn_probability(recent).mean() > model.churn_probability(lapsed).mean()  # refitted on the later


def test_bands_follow_the_cutoffs():
    assert list(risk_bands(np.array([0.0, 0.29, 0.3, 0.59, 0.6, 1.0]), (0.3, 0.6))) == [
        "Low",
        "Low",
        "Medium",
        "Medium",
        "High",
        "High",
    ]
    with pytest.raises(ValueError):
        risk_bands(np.array([0.5]), (0.6, 0.3))


def test_a_cutoff_with_too_few_churned_or_retained_customers_is_refused():
    assert too_few(np.array([True] * 19 + [False] * 500)) == "19 churned and 500 retained customers (at least 20 each)"
    assert too_few(np.array([True] * 20 + [False] * 20)) is None
