"""BG/NBD: likelihood and predictions against numerical integration of the individual-level model, simulation,
parameter recovery and the direction of predictions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from segmentation_pipeline.domain.clv import bgnbd
from segmentation_pipeline.domain.clv.fitting import fit_purchases

TRUTH = (0.25, 4.0, 0.8, 2.5)
CUSTOMERS = (np.array([0, 1, 4]), np.array([0.0, 3.5, 20.0]), np.array([10.0, 12.0, 30.0]))


def gamma_as_power(shape: float, rate: float):
    """A Gamma(shape, rate) variable as u ** (1 / shape), and the density of u on (0, inf), which unlike the Gamma
    density has no singularity at 0: integrating over u is integrating over the Gamma distribution."""
    return (
        lambda u: u ** (1 / shape),
        lambda u: math.exp(shape * math.log(rate) - rate * u ** (1 / shape) - math.lgamma(shape + 1)),
    )


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


def test_thousands_of_purchases_and_long_histories_stay_finite():
    x, t_x, T = np.array([2000, 2000, 0, 1]), np.array([9999.0, 10.0, 0.0, 1e5]), np.array([1e4, 1e4, 1e6, 1e6])
    assert np.isfinite(bgnbd.log_likelihood(TRUTH, x, t_x, T)).all()
    alive = bgnbd.probability_alive(TRUTH, x, t_x, T)
    assert ((alive >= 0) & (alive <= 1)).all()
    assert alive[0] > 0.99 and alive[1] < 1e-6
    expected = bgnbd.expected_purchases(TRUTH, 52.0, x, t_x, T)
    assert np.isfinite(expected).all() and (expected >= 0).all()


def test_without_repeat_purchases_a_customer_is_alive():
    T = np.array([0.5, 10.0, 500.0])
    assert bgnbd.probability_alive(TRUTH, np.zeros(3), np.zeros(3), T) == pytest.approx(np.ones(3))


def test_more_purchases_and_more_recent_ones_mean_more_expected_purchases():
    frequent = bgnbd.expected_purchases(TRUTH, 26.0, np.array([1, 3, 10]), np.full(3, 45.0), np.full(3, 50.0))
    assert np.all(np.diff(frequent) > 0)
    t_x = np.array([5.0, 20.0, 45.0])
    alive = bgnbd.probability_alive(TRUTH, np.full(3, 4), t_x, np.full(3, 50.0))
    recent = bgnbd.expected_purchases(TRUTH, 26.0, np.full(3, 4), t_x, np.full(3, 50.0))
    assert np.all(np.diff(alive) > 0) and np.all(np.diff(recent) > 0)


def test_expected_purchases_match_simulated_holdout_and_new_customers():
    T = np.random.default_rng(1).uniform(10, 60, 200_000)
    x, t_x, x_holdout = bgnbd.simulate(TRUTH, T, 26.0, seed=2)
    assert bgnbd.expected_purchases(TRUTH, 26.0, x, t_x, T).sum() == pytest.approx(x_holdout.sum(), rel=0.03)
    for count in (0, 1, 3):
        customers = x == count
        predicted = bgnbd.expected_purchases(TRUTH, 26.0, x[customers], t_x[customers], T[customers]).sum()
        assert predicted == pytest.approx(x_holdout[customers].sum(), rel=0.05)
    new_x, _, _ = bgnbd.simulate(TRUTH, np.full(200_000, 30.0), 0.0, seed=3)
    assert bgnbd.expected_purchases_new(TRUTH, 30.0) == pytest.approx(new_x.mean(), rel=0.03)


def test_simulated_histories_are_consistent():
    T = np.random.default_rng(4).uniform(0, 50, 10_000)
    x, t_x, x_holdout = bgnbd.simulate(TRUTH, T, 10.0, seed=5)
    assert x.dtype.kind == x_holdout.dtype.kind == "i"
    assert (x >= 0).all() and (x_holdout >= 0).all()
    assert (t_x[x == 0] == 0).all() and ((t_x[x > 0] > 0) & (t_x[x > 0] <= T[x > 0])).all()
    assert np.array_equal(bgnbd.simulate(TRUTH, T, 10.0, seed=5)[0], x)


def test_fit_recovers_the_simulated_parameters():
    rng = np.random.default_rng(6)
    T = rng.integers(1, 104 * 7, 50_000) / 7  # whole days in weeks, as the pipeline measures them
    x, t_x, _ = bgnbd.simulate(TRUTH, T, 0.0, seed=7)
    t_x = np.round(t_x * 7) / 7
    fit = fit_purchases("bg_nbd", x, t_x, T)
    assert fit.converged and fit.customers == 50_000
    for name, truth in zip(bgnbd.PARAMS, TRUTH, strict=True):
        error = fit.standard_errors[name]
        assert 0 < error < np.inf
        assert abs(fit.params[name] - truth) < 3 * error
        assert fit.params[name] == pytest.approx(truth, rel=0.15)
