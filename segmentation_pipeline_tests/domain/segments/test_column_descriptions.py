"""Descriptions of the segment tables' columns, generated from the columns the tables actually have."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.segments.cohorts import cohort_retention_columns, cohort_tables
from segmentation_pipeline.domain.segments.latent_types import confusion_columns
from segmentation_pipeline.domain.segments.profiles import profile_statistic_columns, segment_profiles
from segmentation_pipeline.domain.segments.transitions import GONE, NEW, segment_migration, transition_rates_columns
from segmentation_pipeline_tests.domain.segments.test_clustering import snapshot

JAN, FEB = date(2024, 1, 31), date(2024, 2, 29)


def test_a_transition_rate_column_named_after_a_segment_is_the_share_of_the_row_moving_into_it():
    january = {"c1": "VIP", "c2": "VIP", "c3": "New", "c4": "New"}
    february = {"c1": "VIP", "c2": "New", "c3": "New", "c5": "VIP"}
    rows = [(c, JAN, s) for c, s in january.items()] + [(c, FEB, s) for c, s in february.items()]
    rates = segment_migration(pd.DataFrame(rows, columns=["customer_id", "as_of", "segment"]), JAN, FEB).rates
    table = rates.reset_index(names="from_segment")

    described = transition_rates_columns(table.columns)

    assert list(described) == ["from_segment", "New", "VIP", GONE]
    assert described["VIP"] == "Share of the row's customers in VIP on the later day."
    assert NEW in described["from_segment"] and "no segment" in described[GONE]
    assert rates.loc["VIP", "New"] == 0.5 and rates.loc["New", GONE] == 0.5  # what the descriptions say
    assert rates.loc[["VIP", "New"]].sum(axis=1).tolist() == [1.0, 1.0]


def test_a_confusion_column_named_after_a_segment_counts_the_row_type_placed_in_it():
    described = confusion_columns(["label", "Serial Returners", "VIP"])
    assert described["label"] == "The customers' true type, as the source knows it."
    assert described["Serial Returners"] == "Customers of the row's true type placed in Serial Returners."


def test_every_retention_column_is_described_with_its_month_since_the_first_purchase():
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c"],
            "order_ts": pd.to_datetime(["2024-01-05", "2024-03-02", "2024-02-10", "2024-03-20"]),
            "net_amount": [10.0, 5.0, 7.0, 3.0],
        }
    )
    _, tables = cohort_tables(orders, pd.DataFrame({"customer_id": ["a"], "segment": ["VIP"]}))
    retention = tables["retention"]

    described = cohort_retention_columns(retention.columns)

    assert list(described) == ["cohort_month", "m0", "m1", "m2"]
    assert "in month 2 since its first purchase" in described["m2"]
    assert "month 0: the month of the first purchase" in described["m0"]


def test_every_size_and_statistic_column_of_a_profile_is_described_from_its_feature():
    frame, kinds = snapshot()
    profiles = segment_profiles(frame, np.array([10, 20, 30, 40])[kinds])

    described = profile_statistic_columns(profiles.columns)

    assert list(described) == list(profiles.columns)
    assert described["median_recency_days"] == (
        "Median over the segment's customers of `recency_days`: Days from the last purchase to the end of the "
        "snapshot day."
    )
    assert described["return_rate"].startswith("Mean over the segment's customers of `return_rate_units`: ")
    assert described["z_discount_share"].startswith("Segment mean of `discount_share` in standard deviations")
    assert profile_statistic_columns(["segment_name", "mean_unknown_feature"]) == {}
