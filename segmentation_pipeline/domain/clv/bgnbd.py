"""BG/NBD repeat purchases: customers buy at their own steady rate and may drop out right after any repeat purchase.

Fader, Hardie & Lee (2005), "Counting your customers the easy way": rates Gamma(r, alpha), dropout chances Beta(a, b).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

PARAMS: tuple[str, ...] = ("r", "alpha", "a", "b")

CANCELLATION_LIMIT = 1e-5
"""The closed-form expectation is (a + b + x - 1) / (a - 1) times 1 - G, G a hypergeometric term whose rounding error
grows with a + b + x: where 1 - G is smaller than this (times (a + b + x) / 100 when that exceeds 1), as when a is
near 1 or the horizon very short for the customer, too many digits cancel, and where G is not finite its series
failed in floating point (parameters in the thousands); there the expectation is integrated numerically instead."""
INTEGRATION_TAIL = 1e-12
"""Relative accuracy of the tails of numerical expectations over a Beta distribution (see beta_expectation)."""
INTEGRATION_BLOCK = 2048
"""Rows integrated together by beta_expectation, to bound the memory of its grid."""


def count_terms(params: Sequence[float], x: np.ndarray) -> np.ndarray:
    """The part of each customer's log-likelihood that depends on the number of repeat purchases only."""
    r, alpha, a, b = params
    x = np.asarray(x, dtype=np.float64)
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)


def age_terms(params: Sequence[float], x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Log-likelihood, beyond the count terms, of having stayed active from the last purchase to the end (time T)."""
    r, alpha, _, _ = params
    return -(r + np.asarray(x, dtype=np.float64)) * np.log(alpha + np.asarray(T, dtype=np.float64))


def recency_terms(params: Sequence[float], x: np.ndarray, t_x: np.ndarray) -> np.ndarray:
    """Log-likelihood, beyond the count terms, of having dropped out right after the last purchase at t_x.

    Minus infinity without repeat purchases: the first purchase is never followed by a dropout.
    """
    r, alpha, a, b = params
    x = np.asarray(x, dtype=np.float64)
    repeat = x > 0
    dropout_odds = np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0))
    return np.where(repeat, dropout_odds - (r + x) * np.log(alpha + np.asarray(t_x, dtype=np.float64)), -np.inf)


def count_terms_gradient(params: Sequence[float], x: np.ndarray) -> np.ndarray:
    """Derivatives of the count terms in (r, alpha, a, b), one row per parameter."""
    r, alpha, a, b = params
    x = np.asarray(x, dtype=np.float64)
    lost_to_purchases = digamma(a + b) - digamma(a + b + x)
    return np.stack(
        [
            digamma(r + x) - digamma(r) + np.log(alpha),
            np.full(x.shape, r / alpha),
            lost_to_purchases,
            lost_to_purchases + digamma(b + x) - digamma(b),
        ]
    )


def age_terms_gradient(params: Sequence[float], x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Derivatives of the age terms in (r, alpha, a, b), one row per parameter."""
    r, alpha, _, _ = params
    x, T = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(T, dtype=np.float64))
    return np.stack([-np.log(alpha + T), -(r + x) / (alpha + T), np.zeros(x.shape), np.zeros(x.shape)])


def recency_terms_gradient(params: Sequence[float], x: np.ndarray, t_x: np.ndarray) -> np.ndarray:
    """Derivatives of the recency terms in (r, alpha, a, b), one row per parameter; zero without repeat purchases."""
    r, alpha, a, b = params
    x, t_x = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(t_x, dtype=np.float64))
    repeat = x > 0
    derivatives = np.stack(
        [
            -np.log(alpha + t_x),
            -(r + x) / (alpha + t_x),
            np.full(x.shape, 1 / a),
            -1 / np.where(repeat, b + x - 1, 1.0),
        ]
    )
    return np.where(repeat, derivatives, 0.0)


