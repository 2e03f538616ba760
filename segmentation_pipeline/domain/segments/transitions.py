"""Segment migration: where the customers of each segment went between two snapshots.

Segment assignments are kept as a long table, one row per customer and snapshot date
(``customer_id``, ``as_of``, ``segment``). Comparing two snapshots gives a transition
matrix: how many customers of each segment at the earlier date sit in each segment
at the later date, including those who dropped out of the customer base
(``"(gone)"``) and those who joined it (``"(new)"``). By default snapshots are
compared month over month, using the last snapshot of each calendar month. The
row-normalised rates drive a simple Markov projection of segment sizes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

GONE = "(gone)"
NEW = "(new)"
RATE_TOLERANCE = 1e-6
TRANSITION_RATES_COLUMNS = {
    "from_segment": f"Segment on the earlier day; `{NEW}` for customers who only appear on the later day.",
    GONE: "Share of the row's customers with no segment on the later day.",
}
"""The transition rates' columns beside one per segment (see ``transition_rates_columns``)."""


def transition_rates_columns(columns: Iterable[str]) -> dict[str, str]:
    """The meaning of each column of the transition rates table (``rates`` of ``transition_matrix`` with its
    index as ``from_segment``): a column named after a segment is the share of the row's customers in it."""
    return {
        c: TRANSITION_RATES_COLUMNS.get(c, f"Share of the row's customers in {c} on the later day.") for c in columns
    }


