"""Pareto/NBD repeat purchases: customers buy at their own steady rate until an exponentially distributed dropout time.

Fader & Hardie (2005), "A note on deriving the Pareto/NBD model": rates Gamma(r, alpha), dropout rates Gamma(s, beta).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import digamma, gammaln, hyp2f1

from segmentation_pipeline.domain.clv.bgnbd import beta_expectation

PARAMS: tuple[str, ...] = ("r", "alpha", "s", "beta")

SERIES_GAP = 1e-3
"""SciPy's 2F1(1, b; c; z) loses digits (up to 1e-3 relative) as z nears 1, or even fails for b in the hundreds; closer
to 1 than this, the tail integrals are computed numerically. It takes max(alpha, beta) / min(alpha, beta) above 1000,
far from any fitted values but reachable while searching."""


def count_terms(params: Sequence[float], x: np.ndarray) -> np.ndarray:
    """The part of each customer's log-likelihood that depends on the number of repeat purchases only."""
    r, alpha, s, beta = params
    x = np.asarray(x, dtype=np.float64)
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)


def count_terms_gradient(params: Sequence[float], x: np.ndarray) -> np.ndarray:
    """Derivatives of the count terms in (r, alpha, s, beta), one row per parameter."""
    r, alpha, s, beta = params
    x = np.asarray(x, dtype=np.float64)
    return np.stack(
        [
            digamma(r + x) - digamma(r) + np.log(alpha),
            np.full(x.shape, r / alpha),
            np.full(x.shape, np.log(beta)),
            np.full(x.shape, s / beta),
        ]
    )


def _log_tail_integral(
    alpha: float, beta: float, purchase_power: np.ndarray, dropout_power: np.ndarray, start: np.ndarray
) -> np.ndarray:
    """ln of the integral from start to infinity of (alpha + u)^-purchase_power (beta + u)^-dropout_power du.

    In closed form with 2F1(1, c; purchase_power + dropout_power; z), c the power of the larger of alpha and beta
    and z = |alpha - beta| / (max(alpha, beta) + start) in [0, 1): positive, finite and free of overflow
    however many purchases; alpha == beta gives z = 0.
    """
    order = purchase_power + dropout_power - 1
    log_alpha_side, log_beta_side = np.log(alpha + start), np.log(beta + start)
    if alpha >= beta:
        larger_power = purchase_power
        z, gap = (alpha - beta) / (alpha + start), (beta + start) / (alpha + start)
        powers = purchase_power * log_alpha_side + (dropout_power - 1) * log_beta_side
    else:
        larger_power = dropout_power
        z, gap = (beta - alpha) / (beta + start), (alpha + start) / (beta + start)
        powers = (purchase_power - 1) * log_alpha_side + dropout_power * log_beta_side
    return np.log(_hypergeometric_from_one(larger_power, order + 1, z, gap)) - powers - np.log(order)


def _hypergeometric_from_one(b: np.ndarray, c: np.ndarray, z: np.ndarray, gap: np.ndarray) -> np.ndarray:
    """2F1(1, b; c; z) for 0 < b < c and z = 1 - gap in [0, 1).

    SciPy's, except where z is within SERIES_GAP of 1 or SciPy's value is not finite: there the Euler integral, the
    expectation of 1 / (1 - z t) = 1 / (gap + z (1 - t)) over t ~ Beta(b, c - b).
    """
    b, c, z, gap = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (b, c, z, gap)))
    series = np.array(hyp2f1(1.0, b, c, z))
    unreliable = ~np.isfinite(series) | (gap < SERIES_GAP)
    if unreliable.any():
        z_left, gap_left = z[unreliable], gap[unreliable]

        def euler_integrand(_: np.ndarray, not_t: np.ndarray, rows: slice) -> np.ndarray:
            return 1 / (gap_left[rows, None] + z_left[rows, None] * not_t)

        shapes = b[unreliable], (c - b)[unreliable]
        series[unreliable] = beta_expectation(*shapes, euler_integrand, 1.0, z_left / gap_left)
    return series