def log_likelihood(params: Sequence[float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Each customer's log-likelihood of making x repeat purchases, the last at t_x, when observed for T."""
    return count_terms(params, x) + np.logaddexp(age_terms(params, x, T), recency_terms(params, x, t_x))


def probability_alive(params: Sequence[float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Probability that each customer is still active at the end of the observation (1 without repeat purchases)."""
    return expit(age_terms(params, x, T) - recency_terms(params, x, t_x))


def _expected_while_active(params: Sequence[float], t: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Expected repeat purchases in the next t of a customer known to be active at T after x repeat purchases."""
    _, _, a, b = params
    t, x, T = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (t, x, T)))
    with np.errstate(all="ignore"):
        expected = np.array(_closed_form(params, t, x, T))
        one_minus_g = expected * (a - 1) / (a + b + x - 1)
    cancelled = np.abs(one_minus_g) < CANCELLATION_LIMIT * np.maximum(1.0, (a + b + x) / 100)
    unreliable = ~np.isfinite(expected) | cancelled
    if unreliable.any():
        expected[unreliable] = _integrated(params, t[unreliable], x[unreliable], T[unreliable])
    return expected


def _closed_form(params: Sequence[float], t: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Equation (10) of Fader, Hardie & Lee (2005) for a customer known to be active, with the hypergeometric
    function Euler-transformed to 2F1(a + b - 1 - r, a - 1; a + b + x - 1; z), whose first parameters stay small."""
    r, alpha, a, b = params
    purchases_shape = a + b + x - 1
    log_1_minus_z = -np.log1p(t / (alpha + T))
    series = hyp2f1(a + b - 1 - r, a - 1, purchases_shape, t / (alpha + T + t))
    return purchases_shape / (a - 1) * (1 - np.exp((a - 1) * log_1_minus_z) * series)


def _integrated(params: Sequence[float], t: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """The same expectation, E[(1 - (1 + p u)^-(r + x)) / p] over the posterior p ~ Beta(a, b + x) of an active
    customer's dropout chance with u = t / (alpha + T), integrated numerically once per distinct (x, u)."""
    r, alpha, a, b = params
    distinct, inverse = np.unique(x + 1j * (t / (alpha + T)), return_inverse=True)
    counts, horizon = distinct.real, distinct.imag
    purchases = r + counts

    def expected_given_dropout(p: np.ndarray, _: np.ndarray, rows: slice) -> np.ndarray:
        return -np.expm1(-purchases[rows, None] * np.log1p(p * horizon[rows, None])) / p

    expected = beta_expectation(a, b + counts, expected_given_dropout, (purchases + 1) * horizon, purchases + 1)
    return expected[inverse]


def beta_expectation(
    a: np.ndarray,
    b: np.ndarray,
    integrand: Callable[[np.ndarray, np.ndarray, slice], np.ndarray],
    varies_below: np.ndarray,
    varies_above: np.ndarray,
) -> np.ndarray:
    """E[integrand(p)] for p ~ Beta(a, b), one per row of the broadcast arrays, by the trapezoidal rule in w = logit p.

    integrand(p, 1 - p, rows) gets (rows, nodes) arrays for a slice of the rows. The Beta density is log-concave in w,
    and an integrand analytic for |Im w| < pi (as rational functions of p and powers of 1 + p u with u > 0 are) makes
    the rule converge geometrically; steps resolve both the density's width and the unit scale of the integrand, and
    the grid reaches 40 widths and 40 tail e-foldings beyond the mode unless cut earlier. It is cut where p falls
    below INTEGRATION_TAIL / (a + b + 1 + varies_below), or 1 - p below INTEGRATION_TAIL / (a + b + 1 + varies_above):
    there the integrand must be constant to that relative accuracy, the density is exponential in w, and the rule's
    remaining nodes are summed as geometric series.
    """
    a, b, varies_below, varies_above = (
        np.array(v, dtype=np.float64, ndmin=1) for v in np.broadcast_arrays(a, b, varies_below, varies_above)
    )
    mode, width = np.log(a / b), np.sqrt(1 / a + 1 / b)
    low = np.maximum(np.log(INTEGRATION_TAIL / (a + b + 1 + varies_below)), mode - 40 * width - 40 / a)
    high = np.minimum(np.log((a + b + 1 + varies_above) / INTEGRATION_TAIL), mode + 40 * width + 40 / b)
    nodes = int(np.ceil(np.max((high - low) / np.minimum(width / 2, 0.25)))) + 1
    step = (high - low) / (nodes - 1)
    expected = np.empty(len(a))
    for rows in (slice(start, start + INTEGRATION_BLOCK) for start in range(0, len(a), INTEGRATION_BLOCK)):
        logit = low[rows, None] + step[rows, None] * np.arange(nodes)
        log_p, log_not_p = -np.logaddexp(0.0, -logit), -np.logaddexp(0.0, logit)
        density = np.exp(a[rows, None] * log_p + b[rows, None] * log_not_p - betaln(a[rows], b[rows])[:, None])
        values = density * integrand(np.exp(log_p), np.exp(log_not_p), rows)
        with np.errstate(over="ignore"):
            below = values[:, 0] / np.expm1(a[rows] * step[rows])
            above = values[:, -1] / np.expm1(b[rows] * step[rows])
        expected[rows] = step[rows] * (values.sum(axis=1) + below + above)
    return expected


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

    A customer makes a geometric number of repeat purchases (the one after which they drop out included) at the
    times of a Poisson process; those within T are the first x of the Poisson purchases there, whose last is a
    beta-distributed order statistic, and a customer still active at T goes on buying in the holdout.
    """
    r, alpha, a, b = params
    T = np.asarray(T, dtype=np.float64)
    rng = np.random.default_rng(seed)
    rate = rng.gamma(r, 1 / alpha, T.shape)
    dropout = rng.beta(a, b, T.shape)
    with np.errstate(divide="ignore"):
        purchases_before_dropout = 1 + np.floor(rng.standard_exponential(T.shape) / -np.log1p(-dropout))
    in_period = rng.poisson(rate * T)
    in_holdout = rng.poisson(rate * t_holdout)
    dropped = purchases_before_dropout <= in_period
    x = np.where(dropped, purchases_before_dropout, in_period).astype(np.int64)
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), in_period - x + 1), 0.0)
    x_holdout = np.where(dropped, 0, np.minimum(purchases_before_dropout - in_period, in_holdout)).astype(np.int64)
    return x, t_x, x_holdout
