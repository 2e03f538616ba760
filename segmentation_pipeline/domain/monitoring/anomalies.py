"""KPI anomalies: a day's value out of line with the same weekday in the recent weeks of its own series.

Daily shop KPIs (orders, revenue, return rate, segment sizes, ...) arrive as one series per metric. Each day of a
series is judged against a seasonal baseline built from strictly earlier days only, so a day never enters its own
baseline and a verdict never changes when later days arrive:

- expected: the median of the same weekday's values in the previous ``weeks`` weeks, so a weekly pattern (busier
  weekends, a quiet Monday) is part of the baseline, not an anomaly;
- scale: 1.4826 x the median absolute deviation of the series' residuals (value - expected) over the previous
  ``weeks`` x 7 days, and at least ``min_relative_scale`` x |expected| (a steady series does not flag rounding
  noise) and ``MIN_SCALE``;
- z = (value - expected) / scale; the day is an anomaly when |z| > ``threshold`` and its baseline holds at least
  ``min_weeks`` values of its weekday.

A missing day is absent, not zero: it is not judged and enters no baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

ROBUST_SCALE = 1.4826
"""Turns a median absolute deviation into the standard deviation of normally distributed noise."""
MIN_SCALE = 1e-9
"""Smallest scale, so a series that is constant at zero still gives a finite z."""
DAYS_PER_WEEK = 7
JUDGED_COLUMNS = ("day", "metric", "value", "expected", "low", "high", "z", "is_anomaly", "direction", "history_weeks")


@dataclass(frozen=True)
class AnomalySettings:
    """How a day's KPI is compared with its seasonal baseline."""

    weeks: int = 8
    """Weeks of earlier days behind the expected value (same weekday) and behind the scale (every day)."""
    min_weeks: int = 4
    """A day is flagged only when its baseline holds at least this many values of its weekday."""
    threshold: float = 4.0
    """A day is an anomaly when it lies more than this many scales from the expected value."""
    min_relative_scale: float = 0.05
    """Smallest scale as a share of the expected value: a steady series never flags a move within
    ``threshold`` x this share."""

    def __post_init__(self) -> None:
        if not 1 <= self.min_weeks <= self.weeks:
            raise ValueError(f"min_weeks: {self.min_weeks} must lie between 1 and weeks ({self.weeks})")
        if self.threshold <= 0:
            raise ValueError(f"threshold: {self.threshold} must be positive")
        if self.min_relative_scale < 0:
            raise ValueError(f"min_relative_scale: {self.min_relative_scale} cannot be negative")


