"""Volume warnings: a day's metric against the robust band of the same weekday in the trailing weeks."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# A day is judged once the trailing window holds this many values of its weekday (four weeks)...
MIN_WEEKS = 4
# ...and those days counted at least this many events (orders, returned lines) at the median.
MIN_DAILY_EVENTS = 50


@dataclass(frozen=True)
class Anomaly:
    """A daily metric compared with its own recent history.

    ``judged`` is False when the history is too short or too thin to judge
    (the band is then [0, inf) and nothing is flagged); ``level`` is the
    median count of events behind the history's values.
    """

    metric: str
    value: float
    baseline_median: float
    lower: float
    upper: float
    is_anomaly: bool
    history_days: int
    judged: bool
    level: float


def trailing_anomaly(
    metric: str,
    history: Sequence[float],
    value: float,
    events: Sequence[float] | None = None,
    window: int = 28,
    min_history: int = 7,
    min_level: float = MIN_DAILY_EVENTS,
    k: float = 4.0,
    max_ratio: float = 1.75,
) -> Anomaly:
    """Flag ``value`` when it leaves the robust band of the trailing history.

    Rule: take the last ``window`` finite values of ``history`` (oldest first);
    baseline = their median m; spread s = 1.4826 x MAD. The band is
    [m / f, m x f] with f = max(1 + k s / m, ``max_ratio``): it follows the
    history's own noise, is as wide in ratio below the median as above (so it
    is never negative and a day with nothing loaded is always outside it), and
    never flags a move smaller than a factor ``max_ratio`` (default 1.75), so
    seasonal peaks pass while a half-loaded or doubly loaded day is flagged.

    A day is not judged (nothing flagged) when fewer than ``min_history``
    values remain, when the median count of events behind them (``events``,
    aligned with ``history``; by default the values themselves, for a count)
    is below ``min_level``, or when the median is zero: below about 50 events
    a day, counting noise and a young shop's growth alone move a day by more
    than the band allows.
    """
    counts = history if events is None else events
    kept = [(float(x), float(c)) for x, c in zip(history, counts, strict=True) if math.isfinite(float(x))][-window:]
    recent = [x for x, _ in kept]
    n = len(recent)
    median = statistics.median(recent) if recent else math.nan
    level = statistics.median(c for _, c in kept) if kept else 0.0
    if n < min_history or level < min_level or not median > 0:
        return Anomaly(metric, float(value), median, 0.0, math.inf, False, n, False, level)
    spread = 1.4826 * statistics.median(abs(x - median) for x in recent)
    factor = max(1 + k * spread / median, max_ratio)
    lower, upper = median / factor, median * factor
    return Anomaly(metric, float(value), median, lower, upper, not lower <= value <= upper, n, True, level)


def daily_anomalies(
    metric: str,
    series: Sequence[tuple[date, float, float]],
    first_day: date,
    window: int = 28,
    min_weeks: int = MIN_WEEKS,
    min_level: float = MIN_DAILY_EVENTS,
) -> list[tuple[date, Anomaly]]:
    """Judge each day from ``first_day`` on against the same weekday in the ``window`` days before it.

    ``series`` holds (day, value, events): the metric and the count of events
    it rests on (for orders, the orders; for a rate, its numerator). Comparing
    like weekdays keeps weekly rhythms (a shop closed on Saturdays, busy
    Mondays) from raising alarms. A day is judged only when the window holds
    ``min_weeks`` values of its weekday (by default all four of 28 days) whose
    median events reach ``min_level`` (50): a shop's first weeks, and series
    too thin to judge such as a young shop's returns, raise no warnings. Days
    whose value is missing (NaN) are neither judged nor used as history.
    """
    by_day = {day: (float(value), float(events)) for day, value, events in series}
    missing = (math.nan, math.nan)
    judged = []
    for day, (value, _) in sorted(by_day.items()):
        if day < first_day or not math.isfinite(value):
            continue
        history = [by_day.get(day - timedelta(days=d), missing) for d in range(window - window % 7, 0, -7)]
        anomaly = trailing_anomaly(
            metric,
            [x for x, _ in history],
            value,
            events=[c for _, c in history],
            window=window,
            min_history=min_weeks,
            min_level=min_level,
        )
        judged.append((day, anomaly))
    return judged
