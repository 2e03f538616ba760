"""Acquisition cohorts: retention and revenue per customer by months since first purchase."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.segments.cohorts import cohort_matrices, segment_mix

NAN = np.nan
COHORTS = pd.DatetimeIndex(["2024-01-01", "2024-02-01", "2024-03-01"], name="cohort_month")


def _lines() -> pd.DataFrame:
    """Five customers: a and b join in January, c and d in February, e in March.

    a comes back in March; c's February order has two lines. The last order is in March.
    """
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "c", "d", "e"],
            "order_id": ["o1", "o2", "o3", "o4", "o4", "o5", "o6"],
            "order_ts": pd.to_datetime(
                [
                    "2024-01-05 10:00",
                    "2024-03-02 09:00",
                    "2024-01-31 23:59",
                    "2024-02-01 00:00",
                    "2024-02-01 00:00",
                    "2024-02-10 12:00",
                    "2024-03-31 23:00",
                ]
            ),
            "net_amount": [10.0, 20.0, 5.0, 7.0, 3.0, 40.0, 8.0],
        }
    )


def test_cohort_sizes():
    cohorts = cohort_matrices(_lines())
    assert cohorts.customers.index.equals(COHORTS)
    assert cohorts.customers.tolist() == [2, 2, 1]


def test_retention_with_nan_beyond_the_observed_horizon():
    retention = cohort_matrices(_lines()).retention
    assert retention.index.equals(COHORTS)
    assert retention.columns.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(retention.to_numpy(), [[1.0, 0.0, 0.5], [1.0, 0.0, NAN], [1.0, NAN, NAN]])


def test_revenue_per_customer():
    # January: (10 + 5) / 2, nothing in February, a's 20 in March / 2; February: (7 + 3 + 40) / 2
    revenue = cohort_matrices(_lines()).revenue_per_customer
    np.testing.assert_array_equal(revenue.to_numpy(), [[7.5, 0.0, 10.0], [25.0, 0.0, NAN], [8.0, NAN, NAN]])


def test_one_row_per_order_gives_the_same_matrices():
    orders = (
        _lines()
        .groupby(["customer_id", "order_id"], as_index=False)
        .agg(order_ts=("order_ts", "min"), net_amount=("net_amount", "sum"))
    )
    by_line, by_order = cohort_matrices(_lines()), cohort_matrices(orders)
    pd.testing.assert_frame_equal(by_line.retention, by_order.retention)
    pd.testing.assert_frame_equal(by_line.revenue_per_customer, by_order.revenue_per_customer)
    pd.testing.assert_series_equal(by_line.customers, by_order.customers)


def test_first_purchase_month_per_customer():
    first = cohort_matrices(_lines()).first_purchase
    assert first["customer_id"].tolist() == ["a", "b", "c", "d", "e"]
    assert first["cohort_month"].tolist() == [
        pd.Timestamp(m) for m in ["2024-01", "2024-01", "2024-02", "2024-02", "2024-03"]
    ]


def test_segment_mix_shares_per_cohort():
    first = cohort_matrices(_lines()).first_purchase
    segments = pd.DataFrame(
        {"customer_id": ["a", "b", "c", "d", "e"], "segment": ["Lost", "Champions", "Lost", "Lost", "New"]}
    )
    mix = segment_mix(first, segments)
    assert mix.columns.tolist() == ["Champions", "Lost", "New"]
    np.testing.assert_allclose(mix.to_numpy(), [[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(mix.sum(axis=1), 1.0)


def test_segment_mix_leaves_out_customers_without_a_segment():
    first = cohort_matrices(_lines()).first_purchase
    segments = pd.DataFrame({"customer_id": ["a", "b", "c"], "segment": ["Lost", "Champions", "Champions"]})
    mix = segment_mix(first, segments)
    assert mix.index.tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")]
    np.testing.assert_allclose(mix.sum(axis=1), 1.0)
    assert mix.loc["2024-02-01", "Champions"] == 1.0