def _snapshot(assignments: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Segment per customer on one snapshot date."""
    rows = assignments.loc[pd.to_datetime(assignments["as_of"]) == as_of]
    if rows["customer_id"].duplicated().any():
        raise ValueError(f"more than one segment for a customer on {as_of.date()}")
    return rows.set_index("customer_id")["segment"]


def transition_matrix(assignments: pd.DataFrame, from_date: date, to_date: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customer counts and rates from each segment at ``from_date`` to each segment at ``to_date``.

    Rows are the segments at ``from_date`` plus ``"(new)"`` for customers who only
    appear at ``to_date``; columns are the segments at ``to_date`` plus ``"(gone)"``
    for customers who no longer appear. Both axes list every segment seen on either
    date, sorted by name, with the special state last, so the segment part of the
    matrix is square. Rates divide each row by its total, i.e. they answer "of the
    customers in this segment, which share ended up where"; a row without customers
    has no rates (NaN).
    """
    before = _snapshot(assignments, pd.Timestamp(from_date))
    after = _snapshot(assignments, pd.Timestamp(to_date))
    segments = sorted(set(before) | set(after))
    pairs = pd.concat([before.rename("from"), after.rename("to")], axis=1, join="outer").fillna(
        {"from": NEW, "to": GONE}
    )
    counts = (
        pd.crosstab(pairs["from"], pairs["to"])
        .reindex(index=[*segments, NEW], columns=[*segments, GONE], fill_value=0)
        .rename_axis(index="from_segment", columns="to_segment")
        .astype("int64")
    )
    totals = counts.sum(axis=1)
    rates = counts.div(totals.where(totals > 0), axis=0)
    return counts, rates


def monthly_snapshot_dates(dates: Iterable[date]) -> list[date]:
    """The last available snapshot date of each calendar month, oldest first."""
    stamps = pd.Series(pd.to_datetime(list(dates))).dropna()
    month_ends = stamps.groupby([stamps.dt.year, stamps.dt.month]).max()
    return [stamp.date() for stamp in month_ends.sort_values()]


def markov_forecast(rates: pd.DataFrame, current_sizes: pd.Series, periods: int = 3) -> pd.DataFrame:
    """Expected segment sizes ``periods`` steps ahead if customers keep moving at ``rates``.

    ``rates`` is the rate matrix from ``transition_matrix``: each from-segment row
    says which share of its customers moves to each segment or to ``"(gone)"`` per
    step. ``"(gone)"`` is absorbing: it accumulates the customers expected to leave.
    The ``"(new)"`` row is ignored, so the projection covers the current customer
    base only and does not add newly acquired customers. Customers in a segment with
    no observed transitions (no rates row, or a row of NaN) are assumed to stay in
    it. ``current_sizes`` holds the number of customers per segment now.

    Returns one row per period, 0 being the current sizes, with a column per
    segment plus ``"(gone)"``.
    """
    if periods < 0:
        raise ValueError(f"periods must be >= 0, got {periods}")
    special = {NEW, GONE} & set(current_sizes.index)
    if special:
        raise ValueError(f"current_sizes must hold segments only, not {sorted(special)}")
    flows = rates.drop(index=NEW, errors="ignore")
    segments = sorted(set(flows.index) | (set(flows.columns) - {GONE}) | set(current_sizes.index))
    states = [*segments, GONE]
    observed = flows.dropna(how="all").reindex(columns=states, fill_value=0.0).fillna(0.0)
    off = (observed.sum(axis=1) - 1).abs() > RATE_TOLERANCE
    if off.any() or (observed < 0).any().any():
        raise ValueError(f"rates must be non-negative and sum to 1 per row; check {list(observed.index[off])}")
    step = pd.DataFrame(np.eye(len(states)), index=states, columns=states)
    step.loc[observed.index] = observed
    sizes = current_sizes.reindex(states, fill_value=0).astype("float64").to_numpy()
    projection = [sizes]
    for _ in range(periods):
        projection.append(projection[-1] @ step.to_numpy())
    return pd.DataFrame(projection, columns=states).rename_axis(index="period", columns="segment")


def snapshot_pair(
    dates: Iterable[date], from_day: date | None = None, to_day: date | None = None
) -> tuple[date, date] | None:
    """The two snapshot dates to compare: the chosen ones, by default the previous month end and the latest.

    ``to_day`` defaults to the latest month end (``monthly_snapshot_dates``), ``from_day`` to
    the last month end before ``to_day``. A chosen day without snapshots, or a ``from_day``
    not before ``to_day``, or a default that cannot be found next to a chosen day, is a
    ValueError naming the field; None when neither is chosen and there are fewer than two
    month ends to compare.
    """
    available = sorted(set(dates))
    for field, day in (("from_day", from_day), ("to_day", to_day)):
        if day is not None and day not in available:
            span = f"{available[0]} to {available[-1]}" if available else "none yet"
            raise ValueError(f"{field}: no segments on {day} (days with segments: {span})")
    month_ends = monthly_snapshot_dates(available)
    chosen = from_day is not None or to_day is not None
    if to_day is None:
        later = [d for d in month_ends if from_day is None or d > from_day]
        to_day = later[-1] if later else None
        if to_day is None and chosen:
            raise ValueError(f"to_day: no month end with segments after from_day {from_day}; choose one")
    if from_day is None and to_day is not None:
        earlier = [d for d in month_ends if d < to_day]
        from_day = earlier[-1] if earlier else None
        if from_day is None and chosen:
            raise ValueError(f"from_day: no month end with segments before to_day {to_day}; choose one")
    if from_day is None or to_day is None:
        return None
    if from_day >= to_day:
        raise ValueError(f"from_day: {from_day} must come before to_day {to_day}")
    return from_day, to_day


@dataclass(frozen=True)
class Migration:
    """Moves between two snapshot dates and the sizes they lead to (see ``transition_matrix``, ``markov_forecast``)."""

    counts: pd.DataFrame
    rates: pd.DataFrame
    forecast: pd.DataFrame


def segment_migration(assignments: pd.DataFrame, from_date: date, to_date: date, periods: int = 3) -> Migration:
    """Transition counts and rates from ``from_date`` to ``to_date``, and sizes ``periods`` such steps ahead.

    The forecast starts from the segment sizes at ``to_date`` and moves customers at the
    observed rates (newly acquired customers not modelled).
    """
    counts, rates = transition_matrix(assignments, from_date, to_date)
    current = assignments.loc[pd.to_datetime(assignments["as_of"]) == pd.Timestamp(to_date), "segment"].value_counts()
    segments = [c for c in rates.columns if c in rates.index]
    forecast = markov_forecast(rates.loc[segments, [*segments, GONE]], current, periods=periods)
    return Migration(counts, rates, forecast)