def detect_anomalies(daily: pd.DataFrame, settings: AnomalySettings = AnomalySettings()) -> pd.DataFrame:
    """Every day of every series judged against its seasonal baseline.

    ``daily`` is long: ``day`` (date or timestamp), ``metric`` and ``value``, one row per series and day (a
    missing or NaN value is an absent day). Returns one row per series and day that has a baseline, ordered by
    metric and day: the value, the ``expected`` value, the band [``low``, ``high``] outside which a day is an
    anomaly, ``z``, ``is_anomaly``, ``direction`` ('high', 'low', or None for a normal day) and
    ``history_weeks``, the number of values of the weekday behind ``expected``.
    """
    present = _present_values(daily)
    start = present["day"].min() if len(present) else pd.Timestamp(0)
    positions = ((present["day"] - start) // pd.Timedelta(days=1)).to_numpy(dtype=np.int64)
    metric_codes, metrics = pd.factorize(present["metric"], sort=True)
    n_days = int(positions.max()) + 1 if len(positions) else 0
    values = np.full((n_days, len(metrics)), np.nan)
    values[positions, metric_codes] = present["value"].to_numpy(dtype=np.float64)

    expected, history = _median_and_count(_earlier_values(values, DAYS_PER_WEEK, settings.weeks))
    residuals = _earlier_values(values - expected, 1, settings.weeks * DAYS_PER_WEEK)
    residual_median, _ = _median_and_count(residuals)
    deviation, _ = _median_and_count(np.abs(residuals - residual_median[..., np.newaxis]))
    scale = np.fmax(np.fmax(ROBUST_SCALE * deviation, settings.min_relative_scale * np.abs(expected)), MIN_SCALE)
    z = (values - expected) / scale
    is_anomaly = (np.abs(z) > settings.threshold) & (history >= settings.min_weeks)

    metric_index, day_index = np.nonzero((~np.isnan(values) & ~np.isnan(expected)).T)
    picked = (day_index, metric_index)
    band = settings.threshold * scale[picked]
    return pd.DataFrame(
        {
            "day": start + pd.to_timedelta(day_index, unit="D"),
            "metric": metrics.take(metric_index),
            "value": values[picked],
            "expected": expected[picked],
            "low": expected[picked] - band,
            "high": expected[picked] + band,
            "z": z[picked],
            "is_anomaly": is_anomaly[picked],
            "direction": pd.Series(
                np.where(is_anomaly[picked], np.where(z[picked] > 0, "high", "low"), None), dtype=object
            ),
            "history_weeks": history[picked],
        },
        columns=list(JUDGED_COLUMNS),
    )


def latest_anomalies(judged: pd.DataFrame, days: int = 1) -> pd.DataFrame:
    """The anomalies among the last ``days`` days of ``detect_anomalies``' output, strongest (largest |z|) first:
    what a daily refresh warns the analyst about."""
    if days < 1:
        raise ValueError(f"days: {days} must be at least 1")
    recent = judged["day"] > judged["day"].max() - pd.Timedelta(days=days)
    flagged = judged[recent & judged["is_anomaly"]]
    return flagged.sort_values("z", key=np.abs, ascending=False, kind="stable").reset_index(drop=True)


def long_kpis(wide: pd.DataFrame, day_column: str = "day") -> pd.DataFrame:
    """The long form ``detect_anomalies`` reads, from a frame with one row per day and one column per KPI."""
    long = wide.melt(id_vars=day_column, var_name="metric", value_name="value").rename(columns={day_column: "day"})
    return long.dropna(subset=["value"]).astype({"value": np.float64}).reset_index(drop=True)


def _present_values(daily: pd.DataFrame) -> pd.DataFrame:
    """The rows with a value, each day as a calendar day (the local day of a timestamp with a time zone)."""
    missing = sorted({"day", "metric", "value"} - set(daily.columns))
    if missing:
        raise ValueError(f"daily KPIs lack columns {missing}")
    days = pd.to_datetime(daily["day"]).dt.normalize()
    if days.dt.tz is not None:
        days = days.dt.tz_localize(None)
    present = pd.DataFrame(
        {"day": days, "metric": daily["metric"], "value": pd.to_numeric(daily["value"], errors="coerce")}
    ).dropna(subset=["value"])
    repeated = present.duplicated(["metric", "day"])
    if repeated.any():
        first = present[repeated].iloc[0]
        raise ValueError(f"more than one value for {first['metric']!r} on {first['day'].date()}")
    return present


def _earlier_values(values: np.ndarray, step: int, count: int) -> np.ndarray:
    """For each day (row) and series (column), the values ``step``, 2 x ``step``, ..., ``count`` x ``step`` days
    earlier along a new last axis (NaN before the first day)."""
    earlier = np.full((*values.shape, count), np.nan)
    for lag_index in range(count):
        lag = (lag_index + 1) * step
        earlier[lag:, :, lag_index] = values[: max(len(values) - lag, 0)]
    return earlier


def _median_and_count(stack: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median and number of the present (not NaN) values along the last axis; NaN where none is present."""
    count = np.count_nonzero(~np.isnan(stack), axis=-1)
    ordered = np.sort(stack, axis=-1)
    lower = np.take_along_axis(ordered, np.maximum((count - 1) // 2, 0)[..., np.newaxis], axis=-1)[..., 0]
    upper = np.take_along_axis(ordered, np.minimum(count // 2, stack.shape[-1] - 1)[..., np.newaxis], axis=-1)[..., 0]
    return np.where(count > 0, (lower + upper) / 2, np.nan), count
