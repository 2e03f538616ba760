"""The marketing action for each segment name."""

from __future__ import annotations

import re

from segmentation_pipeline.domain.segments.naming import DESCRIPTORS

PLAYBOOK: dict[str, str] = {
    "VIP": "Protect and reward: loyalty tier, early access and VIP perks; no blanket discounts.",
    "Frequent Shoppers": "Grow the basket: bundles, cross-sell and free-shipping thresholds just above their usual order.",
    "Bargain Hunters": "Targeted discounts on clearance and price-sensitive lines; keep offers margin-positive.",
    "Serial Returners": (
        "Reduce returns: size advice, fit guidance and richer product detail; review free-return eligibility."
    ),
    "New": "Onboard: welcome series, second-purchase incentive and guidance across the range.",
    "At Risk": "Win-back now: personal reminder with a time-limited offer on their favourite categories.",
    "One-time Buyers": "Second purchase: a follow-up on what they bought and a modest offer, once; then standard cadence.",
    "Dormant": "Low-cost win-back: one reactivation campaign, then suppress from regular mailings if no response.",
    "Regulars": "Keep engaged: newsletter, recommendations and seasonal campaigns at standard cadence.",
}
"""Marketing action per segment name (the plain name; suffixed names share their base's action)."""

DESCRIBED_ACTION = "Standard cadence: newsletter and seasonal campaigns; read the profile before targeting."
"""The action for a segment that fits no naming rule and is named by its features instead."""


def recommended_action(name: str) -> str:
    """The playbook action for a segment name, including suffixed names like "Dormant (higher value)"
    and names made of features only, like "Less frequent, smaller baskets"."""
    base = re.sub(r" \(.*\)$", "", name)
    if base in PLAYBOOK:
        return PLAYBOOK[base]
    words = {word for pair in DESCRIPTORS.values() for word in pair} | {"average customers"}
    if all(part.strip().lower() in words for part in base.split(",")):
        return DESCRIBED_ACTION
    raise KeyError(f"no playbook action for segment name {name!r}")
