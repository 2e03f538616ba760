"""BG/NBD: likelihood, P(alive) and expected purchases against numerical integration of the individual-level
model (what both purchase models share is tested in test_purchase_models.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from segmentation_pipeline.domain.clv import bgnbd
from segmentation_pipeline_tests.domain.clv.mixing import CUSTOMERS, gamma_as_power

TRUTH = (0.25, 4.0, 0.8, 2.5)


def beta_density(value: float, a: float, b: float) -> float:
    log_beta = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    return math.exp((a - 1) * math.log(value) + (b - 1) * math.log1p(-value) - log_beta)


def mixed(params, x: int, t_x: float, T: float, alive_weight=None) -> tuple[float, float]:
    """Integrals over rate ~ Gamma(r, alpha) and dropout ~ Beta(a, b) of the individual likelihood, and of its
    still-active part times alive_weight(rate, dropout) (1 when not given)."""
    r, alpha, a, b = params
    rate_of, rate_density = gamma_as_power(r, alpha)

    def active(rate: float, dropout: float) -> float:
        return (1 - dropout) ** x * rate**x * math.exp(-rate * T)

    def likelihood(u: float, dropout: float) -> float:
        rate = rate_of(u)
        dropped = dropout * (1 - dropout) ** (x - 1) * rate**x * math.exp(-rate * t_x) if x > 0 else 0.0
        return (active(rate, dropout) + dropped) * rate_density(u) * beta_density(dropout, a, b)

    def weighted_active(u: float, dropout: float) -> float:
        rate = rate_of(u)
        weight = alive_weight(rate, dropout) if alive_weight else 1.0
        return active(rate, dropout) * weight * rate_density(u) * beta_density(dropout, a, b)

    options = {"epsabs": 0, "epsrel": 1e-10}
    total = integrate.dblquad(likelihood, 0, 1, 0, np.inf, **options)[0]
    return total, integrate.dblquad(weighted_active, 0, 1, 0, np.inf, **options)[0]


@pytest.mark.parametrize("params", [TRUTH, (1.3, 2.0, 1.7, 0.9)])
def test_log_likelihood_and_p_alive_match_numerical_integration(params):
    x, t_x, T = CUSTOMERS
    integrals = [mixed(params, *customer) for customer in zip(x.tolist(), t_x, T, strict=True)]
    total, active = (np.array(column) for column in zip(*integrals, strict=True))
    assert bgnbd.log_likelihood(params, x, t_x, T) == pytest.approx(np.log(total), rel=1e-6)
    assert bgnbd.probability_alive(params, x, t_x, T) == pytest.approx(active / total, rel=1e-6)


@pytest.mark.parametrize(
    ("params", "x", "t_x", "T"),
    [
        (TRUTH, 3, 20.0, 30.0),
        ((0.25, 4.0, 1.0, 2.5), 2, 8.0, 26.0),  # a == 1: the closed form divides by zero
        ((0.6, 3.0, 0.5, 0.5), 0, 0.0, 10.0),  # a + b == 1 without repeat purchases: likewise
        ((0.34, 2.59, 2952.0, 15120.0), 4, 6.0, 8.0),  # parameters in the thousands: SciPy's 2F1 gives NaN
    ],
)
def test_expected_purchases_are_the_posterior_mean_of_the_individual_expectation(params, x, t_x, T):
    """While active, purchases come at the rate and each is the last with the dropout chance, so the individual
    expectation over t is (1 - exp(-rate dropout t)) / dropout."""
    t = 13.0
    total, expected = mixed(params, x, t_x, T, lambda rate, dropout: -math.expm1(-rate * dropout * t) / dropout)
    assert bgnbd.expected_purchases(params, t, np.array([x]), np.array([t_x]), np.array([T]))[0] == pytest.approx(
        expected / total, rel=1e-6
    )


def test_without_repeat_purchases_a_customer_is_alive():
    T = np.array([0.5, 10.0, 500.0])
    assert bgnbd.probability_alive(TRUTH, np.zeros(3), np.zeros(3), T) == pytest.approx(np.ones(3))
