"""The marketing action for each segment name."""

from __future__ import annotations

import re

PLAYBOOK: dict[str, str] = {
    "VIP": "Protect and reward: loyalty tier, early access and VIP perks; no blanket discounts.",
    "Frequent Shoppers": "Grow the basket: bundles, cross-sell and free-shipping thresholds just above their usual order.",
    "Bargain Hunters": "Targeted discounts on clearance and price-sensitive lines; keep offers margin-positive.",
    "Serial Returners": (
        "Reduce returns: size advice, fit guidance and richer product detail; review free-return eligibility."
    ),
    "New": "Onboard: welcome series, second-purchase incentive and guidance across the range.",
    "At Risk": "Win-back now: personal reminder with a time-limited offer on their favourite categories.",
    "Dormant": "Low-cost win-back: one reactivation campaign, then suppress from regular mailings if no response.",
    "Regulars": "Keep engaged: newsletter, recommendations and seasonal campaigns at standard cadence.",
}
"""Marketing action per segment name (the plain name; suffixed names share their base's action)."""


def recommended_action(name: str) -> str:
    """The playbook action for a segment name, including suffixed names like "Dormant (higher value) 2"."""
    base = re.sub(r"( \(.*\))?( \d+)?$", "", name)
    if base not in PLAYBOOK:
        raise KeyError(f"no playbook action for segment name {name!r}")
    return PLAYBOOK[base]
