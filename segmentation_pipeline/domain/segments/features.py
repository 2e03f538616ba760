"""The customer features a segment is built from, and how they are scaled into model space.

Scikit-learn is not needed here; importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

CLUSTER_FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary_net",
    "return_rate_units",
    "avg_order_value",
    "units_per_order",
    "discount_share",
)
"""Snapshot columns that define a segment.

Recency, frequency and net monetary value are the classic RFM triple and the unit return rate
finds customers who cost more than they bring; the other three describe the basket: its value,
its size in units and how much of it is bought on discount. Recency, frequency and money cannot
tell a bargain hunter from a regular buyer of the same value; the basket can (see
docs/segments.md for the measured effect of each feature). Tenure, category breadth, service
contacts and campaign responses are left out: on the default shop each of them lowered the
agreement with the true customer types, they follow from how long and how much a customer
bought rather than how, and they are reported in the profiles instead.
"""

RFM_RETURN_FEATURES: tuple[str, ...] = ("recency_days", "frequency", "monetary_net", "return_rate_units")
"""The plain baseline segmentation's features: recency, frequency, net money and the unit return rate."""

LOG_FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary_net",
    "avg_order_value",
    "units_per_order",
)
"""Heavy-tailed, non-negative features, taken as ``log1p`` after clipping at 0.

Without it a handful of very large customers would dominate the distances, and a customer
two years inactive would sit as far from one inactive for one year as that one from an
active customer. Net revenue can be negative when returns exceed purchases; it is clipped at
0 (no value).
"""

SHARE_FEATURES: tuple[str, ...] = ("return_rate_units", "discount_share")
"""Shares, clipped to [0, 1] and kept linear."""

SHARE_COUNTS: dict[str, str] = {"return_rate_units": "units_bought", "discount_share": "lines_bought"}
"""The count each share of a segment feature is measured over: units for the return rate, lines for
the discount share."""

SHARE_PRIOR_WEIGHT = 2.0
"""How many units or lines the shop-wide share counts for when a customer's share is smoothed.

A customer with one line bought on discount has a discount share of 1, one with one unit returned a
return rate of 1: on one or two lines such shares say little. Each share is therefore estimated as
(share x n + w x p) / (n + w), with n the customer's units or lines, p the shop-wide share and
w = 2: a customer's own share counts fully once they have bought many lines (docs/segments.md
has the measured effect).
"""


@dataclass(frozen=True)
class FeatureScaling:
    """How snapshot columns become model features: fill values, means and standard deviations.

    All three are per feature, on the transformed scale (after ``log1p`` for
    ``log_features``). A missing value is replaced by the median of the population the
    scaling was fitted on, i.e. treated as a typical customer; a feature that was constant
    there gets a standard deviation of 1 (it then contributes nothing to the distances).
    """

    features: tuple[str, ...]
    log_features: tuple[str, ...]
    fill_values: tuple[float, ...]
    means: tuple[float, ...]
    stds: tuple[float, ...]
    share_priors: tuple[tuple[str, float], ...] = ()
    """Smoothed shares and the shop-wide share each is pulled towards (see ``SHARE_PRIOR_WEIGHT``)."""


def _numbers(snapshot: pd.DataFrame, name: str) -> np.ndarray:
    values = pd.to_numeric(snapshot[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(np.isfinite(values), values, np.nan)


def _shop_share(snapshot: pd.DataFrame, share: str) -> float:
    """The shop-wide share: the customers' shares weighted by the count each is measured over."""
    values, counts = _numbers(snapshot, share), _numbers(snapshot, SHARE_COUNTS[share])
    known = np.isfinite(values) & np.isfinite(counts) & (counts > 0)
    return float(np.clip(values[known], 0.0, 1.0) @ counts[known] / counts[known].sum()) if known.any() else 0.0


def _transformed(
    snapshot: pd.DataFrame, features: Sequence[str], log_features: Sequence[str], share_priors: dict[str, float]
) -> np.ndarray:
    missing = [f for f in (*features, *(SHARE_COUNTS[s] for s in share_priors)) if f not in snapshot.columns]
    if missing:
        raise KeyError(f"snapshot lacks feature columns {missing}")
    out = np.empty((len(snapshot), len(features)), dtype=np.float64)
    for j, name in enumerate(features):
        values = _numbers(snapshot, name)
        if name in log_features:
            values = np.log1p(np.clip(values, 0.0, None))
        elif name in SHARE_FEATURES:
            values = np.clip(values, 0.0, 1.0)
        if name in share_priors:
            counts = np.nan_to_num(np.clip(_numbers(snapshot, SHARE_COUNTS[name]), 0.0, None))
            weight = SHARE_PRIOR_WEIGHT
            values = (values * counts + weight * share_priors[name]) / (counts + weight)
        out[:, j] = values
    return out


def prepare_features(
    snapshot: pd.DataFrame, features: Sequence[str] = CLUSTER_FEATURES, smooth_shares: bool = True
) -> tuple[np.ndarray, FeatureScaling]:
    """Standardised feature matrix (one row per customer, ``features`` in order) and its scaling.

    Heavy-tailed columns are ``log1p``-transformed (see ``LOG_FEATURES``), shares are smoothed
    towards the shop-wide share unless ``smooth_shares`` is false (see ``SHARE_PRIOR_WEIGHT``),
    missing or infinite values are replaced by the column median, then every column is centred on
    its mean and divided by its standard deviation over this population.
    """
    features = tuple(features)
    log_features = tuple(f for f in features if f in LOG_FEATURES)
    smoothed = [f for f in features if f in SHARE_COUNTS] if smooth_shares else []
    share_priors = {name: _shop_share(snapshot, name) for name in smoothed}
    raw = _transformed(snapshot, features, log_features, share_priors)
    fill = np.zeros(raw.shape[1])
    means = np.zeros(raw.shape[1])
    stds = np.ones(raw.shape[1])
    for j in range(raw.shape[1]):
        column = raw[:, j]
        known = column[~np.isnan(column)]
        if known.size:
            fill[j] = float(np.median(known))
        column[np.isnan(column)] = fill[j]
        if column.size:
            means[j] = float(column.mean())
            std = float(column.std())
            stds[j] = std if std > 1e-12 else 1.0
    scaling = FeatureScaling(
        features=features,
        log_features=log_features,
        fill_values=tuple(fill.tolist()),
        means=tuple(means.tolist()),
        stds=tuple(stds.tolist()),
        share_priors=tuple(share_priors.items()),
    )
    raw -= means
    raw /= stds
    return raw, scaling


def apply_scaling(snapshot: pd.DataFrame, scaling: FeatureScaling) -> np.ndarray:
    """Features of a (new) snapshot in the space of an existing model, using its stored scaling."""
    raw = _transformed(snapshot, scaling.features, scaling.log_features, dict(scaling.share_priors))
    fill = np.asarray(scaling.fill_values)
    rows, cols = np.nonzero(np.isnan(raw))
    raw[rows, cols] = fill[cols]
    raw -= np.asarray(scaling.means)
    raw /= np.asarray(scaling.stds)
    return raw
