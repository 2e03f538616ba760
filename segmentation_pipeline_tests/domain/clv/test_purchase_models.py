"""What both purchase models must do: stay finite on extreme histories, predict more for more and more recent
purchases, match simulated holdouts, simulate consistent histories and recover the parameters they simulate from."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation_pipeline.domain.clv.fitting import PURCHASE_MODELS, fit_purchases

TRUTHS = {"bg_nbd": (0.25, 4.0, 0.8, 2.5), "pareto_nbd": (0.55, 10.0, 0.6, 12.0)}
EXTREMES = {
    "bg_nbd": [TRUTHS["bg_nbd"]],
    "pareto_nbd": [TRUTHS["pareto_nbd"], (0.5, 100.0, 0.7, 0.01), (0.5, 0.01, 0.7, 100.0)],
}
RECOVERED = [
    ("bg_nbd", TRUTHS["bg_nbd"]),
    ("pareto_nbd", (0.8, 6.0, 1.5, 20.0)),  # alpha below beta
    ("pareto_nbd", (0.8, 12.0, 1.5, 6.0)),  # alpha above beta
]


@pytest.mark.parametrize("name", PURCHASE_MODELS)
def test_thousands_of_purchases_and_long_histories_stay_finite(name):
    model = PURCHASE_MODELS[name]
    x, t_x, T = np.array([2000, 2000, 0, 1]), np.array([9999.0, 10.0, 0.0, 1e5]), np.array([1e4, 1e4, 1e6, 1e6])
    for params in EXTREMES[name]:
        assert np.isfinite(model.log_likelihood(params, x, t_x, T)).all()
        alive = model.probability_alive(params, x, t_x, T)
        assert ((alive >= 0) & (alive <= 1)).all()
        assert alive[0] > 0.99 and alive[1] < 1e-6
        expected = model.expected_purchases(params, 52.0, x, t_x, T)
        assert np.isfinite(expected).all() and (expected >= 0).all()


@pytest.mark.parametrize("name", PURCHASE_MODELS)
def test_more_purchases_and_more_recent_ones_mean_more_expected_purchases(name):
    model, truth = PURCHASE_MODELS[name], TRUTHS[name]
    frequent = model.expected_purchases(truth, 26.0, np.array([1, 3, 10]), np.full(3, 45.0), np.full(3, 50.0))
    assert np.all(np.diff(frequent) > 0)
    t_x = np.array([5.0, 20.0, 45.0])
    alive = model.probability_alive(truth, np.full(3, 4), t_x, np.full(3, 50.0))
    recent = model.expected_purchases(truth, 26.0, np.full(3, 4), t_x, np.full(3, 50.0))
    assert np.all(np.diff(alive) > 0) and np.all(np.diff(recent) > 0)


@pytest.mark.parametrize("name", PURCHASE_MODELS)
def test_expected_purchases_match_simulated_holdout_and_new_customers(name):
    model, truth = PURCHASE_MODELS[name], TRUTHS[name]
    T = np.random.default_rng(1).uniform(10, 60, 200_000)
    x, t_x, x_holdout = model.simulate(truth, T, 26.0, seed=2)
    assert model.expected_purchases(truth, 26.0, x, t_x, T).sum() == pytest.approx(x_holdout.sum(), rel=0.03)
    for count in (0, 1, 3):
        customers = x == count
        predicted = model.expected_purchases(truth, 26.0, x[customers], t_x[customers], T[customers]).sum()
        assert predicted == pytest.approx(x_holdout[customers].sum(), rel=0.05)
    new_x, _, _ = model.simulate(truth, np.full(200_000, 30.0), 0.0, seed=3)
    assert model.expected_purchases_new(truth, 30.0) == pytest.approx(new_x.mean(), rel=0.03)


@pytest.mark.parametrize("name", PURCHASE_MODELS)
def test_simulated_histories_are_consistent(name):
    model, truth = PURCHASE_MODELS[name], TRUTHS[name]
    T = np.random.default_rng(4).uniform(0, 50, 10_000)
    x, t_x, x_holdout = model.simulate(truth, T, 10.0, seed=5)
    assert x.dtype.kind == x_holdout.dtype.kind == "i"
    assert (x >= 0).all() and (x_holdout >= 0).all()
    assert (t_x[x == 0] == 0).all() and ((t_x[x > 0] > 0) & (t_x[x > 0] <= T[x > 0])).all()
    assert np.array_equal(model.simulate(truth, T, 10.0, seed=5)[0], x)


@pytest.mark.parametrize(("name", "truth"), RECOVERED)
def test_fit_recovers_the_simulated_parameters(name, truth):
    model = PURCHASE_MODELS[name]
    rng = np.random.default_rng(6)
    T = rng.integers(1, 104 * 7, 50_000) / 7  # whole days in weeks, as the pipeline measures them
    x, t_x, _ = model.simulate(truth, T, 0.0, seed=7)
    t_x = np.round(t_x * 7) / 7
    fit = fit_purchases(name, x, t_x, T)
    assert fit.converged and fit.customers == 50_000
    for parameter, value in zip(model.PARAMS, truth, strict=True):
        error = fit.standard_errors[parameter]
        assert 0 < error < np.inf
        assert abs(fit.params[parameter] - value) < 3 * error
        assert fit.params[parameter] == pytest.approx(value, rel=0.15)
