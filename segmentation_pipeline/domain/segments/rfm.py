"""RFM scoring: how recently, how often and how much each customer buys.

Every customer gets three scores from 1 (worst fifth of the customer base) to 5
(best fifth): R from the days since the last purchase (fewer is better), F from the
number of distinct orders and M from the net amount spent. The scores are
percentile based and never split customers with the same value, so a shop where
most customers ordered once still gets meaningful F scores (see
``score_quintiles``).

The named segment follows the usual grid of R against the combined F&M score,
``fm = (f + m) / 2`` rounded half up, so ``fm`` is 1..5 as well:

| R / F&M | 1              | 2                   | 3                   | 4               | 5               |
|---------|----------------|---------------------|---------------------|-----------------|-----------------|
| 5       | New Customers  | Potential Loyalists | Potential Loyalists | Champions       | Champions       |
| 4       | Promising      | Potential Loyalists | Potential Loyalists | Champions       | Champions       |
| 3       | About to Sleep | About to Sleep      | Need Attention      | Loyal           | Loyal           |
| 2       | Hibernating    | Hibernating         | At Risk             | At Risk         | Can't Lose Them |
| 1       | Lost           | Lost                | At Risk             | At Risk         | Can't Lose Them |

The same grid as the rule table ``RFM_SEGMENTS``, checked in this order; the rules
do not overlap and together cover all 125 (R, F, M) cells:

| Segment             | R   | F&M | Who they are                                              |
|---------------------|-----|-----|-----------------------------------------------------------|
| Champions           | 4-5 | 4-5 | Bought recently, buy often and spend the most             |
| Loyal               | 3   | 4-5 | Buy often and spend well, last order a while ago          |
| Potential Loyalists | 4-5 | 2-3 | Recent customers with average frequency and spend         |
| New Customers       | 5   | 1   | Bought very recently, one small order so far              |
| Promising           | 4   | 1   | Bought recently, little so far                            |
| Need Attention      | 3   | 3   | Average on every axis, starting to slip                   |
| About to Sleep      | 3   | 1-2 | Below-average recency, low frequency and spend            |
| At Risk             | 1-2 | 3-4 | Used to buy and spend well, not for a long time           |
| Can't Lose Them     | 1-2 | 5   | Were among the best customers, gone quiet for a long time |
| Hibernating         | 2   | 1-2 | Long since the last small, infrequent purchase            |
| Lost                | 1   | 1-2 | Lowest recency, frequency and spend                       |
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.segments.history import DaySnapshot, changed
from segmentation_pipeline.domain.segments.snapshot import HISTORY_COLUMNS

SCORES = range(1, 6)
REQUIRED_COLUMNS = ("customer_id", "recency_days", "frequency", "monetary_net")
RFM_COLUMNS = {
    "r_score": "Recency score 1-5 (5 = bought most recently), ties never split.",
    "f_score": "Frequency score 1-5 (5 = most orders).",
    "m_score": "Monetary score 1-5 (5 = most net money kept).",
    "rfm_cell": "The three scores as text, e.g. 545.",
    "rfm_score": "R + F + M, 3-15.",
    "rfm_segment": "Named segment from the R x FM grid (Champions ... Lost).",
}
"""The columns of a day's RFM table beside ``as_of_day`` and ``customer_id``."""

RFM_HISTORY_COLUMNS = {
    "as_of_day": "First day the row holds: a day on which the customer's R, F or M score changed, or the "
    "customer was first scored (the row holds until the customer's next row).",
    "customer_id": HISTORY_COLUMNS["customer_id"],
    **RFM_COLUMNS,
}
"""Columns of the RFM history (`segments.rfm_history`): the changes ``rfm_changes`` yields."""


@dataclass(frozen=True)
class SegmentRule:
    """One row of the RFM segment table: the R and F&M score ranges (inclusive) a segment covers."""

    name: str
    recency: tuple[int, int]
    frequency_monetary: tuple[int, int]
    description: str

    def matches(self, r: int, fm: int) -> bool:
        """Whether a customer with recency score ``r`` and F&M score ``fm`` belongs to this segment."""
        return (
            self.recency[0] <= r <= self.recency[1] and self.frequency_monetary[0] <= fm <= self.frequency_monetary[1]
        )


RFM_SEGMENTS: tuple[SegmentRule, ...] = (
    SegmentRule("Champions", (4, 5), (4, 5), "Bought recently, buy often and spend the most"),
    SegmentRule("Loyal", (3, 3), (4, 5), "Buy often and spend well, last order a while ago"),
    SegmentRule("Potential Loyalists", (4, 5), (2, 3), "Recent customers with average frequency and spend"),
    SegmentRule("New Customers", (5, 5), (1, 1), "Bought very recently, one small order so far"),
    SegmentRule("Promising", (4, 4), (1, 1), "Bought recently, little so far"),
    SegmentRule("Need Attention", (3, 3), (3, 3), "Average on every axis, starting to slip"),
    SegmentRule("About to Sleep", (3, 3), (1, 2), "Below-average recency, low frequency and spend"),
    SegmentRule("At Risk", (1, 2), (3, 4), "Used to buy and spend well, not for a long time"),
    SegmentRule("Can't Lose Them", (1, 2), (5, 5), "Were among the best customers, gone quiet for a long time"),
    SegmentRule("Hibernating", (2, 2), (1, 2), "Long since the last small, infrequent purchase"),
    SegmentRule("Lost", (1, 1), (1, 2), "Lowest recency, frequency and spend"),
)


