"""Recovery of known customer types by the segments, against the plain baseline."""

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.domain.segments.latent_types import baseline_segments, segments_vs_types


def labelled(rows: list[tuple[str, str, str]], seed: int = 0) -> pd.DataFrame:
    """Customers (id, true label, segment) with baseline features that say nothing about the label."""
    rng = np.random.default_rng(seed)
    n = len(rows)
    return pd.DataFrame(rows, columns=["customer_id", "label", "segment_name"]).assign(
        recency_days=rng.uniform(1, 300, n),
        frequency=rng.integers(1, 10, n),
        monetary_net=rng.uniform(10, 1000, n),
        return_rate_units=rng.uniform(0, 0.3, n),
    )


def test_a_relabelled_identical_partition_scores_one_with_exact_counts():
    recovery = segments_vs_types(
        labelled(
            [
                ("c1", "vip", "VIP"),
                ("c2", "vip", "VIP"),
                ("c3", "one_time", "Dormant"),
                ("c4", "one_time", "Dormant"),
                ("c5", "one_time", "Dormant"),
                ("c6", "serial_returner", "Serial Returners"),
            ]
        )
    )
    assert recovery.adjusted_rand_index == pytest.approx(1.0)
    assert recovery.customers == 6
    assert recovery.segments == 3
    assert recovery.confusion.to_dict("index") == {
        "one_time": {"Dormant": 3, "Serial Returners": 0, "VIP": 0},
        "serial_returner": {"Dormant": 0, "Serial Returners": 1, "VIP": 0},
        "vip": {"Dormant": 0, "Serial Returners": 0, "VIP": 2},
    }


def test_a_mixed_partition_scores_below_one_and_counts_every_customer():
    # types a, a, b, b against segments X, Y, X, Y: the segments say nothing about the types
    recovery = segments_vs_types(labelled([("c1", "a", "X"), ("c2", "a", "Y"), ("c3", "b", "X"), ("c4", "b", "Y")]))
    assert recovery.adjusted_rand_index < 0
    assert recovery.confusion.to_numpy().tolist() == [[1, 1], [1, 1]]


def test_the_baseline_finds_types_that_differ_in_recency_frequency_and_money_only():
    rng = np.random.default_rng(1)
    n = 300
    types = np.repeat(["loyal", "lapsed"], n)
    customers = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(2 * n)],
            "label": types,
            "segment_name": rng.choice(["A", "B"], 2 * n),  # segments that ignore the types
            "recency_days": np.where(types == "loyal", 10.0, 400.0) * rng.lognormal(0, 0.2, 2 * n),
            "frequency": np.where(types == "loyal", 12, 1),
            "monetary_net": np.where(types == "loyal", 2000.0, 50.0) * rng.lognormal(0, 0.2, 2 * n),
            "return_rate_units": rng.uniform(0, 0.2, 2 * n),
        }
    )
    assert (baseline_segments(customers, 2) == baseline_segments(customers, 2)[0]).sum() == n
    recovery = segments_vs_types(customers)
    assert recovery.baseline_adjusted_rand_index == pytest.approx(1.0)
    assert abs(recovery.adjusted_rand_index) < 0.05


def test_types_the_baseline_cannot_see_are_scored_for_the_segments_only():
    # bargain hunters and regular buyers alike in recency, frequency, money and returns
    types = np.repeat(["bargain", "regular"], 200)
    customers = labelled([(f"c{i}", t, t.upper()) for i, t in enumerate(types)], seed=2)
    recovery = segments_vs_types(customers)
    assert recovery.adjusted_rand_index == pytest.approx(1.0)
    assert recovery.baseline_adjusted_rand_index < 0.05


def test_a_customer_listed_twice_is_refused():
    with pytest.raises(ValueError, match="'c1'"):
        segments_vs_types(labelled([("c1", "a", "X"), ("c1", "a", "Y")]))
