"""The choices behind campaign analysis; each is a launchpad setting of its asset."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CampaignSettings:
    """How A/B results are computed and read."""

    confidence: float = 0.95
    """Confidence of every interval."""
    alpha: float = 0.05
    """A lift counts when its corrected p-value is below this."""
    power: float = 0.80
    """Power at which the minimum detectable effect is computed."""
    min_arm_customers: int = 100
    """A cut with fewer customers in the variant or in control is shown as too small to test."""
    return_rate_margin: float = 0.05
    """A variant whose orders' unit return rate exceeds control's by more than this, and credibly so (the lower
    end of the interval of the increase above zero), is flagged, not recommended."""
    top_share: float = 0.10
    """Share of customers, by predicted uplift, in a campaign's audience for the next send."""
    seed: int = 7