def age_terms(params: Sequence[float], x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """The part of the log-likelihood, beyond the count terms, that depends on x and the age T.

    Integrated by parts, the difference of tail integrals in Fader & Hardie's (2005) likelihood becomes a sum of two
    positive parts, so nothing cancels: the likelihood is exp(count terms) times (r + x) times the integral from T to
    infinity of (alpha + u)^-(r+x+1) (beta + u)^-s du (these terms, in logs) plus s times the integral from t_x of
    (alpha + u)^-(r+x) (beta + u)^-(s+1) du (the recency terms).
    """
    r, alpha, s, beta = params
    x = np.asarray(x, dtype=np.float64)
    return np.log(r + x) + _log_tail_integral(alpha, beta, r + x + 1, s, np.asarray(T, dtype=np.float64))


def recency_terms(params: Sequence[float], x: np.ndarray, t_x: np.ndarray) -> np.ndarray:
    """The part of the log-likelihood, beyond the count terms, that depends on x and the last purchase t_x."""
    r, alpha, s, beta = params
    x = np.asarray(x, dtype=np.float64)
    return np.log(s) + _log_tail_integral(alpha, beta, r + x, s + 1, np.asarray(t_x, dtype=np.float64))


def log_likelihood(params: Sequence[float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Each customer's log-likelihood of making x repeat purchases, the last at t_x, when observed for T."""
    return count_terms(params, x) + np.logaddexp(age_terms(params, x, T), recency_terms(params, x, t_x))


def probability_alive(params: Sequence[float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Probability that each customer is still active at the end of the observation."""
    r, alpha, s, beta = params
    x, T = np.asarray(x, dtype=np.float64), np.asarray(T, dtype=np.float64)
    log_active = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    log_any = np.logaddexp(age_terms(params, x, T), recency_terms(params, x, t_x))
    return np.minimum(np.exp(log_active - log_any), 1.0)


def _expected_while_active(params: Sequence[float], t: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Expected repeat purchases in the next t of a customer known to be active at T after x repeat purchases:
    the posterior mean rate times the posterior mean of (1 - exp(-mu t)) / mu, whose s == 1 limit is a logarithm."""
    r, alpha, s, beta = params
    t, x, T = (np.asarray(v, dtype=np.float64) for v in (t, x, T))
    log_growth = np.log1p(t / (beta + T))
    active_time = log_growth if s == 1 else -np.expm1(-(s - 1) * log_growth) / (s - 1)
    return (r + x) / (alpha + T) * (beta + T) * active_time


def expected_purchases(
    params: Sequence[float], t: float | np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Expected repeat purchases of each customer in the next t time units, given their history (x, t_x, T)."""
    return probability_alive(params, x, t_x, T) * _expected_while_active(params, t, x, T)


def expected_purchases_new(params: Sequence[float], t: float | np.ndarray) -> np.ndarray:
    """Expected repeat purchases of a new customer within t time units of the first purchase."""
    return _expected_while_active(params, t, 0.0, 0.0)


def simulate(
    params: Sequence[float], T: np.ndarray, t_holdout: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulated customers observed for T[i] after their first purchase: repeat purchases x, time of the last t_x,
    and repeat purchases in the following holdout of length t_holdout.

    Purchases are Poisson while active, so the count in the active part of the period is Poisson and its last
    purchase the maximum of that many uniform times.
    """
    r, alpha, s, beta = params
    T = np.asarray(T, dtype=np.float64)
    rng = np.random.default_rng(seed)
    rate = rng.gamma(r, 1 / alpha, T.shape)
    dropout_rate = rng.gamma(s, 1 / beta, T.shape)
    with np.errstate(divide="ignore"):
        lifetime = rng.standard_exponential(T.shape) / dropout_rate
    active_in_period = np.minimum(lifetime, T)
    x = rng.poisson(rate * active_in_period)
    t_x = np.where(x > 0, active_in_period * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    x_holdout = rng.poisson(rate * np.clip(lifetime - T, 0.0, t_holdout))
    return x, t_x, x_holdout
