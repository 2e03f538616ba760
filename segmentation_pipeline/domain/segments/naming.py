"""Segment names that are true of the segment: each name's rule is checked against the segment's own profile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.segments.features import CLUSTER_FEATURES


@dataclass(frozen=True)
class NamingRule:
    """A segment name, the profile it requires, and how strongly a segment fits it (higher is better)."""

    name: str
    requires: str
    qualifies: Callable[[pd.Series], bool]
    score: Callable[[pd.Series], float]


NAMING_RULES: tuple[NamingRule, ...] = (
    NamingRule(
        "Serial Returners",
        "mean unit return rate at least 25% and at least 1 sd above all customers",
        lambda p: p["return_rate"] >= 0.25 and p["z_return_rate_units"] >= 1.0,
        lambda p: p["z_return_rate_units"],
    ),
    NamingRule(
        "New",
        "median tenure at most 90 days and median recency at most 60 days",
        lambda p: p["median_tenure_days"] <= 90 and p["median_recency_days"] <= 60,
        lambda p: -p["median_tenure_days"],
    ),
    NamingRule(
        "VIP",
        "net revenue at least 1 sd and frequency at least 0.5 sd above all customers, median recency at most 90 days",
        lambda p: p["z_monetary_net"] >= 1.0 and p["z_frequency"] >= 0.5 and p["median_recency_days"] <= 90,
        lambda p: p["z_monetary_net"] + p["z_frequency"],
    ),
    NamingRule(
        "Bargain Hunters",
        "at least 35% of lines bought on discount, at least 1 sd above all customers",
        lambda p: p["mean_discount_share"] >= 0.35 and p["z_discount_share"] >= 1.0,
        lambda p: p["z_discount_share"],
    ),
    NamingRule(
        "Frequent Shoppers",
        "frequency at least 0.5 sd above all customers with smaller than average baskets, "
        "median recency at most 90 days",
        lambda p: p["z_frequency"] >= 0.5 and p["z_avg_order_value"] <= -0.25 and p["median_recency_days"] <= 90,
        lambda p: p["z_frequency"] - p["z_avg_order_value"],
    ),
    NamingRule(
        "At Risk",
        "median 2 orders or more and at least average net revenue, but median recency 120 days or more",
        lambda p: p["median_frequency"] >= 2 and p["z_monetary_net"] >= 0.0 and p["median_recency_days"] >= 120,
        lambda p: p["z_monetary_net"] + p["median_recency_days"] / 365,
    ),
    NamingRule(
        "One-time Buyers",
        "median one order, placed more than 60 days ago",
        lambda p: p["median_frequency"] <= 1 and p["median_recency_days"] > 60,
        lambda p: -p["median_frequency"] + p["median_recency_days"] / 365,
    ),
    NamingRule(
        "Dormant",
        "median recency 180 days or more",
        lambda p: p["median_recency_days"] >= 180,
        lambda p: p["median_recency_days"],
    ),
    NamingRule(
        "Regulars",
        "median 2 orders or more and median recency at most 120 days",
        lambda p: p["median_frequency"] >= 2 and p["median_recency_days"] <= 120,
        lambda p: -float(np.nansum(_z(p) ** 2)),
    ),
)
"""Segment names in priority order. ``z_`` columns are the segment's mean distance from all
customers in standard deviations on the model's feature scale; the other columns are the
segment's own medians and means (see ``segment_profiles``). docs/segments.md lists each rule's
``requires``; a test keeps the two alike."""

DESCRIPTORS: dict[str, tuple[str, str]] = {
    "recency_days": ("longer inactive", "more recent"),
    "frequency": ("more frequent", "less frequent"),
    "monetary_net": ("higher value", "lower value"),
    "return_rate_units": ("more returns", "fewer returns"),
    "avg_order_value": ("bigger baskets", "smaller baskets"),
    "units_per_order": ("more units per order", "fewer units per order"),
    "discount_share": ("more discounts", "fewer discounts"),
}
"""How a feature that sets a segment apart reads, above and below the comparison."""

DESCRIPTIVE_MIN_Z = 0.1
"""A feature describes a segment only when it differs by at least this many standard deviations."""


def _z(profile: pd.Series) -> np.ndarray:
    return np.array([float(profile[f"z_{f}"]) for f in CLUSTER_FEATURES])


def _descriptors(difference: np.ndarray) -> list[str]:
    """Features in words, strongest difference first, leaving out those under ``DESCRIPTIVE_MIN_Z``."""
    difference = np.nan_to_num(difference)
    order = sorted(range(len(difference)), key=lambda j: (-abs(difference[j]), j))
    return [
        DESCRIPTORS[CLUSTER_FEATURES[j]][0 if difference[j] > 0 else 1]
        for j in order
        if abs(difference[j]) >= DESCRIPTIVE_MIN_Z
    ]


def _candidates(base: str | None, words: list[str], share: float) -> list[str]:
    """Names for a segment, shortest first: the base with one, two, ... descriptors, or the two or more
    strongest descriptors alone when no rule fits; the last resort adds the segment's share of customers."""
    if base is None:
        names = [", ".join(words[:n]).capitalize() for n in range(min(2, len(words)), len(words) + 1)]
        names = [n for n in names if n] or ["Average customers"]
    else:
        names = [base] + [f"{base} ({', '.join(words[:n])})" for n in range(1, len(words) + 1)]
    return names + [f"{names[-1]} ({share:.0%} of customers)"]


def name_segments(profiles: pd.DataFrame) -> dict[int, str]:
    """A unique, true name per segment id, from its profile.

    A segment's name comes from the first rule of ``NAMING_RULES`` (in priority order) it
    qualifies for. Of the segments sharing a rule, the best-scoring one gets the plain name (ties
    go to the lower segment id); each other one adds the features that most separate it from
    that one: "Dormant (higher value)", then "Dormant (higher value, bigger baskets)" if that is
    taken too. A segment that fits no rule is named by the features that most separate it from
    all customers: "Less frequent, smaller baskets". Names are never numbered; the result
    depends only on the profile values.
    """
    rows = {int(s): profiles.loc[s] for s in sorted(profiles.index)}
    rule_of = {s: next((r for r in NAMING_RULES if bool(r.qualifies(p))), None) for s, p in rows.items()}
    names: dict[int, str] = {}
    for rule in NAMING_RULES:
        members = [s for s, r in rule_of.items() if r is rule]
        if members:
            holder = max(members, key=lambda s: (float(rule.score(rows[s])), -s))
            names[holder] = rule.name
            for s in members:
                if s != holder:
                    names[s] = _distinct(rows[s], rule.name, _z(rows[s]) - _z(rows[holder]), set(names.values()))
    for s in (s for s, r in rule_of.items() if r is None):
        names[s] = _distinct(rows[s], None, _z(rows[s]), set(names.values()))
    return dict(sorted(names.items()))


def _distinct(profile: pd.Series, base: str | None, difference: np.ndarray, used: set[str]) -> str:
    """The shortest name for the segment that no other segment has yet."""
    share = float(profile.get("share_customers", np.nan))
    return next(n for n in _candidates(base, _descriptors(difference), share) if n not in used)
