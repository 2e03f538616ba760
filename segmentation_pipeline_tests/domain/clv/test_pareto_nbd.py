"""Pareto/NBD: likelihood, P(alive) and expected purchases against numerical integration of the individual-level
model (what both purchase models share is tested in test_purchase_models.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from segmentation_pipeline.domain.clv import pareto_nbd
from segmentation_pipeline_tests.domain.clv.mixing import CUSTOMERS, gamma_as_power

TRUTH = (0.55, 10.0, 0.6, 12.0)


def mixed(params, x: int, t_x: float, T: float, alive_weight=None) -> tuple[float, float]:
    """Integrals over rate ~ Gamma(r, alpha) and dropout rate ~ Gamma(s, beta) of the individual likelihood, and of
    its still-active part times alive_weight(rate, dropout_rate) (1 when not given)."""
    r, alpha, s, beta = params
    rate_of, rate_density = gamma_as_power(r, alpha)
    dropout_rate_of, dropout_rate_density = gamma_as_power(s, beta)

    def active(rate: float, dropout_rate: float) -> float:
        return rate**x * math.exp(-(rate + dropout_rate) * T)

    def likelihood(u: float, v: float) -> float:
        rate, dropout_rate = rate_of(u), dropout_rate_of(v)
        both = rate + dropout_rate
        dropped = rate**x * dropout_rate / both * (math.exp(-both * t_x) - math.exp(-both * T))
        return (active(rate, dropout_rate) + dropped) * rate_density(u) * dropout_rate_density(v)

    def weighted_active(u: float, v: float) -> float:
        rate, dropout_rate = rate_of(u), dropout_rate_of(v)
        weight = alive_weight(rate, dropout_rate) if alive_weight else 1.0
        return active(rate, dropout_rate) * weight * rate_density(u) * dropout_rate_density(v)

    options = {"epsabs": 0, "epsrel": 1e-10}
    total = integrate.dblquad(likelihood, 0, np.inf, 0, np.inf, **options)[0]
    return total, integrate.dblquad(weighted_active, 0, np.inf, 0, np.inf, **options)[0]


@pytest.mark.parametrize(
    "params",
    [TRUTH, (0.55, 10.0, 0.6, 3.0), (1.2, 5.0, 2.0, 5.0), (0.55, 1000.0, 0.6, 0.05), (0.55, 0.05, 0.6, 1000.0)],
    ids=["alpha below beta", "alpha above beta", "alpha equal to beta", "alpha 20000 beta", "beta 20000 alpha"],
)
def test_log_likelihood_and_p_alive_match_numerical_integration(params):
    x, t_x, T = CUSTOMERS
    integrals = [mixed(params, *customer) for customer in zip(x.tolist(), t_x, T, strict=True)]
    total, active = (np.array(column) for column in zip(*integrals, strict=True))
    assert pareto_nbd.log_likelihood(params, x, t_x, T) == pytest.approx(np.log(total), rel=1e-6)
    assert pareto_nbd.probability_alive(params, x, t_x, T) == pytest.approx(active / total, rel=1e-6)


@pytest.mark.parametrize("s", [0.6, 1.0, 2.5])
def test_expected_purchases_are_the_posterior_mean_of_the_individual_expectation(s):
    """While active, purchases come at the rate until an exponential dropout, so the individual expectation over t
    is rate (1 - exp(-dropout_rate t)) / dropout_rate; s == 1 is the closed form's removable singularity."""
    params, t = (0.55, 10.0, s, 12.0), 13.0
    total, expected = mixed(params, 3, 20.0, 30.0, lambda rate, dropout: rate * -math.expm1(-dropout * t) / dropout)
    predicted = pareto_nbd.expected_purchases(params, t, np.array([3]), np.array([20.0]), np.array([30.0]))[0]
    assert predicted == pytest.approx(expected / total, rel=1e-6)
