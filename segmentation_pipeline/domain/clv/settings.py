"""The choices behind lifetime value and churn risk; each is a launchpad setting of its asset."""

from __future__ import annotations

from dataclasses import dataclass

TIME_UNIT_DAYS = {"days": 1, "weeks": 7}
"""Days in each time unit the purchase models can count in."""


@dataclass(frozen=True)
class ClvSettings:
    """How lifetime value is fitted, validated and valued."""

    time_unit: str = "weeks"
    """Unit of recency, age and the rate parameters (written next to every parameter)."""
    holdout_weeks: int = 26
    """Length of the holdout that judges the purchase models (at most half the history)."""
    prediction_days: tuple[int, ...] = (90, 365)
    """Horizons of the expected purchases shown per customer."""
    horizon_months: int = 12
    """Months of future purchases a customer's lifetime value counts."""
    margin: float = 0.30
    """Share of spend that is profit."""
    annual_discount_rate: float = 0.10
    """Yearly rate at which future profit is discounted."""
    return_cost_share: float = 0.15
    """Cost of handling a returned unit (shipping, inspection, write-offs) as a share of its price."""
    max_holdout_error: float = 0.15
    """Relative error of the total holdout purchases above which the validation check warns."""
    max_spend_frequency_correlation: float = 0.30
    """Absolute correlation of repeat purchases and mean spend above which Gamma-Gamma's independence
    assumption is reported as not holding."""

    def __post_init__(self) -> None:
        if self.time_unit not in TIME_UNIT_DAYS:
            raise ValueError(f"time_unit: {self.time_unit!r} is not one of {sorted(TIME_UNIT_DAYS)}")
        if not 0 < self.margin <= 1:
            raise ValueError(f"margin: {self.margin} is not a share in (0, 1]")
        if self.return_cost_share < 0 or self.annual_discount_rate < 0:
            raise ValueError("return_cost_share and annual_discount_rate cannot be negative")

    @property
    def unit_days(self) -> int:
        return TIME_UNIT_DAYS[self.time_unit]


@dataclass(frozen=True)
class ChurnSettings:
    """What churn means and how it is banded."""

    horizon_days: int = 90
    """A customer has churned when they buy nothing in this many days."""
    band_cutoffs: tuple[float, float] = (0.3, 0.6)
    """Churn probability at which Medium and High risk begin."""
    seed: int = 7
