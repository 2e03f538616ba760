"""Gamma-Gamma: the density of mean spend against numerical integration, shrinkage of expected spend, simulation and
parameter recovery."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from segmentation_pipeline.domain.clv import gamma_gamma
from segmentation_pipeline.domain.clv.fitting import fit_spend

TRUTH = (6.0, 4.0, 15.0)


def gamma_density(value: float, shape: float, rate: float) -> float:
    return math.exp(shape * math.log(rate) + (shape - 1) * math.log(value) - rate * value - math.lgamma(shape))


@pytest.mark.parametrize("params", [TRUTH, (0.8, 1.5, 300.0)])
def test_log_likelihood_matches_numerical_integration(params):
    """The mean of x Gamma(p, nu) spends is Gamma(p x, nu x), mixed over nu ~ Gamma(q, gamma)."""
    p, q, gamma = params
    x, m = np.array([1, 3, 40]), np.array([12.0, 35.5, 19.0])

    def density(count: int, mean: float) -> float:
        return integrate.quad(
            lambda nu: gamma_density(mean, p * count, nu * count) * gamma_density(nu, q, gamma),
            0,
            np.inf,
            epsabs=0,
            epsrel=1e-11,
            limit=200,
        )[0]

    expected = [math.log(density(count, mean)) for count, mean in zip(x.tolist(), m, strict=True)]
    assert gamma_gamma.log_likelihood(params, x, m) == pytest.approx(expected, rel=1e-6)


def test_expected_spend_shrinks_towards_the_population_mean_less_with_more_purchases():
    p, q, gamma = TRUTH
    population = p * gamma / (q - 1)
    x = np.array([0, 1, 2, 5, 20, 100, 1_000_000])
    spend = gamma_gamma.expected_spend(TRUTH, x, np.where(x > 0, 80.0, np.nan))
    assert spend[0] == pytest.approx(population)
    assert np.all(np.diff(spend) > 0) and (spend[1:] > population).all() and (spend < 80.0).all()
    assert spend[-1] == pytest.approx(80.0, rel=1e-5)
    assert spend[1] == pytest.approx((3 * population + 6 * 80.0) / 9)  # weight p x / (p x + q - 1) on the mean


def test_expected_spend_needs_a_population_mean():
    with pytest.raises(ValueError, match="q"):
        gamma_gamma.expected_spend((6.0, 1.0, 15.0), np.array([1]), np.array([10.0]))


def test_simulated_mean_spend_matches_the_model():
    x = np.tile([0, 1, 5], 100_000)
    m = gamma_gamma.simulate(TRUTH, x, seed=1)
    assert np.isnan(m[x == 0]).all() and (m[x > 0] > 0).all()
    p, q, gamma = TRUTH
    for count in (1, 5):
        assert m[x == count].mean() == pytest.approx(p * gamma / (q - 1), rel=0.02)


def test_fit_recovers_the_simulated_parameters():
    x = np.random.default_rng(2).poisson(3.0, 50_000)
    m = gamma_gamma.simulate(TRUTH, x, seed=3)
    fit = fit_spend(x, m)
    assert fit.converged and fit.customers == int((x > 0).sum())
    for name, truth in zip(gamma_gamma.PARAMS, TRUTH, strict=True):
        error = fit.standard_errors[name]
        assert 0 < error < np.inf
        assert abs(fit.params[name] - truth) < 3 * error
        assert fit.params[name] == pytest.approx(truth, rel=0.15)
