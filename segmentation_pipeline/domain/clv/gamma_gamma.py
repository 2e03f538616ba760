"""Gamma-Gamma spend per purchase: each customer's spends are Gamma(p, nu) around their own mean, nu is Gamma(q, gamma).

Fader, Hardie & Lee (2005), "RFM and CLV: Using iso-value curves"; Fader & Hardie (2013), "The Gamma-Gamma model".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import digamma, gammaln

PARAMS: tuple[str, ...] = ("p", "q", "gamma")


def count_terms(params: Sequence[float], x: np.ndarray) -> np.ndarray:
    """The part of each customer's log-likelihood that depends on the number of repeat purchases only (x > 0)."""
    p, q, gamma = params
    x = np.asarray(x, dtype=np.float64)
    return gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(gamma) + p * x * np.log(x)


def spend_terms(params: Sequence[float], x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """The part of each customer's log-likelihood that depends on their mean spend m as well."""
    p, q, gamma = params
    x, m = np.asarray(x, dtype=np.float64), np.asarray(m, dtype=np.float64)
    return (p * x - 1) * np.log(m) - (p * x + q) * np.log(gamma + m * x)


def count_terms_gradient(params: Sequence[float], x: np.ndarray) -> np.ndarray:
    """Derivatives of the count terms in (p, q, gamma), one row per parameter."""
    p, q, gamma = params
    x = np.asarray(x, dtype=np.float64)
    digamma_total = digamma(p * x + q)
    return np.stack(
        [
            x * (digamma_total - digamma(p * x) + np.log(x)),
            digamma_total - digamma(q) + np.log(gamma),
            np.full(x.shape, q / gamma),
        ]
    )


def spend_terms_gradient(params: Sequence[float], x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Derivatives of the spend terms in (p, q, gamma), one row per parameter."""
    p, q, gamma = params
    x, m = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(m, dtype=np.float64))
    log_total = np.log(gamma + m * x)
    return np.stack([x * (np.log(m) - log_total), -log_total, -(p * x + q) / (gamma + m * x)])


def log_likelihood(params: Sequence[float], x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Each customer's log-density of their mean spend m over x > 0 repeat purchases."""
    return count_terms(params, x) + spend_terms(params, x, m)


def expected_spend(params: Sequence[float], x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Expected spend per future purchase of each customer: their mean m shrunk towards the population mean, all the
    more the fewer repeat purchases it rests on; the population mean p gamma / (q - 1) without repeat purchases."""
    p, q, gamma = params
    if q <= 1:
        raise ValueError(f"Gamma-Gamma q = {q} <= 1: the population has no mean spend per purchase")
    x, m = np.asarray(x, dtype=np.float64), np.asarray(m, dtype=np.float64)
    weight = p * x / (p * x + q - 1)
    return (1 - weight) * p * gamma / (q - 1) + weight * np.where(x > 0, m, 0.0)


def simulate(params: Sequence[float], x: np.ndarray, seed: int) -> np.ndarray:
    """Simulated mean spend of each customer's x repeat purchases (NaN when x == 0)."""
    p, q, gamma = params
    x = np.asarray(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    spend_rate = rng.gamma(q, 1 / gamma, x.shape)
    purchases = np.where(x > 0, x, 1.0)
    return np.where(x > 0, rng.gamma(p * purchases, 1 / (spend_rate * purchases)), np.nan)
