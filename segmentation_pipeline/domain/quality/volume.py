"""Volume warnings: a day's metric against the robust band of the same weekday in the trailing weeks."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Anomaly:
    """A daily metric compared with its own recent history."""

    metric: str
    value: float
    baseline_median: float
    lower: float
    upper: float
    is_anomaly: bool
    history_days: int


def trailing_anomaly(
    metric: str,
    history: Sequence[float],
    value: float,
    window: int = 28,
    min_history: int = 7,
    k: float = 4.0,
    max_ratio: float = 1.75,
) -> Anomaly:
    """Flag ``value`` when it leaves the robust band of the trailing history.

    Rule: take the last ``window`` finite values of ``history`` (oldest first);
    baseline = their median m; spread s = 1.4826 x MAD. The band is
    [min(m - k s, m / max_ratio), max(m + k s, m x max_ratio)]: it follows the
    history's own noise, and never flags a move smaller than a factor
    ``max_ratio`` (default 1.75), so seasonal peaks pass while a half-loaded or
    doubly loaded day is flagged. With fewer than ``min_history`` values the
    band is unbounded and nothing is flagged.
    """
    recent = [float(x) for x in history if math.isfinite(float(x))][-window:]
    n = len(recent)
    median = statistics.median(recent) if recent else math.nan
    if n < min_history:
        return Anomaly(metric, float(value), median, -math.inf, math.inf, False, n)
    spread = 1.4826 * statistics.median(abs(x - median) for x in recent)
    lower = min(median - k * spread, median / max_ratio)
    upper = max(median + k * spread, median * max_ratio)
    return Anomaly(metric, float(value), median, lower, upper, not lower <= value <= upper, n)


def daily_anomalies(
    metric: str, series: Sequence[tuple[date, float]], first_day: date, window: int = 28
) -> list[tuple[date, Anomaly]]:
    """Judge each day from ``first_day`` on against the same weekday in the ``window`` days before it.

    Comparing like weekdays keeps weekly rhythms (a shop closed on Saturdays,
    busy Mondays) from raising alarms. Days whose value is missing (NaN) are
    neither judged nor used as history.
    """
    by_day = {day: float(value) for day, value in series}
    judged = []
    for day, value in sorted(by_day.items()):
        if day < first_day or not math.isfinite(value):
            continue
        history = [by_day.get(day - timedelta(days=d), math.nan) for d in range(window - window % 7, 0, -7)]
        judged.append((day, trailing_anomaly(metric, history, value, window=window, min_history=3)))
    return judged
