"""Readable, unique segment names from their profiles, by fixed ordered rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.segments.features import CLUSTER_FEATURES


@dataclass(frozen=True)
class NamingRule:
    """A segment name, when a segment qualifies for it, and how strongly (higher is a better fit)."""

    name: str
    qualifies: Callable[[pd.Series], bool]
    score: Callable[[pd.Series], float]


NAMING_RULES: tuple[NamingRule, ...] = (
    NamingRule(
        "Serial Returners",
        lambda p: p["z_return_rate_units"] >= 1.0 and p["return_rate"] >= 0.20,
        lambda p: p["z_return_rate_units"],
    ),
    NamingRule(
        "VIP",
        lambda p: p["z_monetary_net"] >= 0.75 and p["z_frequency"] >= 0.5 and p["z_recency_days"] <= 0.5,
        lambda p: p["z_monetary_net"] + p["z_frequency"],
    ),
    NamingRule(
        "Frequent Shoppers",
        lambda p: p["z_frequency"] >= 0.5 and p["z_avg_order_value"] <= 0.0,
        lambda p: p["z_frequency"] - p["z_avg_order_value"],
    ),
    NamingRule(
        "Bargain Hunters",
        lambda p: p["z_avg_order_value"] <= -0.5 and p["z_frequency"] >= -0.25,
        lambda p: -p["z_avg_order_value"],
    ),
    NamingRule(
        "New",
        lambda p: p["z_tenure_days"] <= -0.75,
        lambda p: -p["z_tenure_days"],
    ),
    NamingRule(
        "At Risk",
        lambda p: p["z_recency_days"] >= 0.5 and p["z_monetary_net"] >= 0.0,
        lambda p: p["z_recency_days"] + p["z_monetary_net"],
    ),
    NamingRule(
        "Dormant",
        lambda p: p["z_recency_days"] >= 1.0,
        lambda p: p["z_recency_days"],
    ),
)
"""Segment names in priority order; thresholds are on the ``z_`` columns of ``segment_profiles``.

- Serial Returners: return rate at least 1 sd above the population and at least 20% of units.
- VIP: net revenue ≥ +0.75 sd, frequency ≥ +0.5 sd, and still active (recency ≤ +0.5 sd).
- Frequent Shoppers: frequency ≥ +0.5 sd with baskets no bigger than average.
- Bargain Hunters: baskets ≤ -0.5 sd with at least near-average frequency (≥ -0.25 sd).
- New: tenure ≤ -0.75 sd.
- At Risk: recency ≥ +0.5 sd (long since last purchase) with at least average net revenue.
- Dormant: recency ≥ +1 sd.
- Regulars: every other segment.
"""

FALLBACK_NAME = "Regulars"

_DESCRIPTORS: dict[str, tuple[str, str]] = {
    "recency_days": ("longer inactive", "more recent"),
    "frequency": ("more frequent", "less frequent"),
    "monetary_net": ("higher value", "lower value"),
    "avg_order_value": ("bigger baskets", "smaller baskets"),
    "return_rate_units": ("more returns", "fewer returns"),
    "tenure_days": ("longer-standing", "newer"),
    "category_breadth": ("broader range", "narrower range"),
    "service_contacts": ("more contacts", "fewer contacts"),
}


def _z(profile: pd.Series) -> np.ndarray:
    return np.array([float(profile[f"z_{f}"]) for f in CLUSTER_FEATURES])


def _descriptor(profile: pd.Series, holder: pd.Series) -> str | None:
    """The feature that most separates a segment from the one holding the plain name, in words.

    None when no feature differs by at least 0.1 standard deviations.
    """
    diff = np.nan_to_num(_z(profile) - _z(holder))
    j = int(np.argmax(np.abs(diff)))
    if abs(diff[j]) < 0.1:
        return None
    high, low = _DESCRIPTORS[CLUSTER_FEATURES[j]]
    return high if diff[j] > 0 else low


def name_segments(profiles: pd.DataFrame) -> dict[int, str]:
    """A unique, readable name per segment id, from its profile, by fixed rules.

    Rules (``NAMING_RULES``) are applied in priority order; each gives its plain name to
    at most one segment: the best-scoring segment that qualifies and is not yet named
    (ties go to the lower segment id). A segment left over takes the first rule it
    qualifies for, otherwise "Regulars"; "Regulars" itself goes to the leftover segment
    closest to the population average (smallest sum of squared ``z_`` values). A leftover
    whose name is already taken gets a suffix naming the feature that most separates it
    from the segment holding the plain name, e.g. "Dormant (higher value)", and if that is
    taken too (or nothing separates them by 0.1 sd), a number: "Dormant (higher value) 2",
    "Dormant 2". Leftovers are named in segment-id order.
    The result depends only on the profile values.
    """
    rows = {int(s): profiles.loc[s] for s in sorted(profiles.index)}
    names: dict[int, str] = {}
    holders: dict[str, int] = {}
    for rule in NAMING_RULES:
        candidates = [s for s, p in rows.items() if s not in names and bool(rule.qualifies(p))]
        if candidates:
            best = max(candidates, key=lambda s: (float(rule.score(rows[s])), -s))
            names[best] = rule.name
            holders[rule.name] = best

    leftovers = [s for s in rows if s not in names]
    if leftovers and FALLBACK_NAME not in holders:
        fallback_only = [s for s in leftovers if not any(bool(r.qualifies(rows[s])) for r in NAMING_RULES)]
        if fallback_only:
            plain = min(fallback_only, key=lambda s: (float(np.nansum(_z(rows[s]) ** 2)), s))
            names[plain] = FALLBACK_NAME
            holders[FALLBACK_NAME] = plain

    used = set(names.values())
    for s in leftovers:
        if s in names:
            continue
        base = next((r.name for r in NAMING_RULES if bool(r.qualifies(rows[s]))), FALLBACK_NAME)
        descriptor = _descriptor(rows[s], rows[holders[base]])
        name = base if descriptor is None else f"{base} ({descriptor})"
        candidate, number = name, 2
        while candidate in used:
            candidate, number = f"{name} {number}", number + 1
        names[s] = candidate
        used.add(candidate)
    return dict(sorted(names.items()))
