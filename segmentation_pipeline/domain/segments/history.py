"""Customer history stored as changes: every day's snapshot rebuilt from the days a customer changed.

The warehouse keeps one row per customer and day on which the customer's state changed
(``features.customer_history``); a day's snapshot is each customer's latest row on or
before it, with recency and tenure counted to the end of that day. ``daily_snapshots``
replays those rows day by day for the histories derived from the snapshot (RFM scores,
segments), and ``changed`` keeps only what differs from the day before, so they too grow
with change, not with customers x days.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

DAY_SECONDS = 86_400
DERIVED_COLUMNS = {"recency_days": "last_purchase_ts", "tenure_days": "first_seen_ts"}
"""Snapshot columns counted to the end of the day from a stored timestamp."""


@dataclass(frozen=True)
class DaySnapshot:
    """The snapshot of one day: every customer who has bought by then."""

    day: date
    positions: np.ndarray
    """Each row's customer as a position in ``universe`` (ascending)."""
    frame: pd.DataFrame
    """The requested columns, one row per position."""
    universe: np.ndarray
    """Every customer id of the replay, sorted."""

    def customer_ids(self, rows: np.ndarray) -> np.ndarray:
        """The customer ids of the frame's rows selected by a boolean mask."""
        return self.universe[self.positions[rows]]


def _seconds(timestamps: pd.Series) -> np.ndarray:
    """Whole seconds since the epoch, as DuckDB's ``date_diff('second', ...)`` counts them."""
    micros = pd.to_datetime(timestamps).to_numpy(dtype="datetime64[us]").astype(np.int64)
    return micros // 1_000_000


class DailySnapshots:
    """Replays history rows day by day.

    ``opening`` holds each customer's latest history row before ``first_day``; ``changes`` the
    rows of the days from ``first_day`` to ``last_day``. Iterating yields a ``DaySnapshot`` per
    day with ``columns`` (stored columns, or ``recency_days`` and ``tenure_days``).
    """

    def __init__(
        self,
        opening: pd.DataFrame,
        changes: pd.DataFrame,
        first_day: date,
        last_day: date,
        columns: Sequence[str],
    ):
        rows = pd.concat([opening, changes], ignore_index=True)
        self.customer_ids = np.array(sorted(set(rows["customer_id"])), dtype=object)
        self.first_day, self.last_day, self.columns = first_day, last_day, tuple(columns)
        stored = [DERIVED_COLUMNS.get(c, c) for c in self.columns]
        self._stored = list(dict.fromkeys(stored))
        self._state = {c: np.zeros(len(self.customer_ids)) for c in self._stored}
        self._present = np.zeros(len(self.customer_ids), dtype=bool)
        self._opening = self._encoded(opening)
        self._by_day = {
            pd.Timestamp(day).date(): self._encoded(group)
            for day, group in changes.sort_values("as_of_day").groupby("as_of_day", sort=True)
        }

    def _encoded(self, rows: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        positions = np.searchsorted(self.customer_ids, rows["customer_id"].to_numpy(dtype=object))
        values = {
            c: _seconds(rows[c]) if c in DERIVED_COLUMNS.values() else rows[c].to_numpy(dtype=np.float64)
            for c in self._stored
        }
        return positions, values

    def _apply(self, encoded: tuple[np.ndarray, dict[str, np.ndarray]]) -> None:
        positions, values = encoded
        for column, array in values.items():
            self._state[column][positions] = array
        self._present[positions] = True

    def __iter__(self) -> Iterator[DaySnapshot]:
        self._apply(self._opening)
        day = self.first_day
        while day <= self.last_day:
            if day in self._by_day:
                self._apply(self._by_day[day])
            positions = np.flatnonzero(self._present)
            day_end = int(pd.Timestamp(day + timedelta(days=1)).timestamp())
            frame = {}
            for column in self.columns:
                if column in DERIVED_COLUMNS:
                    frame[column] = (day_end - self._state[DERIVED_COLUMNS[column]][positions]) / DAY_SECONDS
                else:
                    frame[column] = self._state[column][positions]
            yield DaySnapshot(day, positions, pd.DataFrame(frame, copy=False), self.customer_ids)
            day += timedelta(days=1)


def changed(previous: np.ndarray, positions: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Which of today's customers (``positions``) have a ``current`` value other than yesterday's
    (``previous``, by position; a customer new today always counts as changed). Updates ``previous``."""
    before = previous[positions]
    moved = np.asarray(before != current, dtype=bool)
    previous[positions] = current
    return moved
