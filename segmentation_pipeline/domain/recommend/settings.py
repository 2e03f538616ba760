"""The recommender's and the next-best-action rules' settings, with the defaults the pipeline uses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RecommendSettings:
    """How products are proposed, ranked and judged.

    ``l2_grid`` and ``mix_grid`` are the candidates tried on a validation window before the
    evaluation split: ``l2`` is the ridge penalty of the item-to-item weights (larger: closer to
    plain co-occurrence), ``mix`` the weight of the segment's popularity added to a customer's own
    similarity scores (0: similarity only).
    """

    top_n: int = 10
    """Products recommended per customer."""
    candidates: int = 20
    """Products proposed per customer before the return-risk filter and the value ranking."""
    lookback_days: int = 365
    """Purchases of this many days before the cut-off make up each customer's basket history."""
    exclusion_days: int = 30
    """Products the customer bought within this many days are not recommended."""
    max_return_risk: float = 0.5
    """Products whose predicted return probability for the customer passes this are not recommended."""
    horizon_days: int = 30
    """The evaluation counts the purchases of this many days after its split."""
    l2_grid: tuple[float, ...] = (20.0, 200.0, 2000.0)
    mix_grid: tuple[float, ...] = (0.0, 1.0, 4.0)
    chunk_customers: int = 5_000
    """Customers scored at once (bounds memory: chunk x products scores)."""


@dataclass(frozen=True)
class ActionSettings:
    """Thresholds of the next-best-action rules (``actions.ACTION_RULES``)."""

    high_return_rate: float = 0.3
    """An expected return rate from here on calls for size and fit advice."""
    top_value_share: float = 0.2
    """Customers in this top share of lifetime value count as the most valuable."""
