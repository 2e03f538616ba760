"""KPI anomalies: planted spikes and drops against the seasonal baseline, judged point in time."""

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.domain.monitoring.anomalies import (
    AnomalySettings,
    detect_anomalies,
    latest_anomalies,
    long_kpis,
)

MONDAY = pd.Timestamp("2024-01-01")
WEEKEND_LIFT = 1.4


def seasonal_series(metric: str, weeks: int = 20, level: float = 100.0, seed: int = 0, start=MONDAY) -> pd.DataFrame:
    """A daily KPI whose weekends run 40% above its weekdays, with 5% noise."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, periods=weeks * 7, freq="D")
    weekly = np.where(days.day_of_week >= 5, WEEKEND_LIFT, 1.0)
    return pd.DataFrame({"day": days, "metric": metric, "value": level * weekly * (1 + rng.normal(0, 0.05, len(days)))})


def planted(daily: pd.DataFrame, day: pd.Timestamp, factor: float, metric: str | None = None) -> pd.DataFrame:
    """The series with one day's value multiplied by ``factor``."""
    hit = daily["day"] == day
    if metric is not None:
        hit &= daily["metric"] == metric
    changed = daily.copy()
    changed.loc[hit, "value"] *= factor
    return changed


def flags(judged: pd.DataFrame) -> set[tuple[str, pd.Timestamp, str]]:
    return {(row.metric, row.day, row.direction) for row in judged[judged["is_anomaly"]].itertuples()}


def day(offset: int) -> pd.Timestamp:
    return MONDAY + pd.Timedelta(days=offset)


def test_a_planted_spike_is_flagged_high_and_a_planted_drop_low():
    daily = planted(planted(seasonal_series("orders"), day(100), 3.0), day(117), 0.3)

    judged = detect_anomalies(daily)

    assert flags(judged) == {("orders", day(100), "high"), ("orders", day(117), "low")}
    spike = judged.set_index("day").loc[day(100)]
    assert spike["value"] > spike["high"] and spike["z"] > 4
    assert judged.loc[~judged["is_anomaly"], "direction"].map(lambda direction: direction is None).all()


def test_the_weekly_pattern_is_part_of_the_baseline_not_an_anomaly():
    daily = pd.concat([seasonal_series(f"kpi {seed}", seed=seed) for seed in range(20)], ignore_index=True)

    judged = detect_anomalies(daily)

    assert judged["is_anomaly"].mean() <= 0.01
    settled = judged[judged["history_weeks"] == AnomalySettings().weeks]
    weekday = settled["day"].dt.day_of_week
    lift = settled.loc[weekday == 5, "expected"].mean() / settled.loc[weekday == 0, "expected"].mean()
    assert lift == pytest.approx(WEEKEND_LIFT, rel=0.05)
    assert settled.loc[weekday >= 5, "z"].abs().median() < 1


def test_the_band_follows_the_seasonal_median_and_the_spread_of_earlier_residuals():
    settings = AnomalySettings(weeks=6, min_weeks=3, threshold=3.0, min_relative_scale=0.01)
    daily = seasonal_series("orders", seed=3)
    daily = daily.assign(value=daily["value"] * np.linspace(1.0, 1.5, len(daily)))
    daily = daily[~daily["day"].isin([day(40), day(47), day(60)])]

    judged = detect_anomalies(daily, settings).set_index("day")

    values = daily.set_index("day")["value"]
    residuals = judged["value"] - judged["expected"]
    for when in [day(offset) for offset in (9, 41, 54, 61, 90, 139)]:
        same_weekday = values.reindex(
            [when - pd.Timedelta(weeks=week) for week in range(1, settings.weeks + 1)]
        ).dropna()
        earlier = residuals[(residuals.index < when) & (residuals.index >= when - pd.Timedelta(weeks=settings.weeks))]
        spread = 1.4826 * (earlier - earlier.median()).abs().median() if len(earlier) else 0.0
        scale = max(spread, settings.min_relative_scale * same_weekday.median())
        row = judged.loc[when]
        assert row["history_weeks"] == len(same_weekday)
        assert row["expected"] == pytest.approx(same_weekday.median())
        assert row["high"] - row["expected"] == pytest.approx(settings.threshold * scale)
        assert row["z"] == pytest.approx((row["value"] - row["expected"]) / scale)


def test_a_day_never_enters_its_own_baseline():
    daily = seasonal_series("revenue")
    changed_day = day(90)
    before = detect_anomalies(daily).set_index("day")
    after = detect_anomalies(planted(daily, changed_day, 10.0)).set_index("day")

    baseline = ["expected", "low", "high"]
    up_to = before.index <= changed_day
    pd.testing.assert_frame_equal(before.loc[up_to, baseline], after.loc[up_to, baseline])
    assert after.loc[changed_day, "is_anomaly"] and not before.loc[changed_day, "is_anomaly"]
    assert not np.allclose(before.loc[~up_to, baseline], after.loc[~up_to, baseline])


