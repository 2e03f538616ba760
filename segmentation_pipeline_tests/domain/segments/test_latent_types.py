"""Recovery of known customer types by the segments."""

import pandas as pd
import pytest

from segmentation_pipeline.domain.segments.latent_types import segments_vs_types


def pairs(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "latent_type", "segment_name"])


def test_a_relabelled_identical_partition_scores_one_with_exact_counts():
    recovery = segments_vs_types(
        pairs(
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
    assert recovery.confusion.to_dict("index") == {
        "one_time": {"Dormant": 3, "Serial Returners": 0, "VIP": 0},
        "serial_returner": {"Dormant": 0, "Serial Returners": 1, "VIP": 0},
        "vip": {"Dormant": 0, "Serial Returners": 0, "VIP": 2},
    }


def test_a_mixed_partition_scores_below_one_and_counts_every_customer():
    # types a, a, b, b against segments X, Y, X, Y: the segments say nothing about the types
    recovery = segments_vs_types(pairs([("c1", "a", "X"), ("c2", "a", "Y"), ("c3", "b", "X"), ("c4", "b", "Y")]))
    assert recovery.adjusted_rand_index < 0
    assert recovery.confusion.to_numpy().tolist() == [[1, 1], [1, 1]]


def test_a_customer_listed_twice_is_refused():
    with pytest.raises(ValueError):
        segments_vs_types(pairs([("c1", "a", "X"), ("c1", "a", "Y")]))
