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
    "avg_order_value",
    "return_rate_units",
    "tenure_days",
    "category_breadth",
    "service_contacts",
)
"""Snapshot columns that define a segment.

Recency, frequency and monetary value are the classic RFM triple; average order value
separates many small baskets from few large ones; the unit return rate finds customers who
cost more than they bring; tenure separates new from established customers; category
breadth and service contacts separate broad, engaged buyers from narrow or troublesome ones.
``mean_days_between_orders`` is left out because it is undefined for one-order customers
(most of a shop) and largely repeats frequency over tenure; ``n_returns`` repeats the return
rate times frequency; ``campaign_responses`` depends on who was targeted, not only on the
customer, and is reported in the profiles instead.
"""

LOG_FEATURES: tuple[str, ...] = (
    "frequency",
    "monetary_net",
    "avg_order_value",
    "category_breadth",
    "service_contacts",
)
"""Heavy-tailed, non-negative features, taken as ``log1p`` after clipping at 0.

Without it a handful of very large customers would dominate the distances. Net revenue can
be negative when returns exceed purchases in the window; it is clipped at 0 (no value).
Recency and tenure are bounded by the observation window and stay linear; the return rate
is a share, clipped to [0, 1] and kept linear.
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


def _transformed(snapshot: pd.DataFrame, features: Sequence[str], log_features: Sequence[str]) -> np.ndarray:
    missing = [f for f in features if f not in snapshot.columns]
    if missing:
        raise KeyError(f"snapshot lacks feature columns {missing}")
    out = np.empty((len(snapshot), len(features)), dtype=np.float64)
    for j, name in enumerate(features):
        values = pd.to_numeric(snapshot[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        values = np.where(np.isfinite(values), values, np.nan)
        if name in log_features:
            values = np.log1p(np.clip(values, 0.0, None))
        elif name == "return_rate_units":
            values = np.clip(values, 0.0, 1.0)
        out[:, j] = values
    return out


def prepare_features(snapshot: pd.DataFrame) -> tuple[np.ndarray, FeatureScaling]:
    """Standardised feature matrix (one row per customer, ``CLUSTER_FEATURES`` in order) and its scaling.

    Heavy-tailed columns are ``log1p``-transformed (see ``LOG_FEATURES``), missing or
    infinite values are replaced by the column median, then every column is centred on
    its mean and divided by its standard deviation over this population.
    """
    raw = _transformed(snapshot, CLUSTER_FEATURES, LOG_FEATURES)
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
        features=CLUSTER_FEATURES,
        log_features=LOG_FEATURES,
        fill_values=tuple(fill.tolist()),
        means=tuple(means.tolist()),
        stds=tuple(stds.tolist()),
    )
    raw -= means
    raw /= stds
    return raw, scaling


def apply_scaling(snapshot: pd.DataFrame, scaling: FeatureScaling) -> np.ndarray:
    """Features of a (new) snapshot in the space of an existing model, using its stored scaling."""
    raw = _transformed(snapshot, scaling.features, scaling.log_features)
    fill = np.asarray(scaling.fill_values)
    rows, cols = np.nonzero(np.isnan(raw))
    raw[rows, cols] = fill[cols]
    raw -= np.asarray(scaling.means)
    raw /= np.asarray(scaling.stds)
    return raw
