"""The holdout: where calibration ends, predicted against actual purchases, and the model chosen on it."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.domain.clv.validation import (
    calibration_end,
    choose_purchase_model,
    holdout_by_frequency,
    holdout_chart,
    holdout_scores,
    spend_frequency_correlation,
    too_little_history,
)


def test_the_holdout_is_the_last_26_weeks_or_the_latter_half_of_a_short_history():
    assert calibration_end(date(2023, 1, 1), date(2024, 12, 31), 26) == date(2024, 7, 2)
    assert calibration_end(date(2024, 1, 1), date(2024, 3, 1), 26) == date(2024, 1, 31)
    assert calibration_end(date(2024, 1, 1), date(2024, 3, 1), 26, asked=date(2024, 2, 15)) == date(2024, 2, 15)
    with pytest.raises(ValueError, match="calibration_end: 2024-03-01"):
        calibration_end(date(2024, 1, 1), date(2024, 3, 1), 26, asked=date(2024, 3, 1))


def test_holdout_table_groups_calibration_frequencies_and_totals_by_hand():
    x = np.array([0, 0, 1, 7, 12])
    actual = np.array([0.0, 1.0, 2.0, 3.0, 5.0])
    table = holdout_by_frequency(x, actual, {"bg_nbd": np.array([0.5, 0.5, 1.0, 4.0, 6.0])})

    assert list(table.index) == ["0", "1", "7+", "total"]
    assert table.loc["0", "customers"] == 2 and table.loc["0", "actual"] == 0.5
    assert table.loc["7+", "actual"] == 4.0 and table.loc["7+", "bg_nbd"] == 5.0
    assert table.loc["total", "actual"] == 11.0 and table.loc["total", "bg_nbd"] == 12.0
    assert "7+" in holdout_chart(table, ["bg_nbd"])


def test_scores_and_the_choice_follow_the_per_customer_error():
    actual = np.array([0.0, 2.0, 4.0])
    close, biased = np.array([0.5, 2.0, 3.5]), np.array([2.0, 2.0, 2.0])
    scores = {"bg_nbd": holdout_scores(actual, biased), "pareto_nbd": holdout_scores(actual, close)}

    assert scores["bg_nbd"]["total_error"] == 0.0  # right in total, wrong per customer
    assert scores["pareto_nbd"]["rmse"] == pytest.approx(np.sqrt(0.5 / 3))
    assert choose_purchase_model(scores) == "pareto_nbd"
    with pytest.raises(ValueError):
        choose_purchase_model({"bg_nbd": holdout_scores(np.array([]), np.array([]))})


def test_spend_frequency_correlation_uses_repeat_customers_only():
    x = np.array([0, 1, 2, 3, 4])
    m = np.array([1000.0, 10.0, 20.0, 30.0, 40.0])
    assert spend_frequency_correlation(x, m) == pytest.approx(1.0)
    assert np.isnan(spend_frequency_correlation(np.array([0, 1]), np.array([1.0, 2.0])))


def test_too_short_a_holdout_or_too_few_repeat_customers_is_refused():
    few = pd.DataFrame({"x": [1] * 10 + [0] * 100})
    many = pd.DataFrame({"x": [1] * 40})
    assert "holdout of 10 days" in too_little_history(date(2024, 1, 1), date(2024, 1, 21), date(2024, 1, 11), many)
    assert "10 customers with a repeat purchase" in too_little_history(
        date(2024, 1, 1), date(2024, 3, 1), date(2024, 1, 31), few
    )
    assert too_little_history(date(2024, 1, 1), date(2024, 3, 1), date(2024, 1, 31), many) is None