def score_quintiles(values: pd.Series, higher_is_better: bool) -> pd.Series:
    """Score each customer 1..5 by where their value sits in the customer base.

    Customers are ranked by value and every customer with the same value gets the
    same score: ties are never split. The score comes from the mid-point percentile
    of the tie group::

        score = 1 + floor(5 * (rank_below + share_of_tie / 2)), capped to 1..5

    where ``rank_below`` is the share of customers with a strictly worse value and
    ``share_of_tie`` the share with exactly this value. With 60% of customers at
    frequency 1, they all sit at mid-point 0.30 and score 2, while the remaining 40%
    start above the 60th percentile and score 4 or 5 by their own rank, instead of
    every bin collapsing into one. A population with a single distinct value sits at
    mid-point 0.5 and scores 3 throughout.

    ``higher_is_better`` says which direction is worse: for recency, fewer days since
    the last purchase is better, so it is scored with ``higher_is_better=False``.
    Missing values cannot be placed and are rejected.
    """
    if values.isna().any():
        raise ValueError(f"cannot score missing values in {values.name!r}")
    return pd.Series(quintile_scores(values.to_numpy(), higher_is_better), index=values.index, name=values.name)


def quintile_scores(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """``score_quintiles`` on a NumPy array of values without gaps (int64 scores 1..5)."""
    if len(values) == 0:
        return np.empty(0, dtype=np.int64)
    _, codes, counts = np.unique(values, return_inverse=True, return_counts=True)
    below = np.cumsum(counts) - counts
    worse = below[codes] if higher_is_better else len(values) - below[codes] - counts[codes]
    scores = 1 + (5 * (2 * worse + counts[codes])) // (2 * len(values))
    return np.clip(scores, 1, 5).astype(np.int64)


def _fm_score(f: int, m: int) -> int:
    """Combined frequency & monetary score: the mean of F and M, rounded half up."""
    return (f + m + 1) // 2


def rfm_segment(r: int, f: int, m: int) -> str:
    """Named segment for one customer's R, F and M scores (each 1..5), from ``RFM_SEGMENTS``."""
    for name, score in (("r", r), ("f", f), ("m", m)):
        if score not in SCORES:
            raise ValueError(f"{name} score must be 1..5, got {score!r}")
    fm = _fm_score(f, m)
    return next(rule.name for rule in RFM_SEGMENTS if rule.matches(r, fm))


_SEGMENT_BY_CELL = {(r, f, m): rfm_segment(r, f, m) for r in SCORES for f in SCORES for m in SCORES}
SEGMENT_BY_CODE = np.full(556, "", dtype=object)
"""Named segment by the three scores written as one number, e.g. 545."""
for (_r, _f, _m), _name in _SEGMENT_BY_CELL.items():
    SEGMENT_BY_CODE[100 * _r + 10 * _f + _m] = _name


def rfm_scores(customers: pd.DataFrame) -> pd.DataFrame:
    """Add RFM scores and the named segment to one row per customer.

    Expects ``customer_id``, ``recency_days`` (days since the last purchase),
    ``frequency`` (distinct orders) and ``monetary_net`` (net amount spent). Adds
    ``r_score``, ``f_score``, ``m_score`` (1..5 each, see ``score_quintiles``),
    ``rfm_cell`` (the three scores as text, e.g. ``"545"``), ``rfm_score`` (their
    sum, 3..15) and ``rfm_segment`` (see the grid in the module docstring).
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in customers.columns]
    if missing:
        raise ValueError(f"customers table lacks columns {missing}")
    if customers["customer_id"].duplicated().any():
        raise ValueError("customers table must hold one row per customer_id")
    scored = customers.copy()
    scored["r_score"] = score_quintiles(customers["recency_days"], higher_is_better=False)
    scored["f_score"] = score_quintiles(customers["frequency"], higher_is_better=True)
    scored["m_score"] = score_quintiles(customers["monetary_net"], higher_is_better=True)
    cells = list(zip(scored["r_score"], scored["f_score"], scored["m_score"], strict=True))
    scored["rfm_cell"] = pd.Series([f"{r}{f}{m}" for r, f, m in cells], index=scored.index, dtype="str")
    scored["rfm_score"] = scored["r_score"] + scored["f_score"] + scored["m_score"]
    scored["rfm_segment"] = pd.Series([_SEGMENT_BY_CELL[cell] for cell in cells], index=scored.index, dtype="str")
    return scored


def rfm_changes(days: Iterable[DaySnapshot], customers: int) -> Iterator[pd.DataFrame]:
    """The RFM rows of each day that differ from the day before, for a history stored as changes.

    ``days`` yields every day's snapshot (``recency_days``, ``frequency``, ``monetary_net``) over
    ``customers`` positions; the first day only sets the starting point and yields nothing.
    Each later day yields its customers whose R, F or M score changed, or who are new, with
    ``as_of_day`` and the ``RFM_COLUMNS``.
    """
    previous = np.full(customers, -1, dtype=np.int64)
    for index, snapshot in enumerate(days):
        frame = snapshot.frame
        r = quintile_scores(frame["recency_days"].to_numpy(), higher_is_better=False)
        f = quintile_scores(frame["frequency"].to_numpy(), higher_is_better=True)
        m = quintile_scores(frame["monetary_net"].to_numpy(), higher_is_better=True)
        code = 100 * r + 10 * f + m
        moved = changed(previous, snapshot.positions, code)
        if index == 0 or not moved.any():
            continue
        code, r, f, m = code[moved], r[moved], f[moved], m[moved]
        yield pd.DataFrame(
            {
                "as_of_day": pd.Timestamp(snapshot.day),
                "customer_id": snapshot.customer_ids(moved),
                "r_score": r,
                "f_score": f,
                "m_score": m,
                "rfm_cell": code.astype(str),
                "rfm_score": r + f + m,
                "rfm_segment": SEGMENT_BY_CODE[code],
            }
        )
