"""Segment migration: transition counts and rates, snapshot dates and the Markov projection."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.domain.segments.transitions import (
    GONE,
    NEW,
    markov_forecast,
    monthly_snapshot_dates,
    segment_migration,
    snapshot_pair,
    transition_matrix,
)

JAN = date(2024, 1, 31)
FEB = date(2024, 2, 29)


def _assignments() -> pd.DataFrame:
    """Six customers: c5 leaves after January, c6 joins in February, c4 moves B -> C."""
    january = {"c1": "A", "c2": "A", "c3": "B", "c4": "B", "c5": "A"}
    february = {"c1": "A", "c2": "B", "c3": "B", "c4": "C", "c6": "A"}
    rows = [(c, JAN, s) for c, s in january.items()] + [(c, FEB, s) for c, s in february.items()]
    return pd.DataFrame(rows, columns=["customer_id", "as_of", "segment"])


def test_transition_counts_include_gone_and_new():
    counts, _ = transition_matrix(_assignments(), JAN, FEB)
    expected = pd.DataFrame(
        [[1, 1, 0, 1], [0, 1, 1, 0], [0, 0, 0, 0], [1, 0, 0, 0]],
        index=pd.Index(["A", "B", "C", NEW], name="from_segment"),
        columns=pd.Index(["A", "B", "C", GONE], name="to_segment"),
    )
    pd.testing.assert_frame_equal(counts, expected, check_index_type=False, check_column_type=False)


def test_transition_rates_are_row_shares():
    _, rates = transition_matrix(_assignments(), JAN, FEB)
    third = 1 / 3
    assert rates.loc["A"].tolist() == pytest.approx([third, third, 0.0, third])
    assert rates.loc["B"].tolist() == pytest.approx([0.0, 0.5, 0.5, 0.0])
    assert rates.loc[NEW].tolist() == pytest.approx([1.0, 0.0, 0.0, 0.0])
    assert rates.loc["C"].isna().all()


def test_transition_matrix_accepts_timestamps_in_the_table():
    assignments = _assignments().assign(as_of=lambda df: pd.to_datetime(df["as_of"]))
    counts, _ = transition_matrix(assignments, JAN, FEB)
    assert counts.to_numpy().sum() == 6


def test_two_segments_for_one_customer_are_rejected():
    assignments = pd.concat(
        [_assignments(), pd.DataFrame([("c1", JAN, "B")], columns=["customer_id", "as_of", "segment"])]
    )
    with pytest.raises(ValueError, match="more than one segment"):
        transition_matrix(assignments, JAN, FEB)


def test_monthly_snapshot_dates_keep_the_last_date_of_each_month():
    dates = [date(2024, 1, 15), date(2024, 2, 1), date(2023, 12, 5), date(2024, 1, 31), date(2024, 1, 3)]
    assert monthly_snapshot_dates(dates) == [date(2023, 12, 5), date(2024, 1, 31), date(2024, 2, 1)]
    assert monthly_snapshot_dates([datetime(2024, 3, 2, 0, 0), datetime(2024, 3, 9, 0, 0)]) == [date(2024, 3, 9)]


def _two_state_rates() -> pd.DataFrame:
    return pd.DataFrame(
        [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.5, 0.5, 0.0]],
        index=["A", "B", NEW],
        columns=["A", "B", GONE],
    )


def test_markov_forecast_matches_hand_computation():
    # period 1: A = 100*0.8 + 50*0.2 = 90, B = 100*0.1 + 50*0.7 = 45, gone = 10 + 5 = 15
    # period 2: A = 90*0.8 + 45*0.2 = 81, B = 9 + 31.5 = 40.5, gone = 15 + 9 + 4.5 = 28.5
    forecast = markov_forecast(_two_state_rates(), pd.Series({"A": 100, "B": 50}), periods=2)
    assert list(forecast.columns) == ["A", "B", GONE]
    assert forecast.index.tolist() == [0, 1, 2]
    np.testing.assert_allclose(forecast.to_numpy(), [[100, 50, 0], [90, 45, 15], [81, 40.5, 28.5]])


def test_markov_forecast_keeps_unobserved_segments_in_place():
    rates = _two_state_rates().assign(C=0.0)
    rates.loc["C"] = np.nan
    forecast = markov_forecast(rates, pd.Series({"A": 100, "B": 50, "C": 7}), periods=1)
    np.testing.assert_allclose(forecast.loc[1, ["A", "B", "C", GONE]], [90, 45, 7, 15])


def test_markov_forecast_rejects_rates_that_do_not_sum_to_one():
    rates = _two_state_rates()
    rates.loc["A", GONE] = 0.3
    with pytest.raises(ValueError, match="sum to 1"):
        markov_forecast(rates, pd.Series({"A": 100, "B": 50}))


def test_markov_forecast_on_transition_matrix_output_conserves_customers():
    _, rates = transition_matrix(_assignments(), JAN, FEB)
    forecast = markov_forecast(rates, pd.Series({"A": 2, "B": 2, "C": 1}), periods=3)
    assert forecast.sum(axis=1).tolist() == pytest.approx([5, 5, 5, 5])
    assert forecast[GONE].is_monotonic_increasing


SNAPSHOT_DAYS = [date(2024, 1, d) for d in (15, 30, 31)] + [date(2024, 2, d) for d in (1, 28)] + [date(2024, 3, 2)]


def test_snapshot_pair_defaults_to_the_last_two_month_ends():
    assert snapshot_pair(SNAPSHOT_DAYS) == (date(2024, 2, 28), date(2024, 3, 2))
    assert snapshot_pair(SNAPSHOT_DAYS[:3]) is None  # one month end: nothing to compare


def test_snapshot_pair_takes_any_two_chosen_days_and_fills_the_other_from_month_ends():
    assert snapshot_pair(SNAPSHOT_DAYS, date(2024, 1, 15), date(2024, 1, 30)) == (date(2024, 1, 15), date(2024, 1, 30))
    assert snapshot_pair(SNAPSHOT_DAYS, to_day=date(2024, 2, 28)) == (date(2024, 1, 31), date(2024, 2, 28))
    assert snapshot_pair(SNAPSHOT_DAYS, from_day=date(2024, 1, 15)) == (date(2024, 1, 15), date(2024, 3, 2))


@pytest.mark.parametrize(
    ("from_day", "to_day", "field"),
    [
        (date(2024, 1, 16), None, "from_day: no segments on 2024-01-16"),
        (None, date(2024, 4, 30), "to_day: no segments on 2024-04-30"),
        (date(2024, 2, 28), date(2024, 1, 31), "from_day: 2024-02-28 must come before"),
        (None, date(2024, 1, 15), "from_day: no month end with segments before"),
        (date(2024, 3, 2), None, "to_day: no month end with segments after"),
    ],
)
def test_snapshot_pair_names_the_field_of_an_impossible_choice(from_day, to_day, field):
    with pytest.raises(ValueError, match=field):
        snapshot_pair(SNAPSHOT_DAYS, from_day, to_day)


def test_segment_migration_forecasts_from_the_sizes_at_the_later_date():
    migration = segment_migration(_assignments(), JAN, FEB, periods=2)
    pd.testing.assert_frame_equal(migration.counts, transition_matrix(_assignments(), JAN, FEB)[0])
    assert migration.forecast.index.tolist() == [0, 1, 2]
    # February: A = c1, c6; B = c2, c3; C = c4. A keeps a third, sends a third to B and a third away
    assert migration.forecast.loc[0, ["A", "B", "C", GONE]].tolist() == [2, 2, 1, 0]
    assert migration.forecast.loc[1, "A"] == pytest.approx(2 / 3)
    assert migration.forecast.loc[1].sum() == pytest.approx(5)
