"""The anomalies a refresh warns about: the latest day of data, and the latest complete day of the return rate."""

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.marts.kpis import newest_anomalies
from segmentation_pipeline.domain.monitoring.anomalies import detect_anomalies

LAST_DAY = pd.Timestamp("2024-03-31")
RETURN_WINDOW = 30


def shop_kpis(weeks: int = 12, seed: int = 3) -> pd.DataFrame:
    """Daily orders up to the last day and the return rate up to 30 days before it, both with a weekly pattern."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(end=LAST_DAY, periods=weeks * 7, freq="D")
    weekly = np.where(days.day_of_week >= 5, 1.4, 1.0)
    orders = pd.DataFrame(
        {"day": days, "metric": "orders", "value": 100 * weekly * (1 + rng.normal(0, 0.03, len(days)))}
    )
    complete = days[days <= LAST_DAY - pd.Timedelta(days=RETURN_WINDOW)]
    rates = pd.DataFrame({"day": complete, "metric": "return_rate", "value": 0.2 + rng.normal(0, 0.003, len(complete))})
    return pd.concat([orders, rates], ignore_index=True)


def planted(daily: pd.DataFrame, metric: str, day: pd.Timestamp, factor: float) -> pd.DataFrame:
    changed = daily.copy()
    changed.loc[(changed["metric"] == metric) & (changed["day"] == day), "value"] *= factor
    return changed


def warned(daily: pd.DataFrame) -> set[tuple[str, pd.Timestamp]]:
    return {(row.metric, row.day) for row in newest_anomalies(detect_anomalies(daily)).itertuples()}


def test_a_steady_shop_warns_about_nothing():
    assert warned(shop_kpis()) == set()


def test_a_spike_on_the_latest_day_is_warned_about():
    assert warned(planted(shop_kpis(), "orders", LAST_DAY, 4.0)) == {("orders", LAST_DAY)}


def test_a_spike_on_an_earlier_day_stays_an_anomaly_without_a_warning():
    earlier = LAST_DAY - pd.Timedelta(days=3)
    judged = detect_anomalies(planted(shop_kpis(), "orders", earlier, 4.0))

    assert newest_anomalies(judged).empty
    assert judged.loc[judged["is_anomaly"], ["metric", "day"]].values.tolist() == [["orders", earlier]]


def test_the_return_rate_is_warned_about_on_its_latest_complete_day_only():
    complete = LAST_DAY - pd.Timedelta(days=RETURN_WINDOW)
    assert warned(planted(shop_kpis(), "return_rate", complete, 2.0)) == {("return_rate", complete)}
    assert warned(planted(shop_kpis(), "return_rate", complete - pd.Timedelta(days=1), 2.0)) == set()


def test_warnings_come_strongest_first_and_an_empty_verdict_warns_about_nothing():
    daily = planted(planted(shop_kpis(), "orders", LAST_DAY, 2.0), "return_rate", LAST_DAY - pd.Timedelta(days=30), 3.0)

    newest = newest_anomalies(detect_anomalies(daily))

    assert list(newest["metric"]) == ["return_rate", "orders"]
    assert newest["z"].abs().is_monotonic_decreasing
    assert newest_anomalies(detect_anomalies(daily.iloc[:0])).empty