def test_the_first_min_weeks_weeks_are_never_flagged():
    settings = AnomalySettings()
    first_judged_day = settings.min_weeks * 7
    daily = seasonal_series("orders")
    for offset in (8, 20, first_judged_day - 1, first_judged_day):
        daily = planted(daily, day(offset), 5.0)

    judged = detect_anomalies(daily, settings).set_index("day")

    early = judged[judged.index < day(first_judged_day)]
    assert not early["is_anomaly"].any()
    assert (early.loc[[day(8), day(20), day(first_judged_day - 1)], "z"] > settings.threshold).all()
    assert (early["history_weeks"] < settings.min_weeks).all()
    assert judged.loc[day(first_judged_day), "is_anomaly"]


def test_missing_days_are_absent_not_zero():
    daily = seasonal_series("returns")
    gap = [day(offset) for offset in [33, 101, 115, *range(70, 77)]]
    with_gaps = daily[~daily["day"].isin(gap)]

    judged = detect_anomalies(with_gaps)
    as_zero = detect_anomalies(daily.assign(value=daily["value"].where(~daily["day"].isin(gap), 0.0)))

    assert not judged["is_anomaly"].any()
    assert not judged["day"].isin(gap).any()
    assert len(judged) == len(with_gaps) - 7
    assert judged.set_index("day").loc[day(77), "history_weeks"] == AnomalySettings().weeks - 1
    assert {(metric, when) for metric, when, _ in flags(as_zero)} == {("returns", when) for when in gap}
    as_nan = daily.assign(value=daily["value"].where(~daily["day"].isin(gap)))
    pd.testing.assert_frame_equal(detect_anomalies(as_nan), judged)


def test_a_steady_series_flags_a_large_jump_but_not_a_small_move():
    steady = pd.DataFrame(
        {"day": pd.date_range(MONDAY, periods=140, freq="D"), "metric": "return_rate", "value": 100.0}
    )
    small_moves = steady.assign(value=steady["value"].where(steady["day"] != day(100), 104.0))
    small_moves.loc[small_moves["day"] == day(110), "value"] = 96.0
    jump = steady.assign(value=steady["value"].where(steady["day"] != day(100), 130.0))

    assert not detect_anomalies(steady)["is_anomaly"].any()
    assert not detect_anomalies(small_moves)["is_anomaly"].any()
    assert flags(detect_anomalies(jump)) == {("return_rate", day(100), "high")}


def test_metrics_are_judged_independently():
    orders = planted(seasonal_series("orders", seed=1), day(100), 3.0)
    revenue = seasonal_series("revenue", weeks=18, level=5000.0, seed=2, start=day(14))

    together = detect_anomalies(pd.concat([orders, revenue], ignore_index=True))

    assert flags(together) == {("orders", day(100), "high")}
    for metric, alone in (("orders", orders), ("revenue", revenue)):
        pd.testing.assert_frame_equal(
            together[together["metric"] == metric].reset_index(drop=True), detect_anomalies(alone)
        )


def test_latest_anomalies_are_those_of_the_last_days_strongest_first():
    last, day_before = day(139), day(138)
    daily = pd.concat([seasonal_series(metric, seed=seed) for seed, metric in enumerate("abc")], ignore_index=True)
    daily = planted(daily, day(100), 3.0, "a")
    daily = planted(daily, last, 0.5, "a")
    daily = planted(daily, last, 3.0, "b")
    daily = planted(daily, day_before, 3.0, "c")
    judged = detect_anomalies(daily)

    latest = latest_anomalies(judged)
    two_days = latest_anomalies(judged, days=2)

    assert set(zip(latest["metric"], latest["day"], latest["direction"])) == {("a", last, "low"), ("b", last, "high")}
    assert list(latest["metric"]) == ["b", "a"]
    assert set(two_days["day"]) == {last, day_before} and len(two_days) == 3
    assert two_days["z"].abs().is_monotonic_decreasing
    assert latest_anomalies(judged, days=200)["is_anomaly"].sum() == judged["is_anomaly"].sum() == 4


def test_wide_kpis_become_the_long_form_without_absent_days():
    orders = seasonal_series("orders")
    wide = pd.DataFrame({"date": orders["day"], "orders": orders["value"], "revenue": orders["value"] * 40})
    wide.loc[5, "revenue"] = np.nan

    long = long_kpis(wide, day_column="date")

    assert list(long.columns) == ["day", "metric", "value"]
    assert len(long) == 2 * len(wide) - 1
    back = long.pivot(index="day", columns="metric", values="value")
    pd.testing.assert_series_equal(back["orders"], wide.set_index("date")["orders"], check_names=False)
    assert set(detect_anomalies(long)["metric"]) == {"orders", "revenue"}


def test_days_are_calendar_days_given_one_value_each():
    daily = seasonal_series("orders")
    as_dates = daily.assign(day=daily["day"].dt.date)
    late_in_the_day = daily.assign(day=daily["day"] + pd.Timedelta(hours=18))

    pd.testing.assert_frame_equal(detect_anomalies(as_dates), detect_anomalies(daily))
    pd.testing.assert_frame_equal(detect_anomalies(late_in_the_day), detect_anomalies(daily))
    with pytest.raises(ValueError, match="more than one value"):
        detect_anomalies(pd.concat([daily, late_in_the_day]))


def test_settings_that_could_never_flag_are_refused():
    with pytest.raises(ValueError, match="min_weeks"):
        AnomalySettings(weeks=3, min_weeks=4)
    with pytest.raises(ValueError, match="threshold"):
        AnomalySettings(threshold=0.0)
