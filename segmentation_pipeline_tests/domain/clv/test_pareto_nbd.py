"""Pareto/NBD: likelihood and predictions against numerical integration of the individual-level model, simulation,
parameter recovery and the direction of predictions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from segmentation_pipeline.domain.clv import pareto_nbd
from segmentation_pipeline.domain.clv.fitting import fit_purchases

TRUTH = (0.55, 10.0, 0.6, 12.0)
CUSTOMERS = (np.array([0, 1, 4]), np.array([0.0, 3.5, 20.0]), np.array([10.0, 12.0, 30.0]))


def gamma_as_power(shape: float, rate: float):
    """A Gamma(shape, rate) variable as u ** (1 / shape), and the density of u on (0, inf), which unlike the Gamma
    density has no singularity at 0: integrating over u is integrating over the Gamma distribution."""
    return (
        lambda u: u ** (1 / shape),
        lambda u: math.exp(shape * math.log(rate) - rate * u ** (1 / shape) - math.lgamma(shape + 1)),
    )


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


def test_thousands_of_purchases_and_long_histories_stay_finite():
    x, t_x, T = np.array([2000, 2000, 0, 1]), np.array([9999.0, 10.0, 0.0, 1e5]), np.array([1e4, 1e4, 1e6, 1e6])
    for params in (TRUTH, (0.5, 100.0, 0.7, 0.01), (0.5, 0.01, 0.7, 100.0)):
        assert np.isfinite(pareto_nbd.log_likelihood(params, x, t_x, T)).all()
        alive = pareto_nbd.probability_alive(params, x, t_x, T)
        assert ((alive >= 0) & (alive <= 1)).all()
        assert alive[0] > 0.99 and alive[1] < 1e-6
        expected = pareto_nbd.expected_purchases(params, 52.0, x, t_x, T)
        assert np.isfinite(expected).all() and (expected >= 0).all()


def test_more_purchases_and_more_recent_ones_mean_more_expected_purchases():
    frequent = pareto_nbd.expected_purchases(TRUTH, 26.0, np.array([1, 3, 10]), np.full(3, 45.0), np.full(3, 50.0))
    assert np.all(np.diff(frequent) > 0)
    t_x = np.array([5.0, 20.0, 45.0])
    alive = pareto_nbd.probability_alive(TRUTH, np.full(3, 4), t_x, np.full(3, 50.0))
    recent = pareto_nbd.expected_purchases(TRUTH, 26.0, np.full(3, 4), t_x, np.full(3, 50.0))
    assert np.all(np.diff(alive) > 0) and np.all(np.diff(recent) > 0)


def test_expected_purchases_match_simulated_holdout_and_new_customers():
    T = np.random.default_rng(1).uniform(10, 60, 200_000)
    x, t_x, x_holdout = pareto_nbd.simulate(TRUTH, T, 26.0, seed=2)
    assert pareto_nbd.expected_purchases(TRUTH, 26.0, x, t_x, T).sum() == pytest.approx(x_holdout.sum(), rel=0.03)
    for count in (0, 1, 3):
        customers = x == count
        predicted = pareto_nbd.expected_purchases(TRUTH, 26.0, x[customers], t_x[customers], T[customers]).sum()
        assert predicted == pytest.approx(x_holdout[customers].sum(), rel=0.05)
    new_x, _, _ = pareto_nbd.simulate(TRUTH, np.full(200_000, 30.0), 0.0, seed=3)
    assert pareto_nbd.expected_purchases_new(TRUTH, 30.0) == pytest.approx(new_x.mean(), rel=0.03)


def test_simulated_histories_are_consistent():
    T = np.random.default_rng(4).uniform(0, 50, 10_000)
    x, t_x, x_holdout = pareto_nbd.simulate(TRUTH, T, 10.0, seed=5)
    assert x.dtype.kind == x_holdout.dtype.kind == "i"
    assert (x >= 0).all() and (x_holdout >= 0).all()
    assert (t_x[x == 0] == 0).all() and ((t_x[x > 0] > 0) & (t_x[x > 0] <= T[x > 0])).all()
    assert np.array_equal(pareto_nbd.simulate(TRUTH, T, 10.0, seed=5)[0], x)


@pytest.mark.parametrize(
    "truth", [(0.8, 6.0, 1.5, 20.0), (0.8, 12.0, 1.5, 6.0)], ids=["alpha below beta", "alpha above beta"]
)
def test_fit_recovers_the_simulated_parameters(truth):
    rng = np.random.default_rng(6)
    T = rng.integers(1, 104 * 7, 50_000) / 7  # whole days in weeks, as the pipeline measures them
    x, t_x, _ = pareto_nbd.simulate(truth, T, 0.0, seed=7)
    t_x = np.round(t_x * 7) / 7
    fit = fit_purchases("pareto_nbd", x, t_x, T)
    assert fit.converged and fit.customers == 50_000
    for name, value in zip(pareto_nbd.PARAMS, truth, strict=True):
        error = fit.standard_errors[name]
        assert 0 < error < np.inf
        assert abs(fit.params[name] - value) < 3 * error
        assert fit.params[name] == pytest.approx(value, rel=0.15)
