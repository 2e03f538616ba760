"""Versioned segment models: refit rhythm and ids that survive refits."""

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.segments.features import prepare_features
from segmentation_pipeline.domain.segments.history import DaySnapshot
from segmentation_pipeline.domain.segments.model import fit_segments, relabel
from segmentation_pipeline.domain.segments.refit import (
    STABILITY_THRESHOLD,
    SegmentationSettings,
    needs_refit,
    refit,
    segment_changes,
    smallest_segment_allowed,
    stable_choice,
)


def customers(n_per_group: int = 300, seed: int = 1) -> pd.DataFrame:
    """Three well-separated kinds of customer: big spenders, frequent small buyers, lapsed one-timers."""
    rng = np.random.default_rng(seed)
    groups = [
        {"recency_days": 5, "frequency": 30, "monetary_net": 5000, "avg_order_value": 300, "return_rate_units": 0.05},
        {"recency_days": 3, "frequency": 60, "monetary_net": 900, "avg_order_value": 25, "return_rate_units": 0.02},
        {"recency_days": 400, "frequency": 1, "monetary_net": 40, "avg_order_value": 40, "return_rate_units": 0.3},
    ]
    frames = []
    for g, centre in enumerate(groups):
        frame = pd.DataFrame({k: v * rng.lognormal(0, 0.1, n_per_group) for k, v in centre.items()})
        frame["frequency"] = frame["frequency"].round().clip(lower=1)
        frame["tenure_days"] = 500 * rng.lognormal(0, 0.1, n_per_group)
        frame["units_per_order"] = 2 * rng.lognormal(0, 0.1, n_per_group)
        frame["discount_share"] = 0.1
        frame["units_bought"] = np.round(frame["frequency"] * frame["units_per_order"])
        frame["lines_bought"] = frame["frequency"]
        frame["category_breadth"] = 3
        frame["service_contacts"] = 1
        frame["campaign_responses"] = 0
        frame["customer_id"] = [f"C{g}-{i}" for i in range(n_per_group)]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


SETTINGS = SegmentationSettings(k_min=2, k_max=6, stability_bootstraps=3)


def test_segment_ids_survive_a_refit_whose_clusters_come_out_in_another_order():
    snapshot = customers()
    first = refit(snapshot, date(2024, 1, 1), None, SETTINGS)
    # the model in force numbers its segments 7, 3, 5: a refit must keep those ids, not its own order
    renumbered = {0: 7, 1: 3, 2: 5}
    in_force = replace(
        first,
        model=relabel(first.model, renumbered),
        names={renumbered[s]: name for s, name in first.names.items()},
    )
    second = refit(snapshot, date(2024, 2, 1), in_force, replace(SETTINGS, seed=7))
    assert second.model.k == 3
    pd.testing.assert_frame_equal(
        in_force.assign(snapshot).drop(columns="model_version"),
        second.assign(snapshot).drop(columns="model_version"),
    )
    assert sorted(second.names) == [3, 5, 7]
    assert second.version == "20240201"


def test_refit_rhythm():
    first = refit(customers(), date(2024, 1, 1), None, SETTINGS)
    assert needs_refit(None, date(2024, 1, 1), 500, SETTINGS)
    assert not needs_refit(first, date(2024, 1, 28), 500, SETTINGS)
    assert needs_refit(first, date(2024, 1, 29), 500, SETTINGS)
    assert not needs_refit(None, date(2024, 1, 1), 499, SETTINGS)  # a handful of customers gets no model


def test_names_are_unique_and_stability_is_high_on_clear_groups():
    fitted = refit(customers(), date(2024, 1, 1), None, SETTINGS)
    assert len(set(fitted.names.values())) == fitted.model.k
    assert fitted.stability.mean_ari > 0.9


def test_an_unstable_k_gives_way_to_the_largest_stable_smaller_k():
    rng = np.random.default_rng(3)
    # two clear groups, each a shapeless cloud: k=2 is stable, finer splits are arbitrary
    a = customers(400)
    a.loc[a.index >= 400, ["recency_days", "frequency", "monetary_net", "avg_order_value"]] = [5, 30, 5000, 300]
    a["units_per_order"] = 2 * np.exp(rng.normal(0, 0.8, len(a)))
    a["discount_share"] = rng.uniform(0, 1, len(a))
    a["lines_bought"] = 20
    X, _ = prepare_features(a)
    model, stability, reason = stable_choice(X, 6, "k=6: rule", SETTINGS)
    assert stability.mean_ari >= STABILITY_THRESHOLD
    assert model.k < 6
    assert f"k={model.k} is the largest smaller k with stable, big enough segments" in reason


def test_a_k_that_leaves_a_handful_of_customers_in_a_segment_is_not_used():
    snapshot = customers()
    outliers = snapshot.iloc[:10].assign(
        customer_id=[f"X{i}" for i in range(10)], monetary_net=1e6, avg_order_value=1e5, units_per_order=200.0
    )
    X, _ = prepare_features(pd.concat([snapshot, outliers], ignore_index=True))
    tiny = fit_segments(X, 4, seed=0)
    assert np.bincount(tiny.predict(X)).min() == 10  # four clusters isolate the ten outliers

    model, _, reason = stable_choice(X, 4, "k=4: rule", SETTINGS)
    assert model.k < 4
    assert np.bincount(model.predict(X)).min() >= smallest_segment_allowed(len(X), SETTINGS) == 25
    assert "k=4 was left a segment under 25 customers" in reason


def test_no_model_is_fitted_on_a_handful_of_customers():
    few = customers(n_per_group=100)  # 300 customers
    assert not needs_refit(None, date(2024, 1, 1), len(few), SETTINGS)
    ids = np.sort(few["customer_id"].to_numpy())
    snapshots = [DaySnapshot(date(2024, 1, d), np.arange(len(few)), few, ids) for d in (1, 2)]
    assert list(segment_changes(snapshots, len(few), None, SETTINGS)) == []
