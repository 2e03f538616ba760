"""Labelled lines in three consecutive periods of order time: train, validation, test."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd


class TimeSplit(NamedTuple):
    """Labelled lines in three consecutive periods of order time."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame


def time_split(lines: pd.DataFrame, fractions: Sequence[float] = (0.6, 0.2, 0.2)) -> TimeSplit:
    """Train, validation and test lines: consecutive periods of order time, oldest first.

    Only lines ordered before the first line whose label is still unknown take part: after
    that point the known labels are mostly early returns, whose rate is biased upwards.
    With the lines in time order, train ends at the order time of the line that brings it
    to ``fractions[0]`` of the lines, validation at the one that brings both to
    ``fractions[0] + fractions[1]``, and each part takes every line of its order times. So
    all lines of an order land in the same part and each part ends before the next begins;
    with many lines at one instant the parts are only roughly the fractions. Each part is
    sorted by order time, order and line.
    """
    if len(fractions) != 3 or min(fractions) <= 0:
        raise ValueError(f"fractions must be three positive shares, got {fractions}")
    labelled = lines.assign(order_ts=pd.to_datetime(lines["order_ts"]))
    unknown = ~labelled["label_known"].astype(bool)
    if unknown.any():
        labelled = labelled[labelled["order_ts"] < labelled.loc[unknown, "order_ts"].min()]
    labelled = labelled.sort_values(["order_ts", "order_id", "line_no"], kind="stable").reset_index(drop=True)
    order_time = labelled.groupby("order_id", sort=False)["order_ts"].transform("min").to_numpy()
    times = np.sort(order_time)
    shares = np.cumsum(fractions) / float(sum(fractions))
    cuts = [times[max(math.ceil(share * len(times)) - 1, 0)] for share in shares[:2]] if len(times) else []
    if len(times) == 0 or not times[0] <= cuts[0] < cuts[1] < times[-1]:
        raise ValueError(f"{len(times)} labelled lines do not span three periods of order time")
    part = np.searchsorted(np.asarray(cuts), order_time, side="left")
    return TimeSplit(*(labelled[part == i].reset_index(drop=True) for i in range(3)))


def period(lines: pd.DataFrame) -> dict[str, Any]:
    """The time window and size of one part: first and last order time, lines, orders, return rate."""
    return {
        "first_order_ts": pd.Timestamp(lines["order_ts"].min()).isoformat(),
        "last_order_ts": pd.Timestamp(lines["order_ts"].max()).isoformat(),
        "lines": len(lines),
        "orders": int(lines["order_id"].nunique()),
        "return_rate": float(lines["returned"].astype(bool).mean()),
    }
