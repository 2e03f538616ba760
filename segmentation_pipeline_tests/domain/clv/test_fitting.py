"""Maximum-likelihood fitting: grouping of identical histories, the weighted likelihood, the maximum itself, the
standard errors and the checks on the input."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation_pipeline.domain.clv import gamma_gamma
from segmentation_pipeline.domain.clv.fitting import PURCHASE_MODELS, PurchaseHistories, fit_purchases, fit_spend, group

PURCHASE_TRUTH = {"bg_nbd": (0.25, 4.0, 0.8, 2.5), "pareto_nbd": (0.55, 10.0, 0.6, 12.0)}
SPEND_TRUTH = (6.0, 4.0, 15.0)


def customers(model: str, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulated histories in weeks measured in whole days, so that many customers share one."""
    T = np.random.default_rng(seed).integers(1, 52 * 7, count) / 7
    x, t_x, _ = PURCHASE_MODELS[model].simulate(PURCHASE_TRUTH[model], T, 0.0, seed=seed + 1)
    return x, np.round(t_x * 7) / 7, T


def spends(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(seed).poisson(2.0, count)
    return x, np.round(gamma_gamma.simulate(SPEND_TRUTH, x, seed=seed + 1), 1)


def summed(module, *data: np.ndarray):
    """The total log-likelihood of the customers as a function of the parameters, from the customer-level one."""
    return lambda params: module.log_likelihood(params, *data).sum()


def observed_information(log_likelihood, params: np.ndarray) -> np.ndarray:
    """Minus the Hessian of a total log-likelihood from second differences of its values."""
    steps = 1e-3 * params
    information = np.empty((len(params), len(params)))
    for i, j in np.ndindex(information.shape):
        shift_i, shift_j = np.eye(len(params))[i] * steps[i], np.eye(len(params))[j] * steps[j]
        corners = [log_likelihood(params + a * shift_i + b * shift_j) * a * b for a in (1, -1) for b in (1, -1)]
        information[i, j] = -sum(corners) / (4 * steps[i] * steps[j])
    return information


def test_group_finds_distinct_rows_their_weights_and_each_rows_group():
    x, t = np.array([1, 1, 2, 1, 2]), np.array([0.5, 0.5, 0.5, 0.7, 0.5])
    groups = group((x, t), weight=np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    distinct_x, distinct_t = groups.values
    assert sorted(zip(distinct_x.tolist(), distinct_t.tolist(), groups.weight.tolist(), strict=True)) == [
        (1, 0.5, 3.0),
        (1, 0.7, 4.0),
        (2, 0.5, 8.0),
    ]
    assert np.array_equal(distinct_x[groups.index], x) and np.array_equal(distinct_t[groups.index], t)
    assert group((x,)).weight.tolist() == [3.0, 2.0]


def test_purchase_histories_are_grouped_by_history_and_by_pairs():
    x, t_x, T = customers("bg_nbd", 20_000)
    histories = PurchaseHistories.of(x, t_x, T)
    assert len(histories.rows.weight) < len(x) / 2 and histories.rows.weight.sum() == len(x)
    for groups, columns in ((histories.counts, (x,)), (histories.recency, (x, t_x)), (histories.age, (x, T))):
        assert groups.weight.sum() == len(x)
        gathered = [values[groups.index][histories.rows.index] for values in groups.values]
        assert all(np.array_equal(g, c) for g, c in zip(gathered, columns, strict=True))


@pytest.mark.parametrize("model", sorted(PURCHASE_MODELS))
def test_purchase_fit_is_the_maximum_of_the_customer_level_likelihood(model):
    x, t_x, T = customers(model, 20_000)
    fit = fit_purchases(model, x, t_x, T)
    module = PURCHASE_MODELS[model]
    params = np.array([fit.params[name] for name in module.PARAMS])
    total = module.log_likelihood(params, x, t_x, T).sum()
    assert fit.converged and fit.customers == len(x)
    assert fit.log_likelihood == pytest.approx(total, rel=1e-12, abs=0)
    for position, name in enumerate(module.PARAMS):
        shift = np.eye(len(params))[position] * 0.05 * fit.standard_errors[name]
        assert module.log_likelihood(params + shift, x, t_x, T).sum() < total
        assert module.log_likelihood(params - shift, x, t_x, T).sum() < total


def test_spend_fit_is_the_maximum_of_the_customer_level_likelihood_and_ignores_customers_without_repeats():
    x, m = spends(20_000)
    fit = fit_spend(x, m)
    repeat = x > 0
    params = np.array([fit.params[name] for name in gamma_gamma.PARAMS])
    total = gamma_gamma.log_likelihood(params, x[repeat], m[repeat]).sum()
    assert fit.converged and fit.customers == repeat.sum()
    assert fit.log_likelihood == pytest.approx(total, rel=1e-12, abs=0)
    for position, name in enumerate(gamma_gamma.PARAMS):
        shift = np.eye(len(params))[position] * 0.05 * fit.standard_errors[name]
        assert gamma_gamma.log_likelihood(params + shift, x[repeat], m[repeat]).sum() < total
        assert gamma_gamma.log_likelihood(params - shift, x[repeat], m[repeat]).sum() < total
    assert fit_spend(x[repeat], m[repeat]) == fit


@pytest.mark.parametrize("model", [*sorted(PURCHASE_MODELS), "gamma_gamma"])
def test_standard_errors_invert_the_observed_information(model):
    if model == "gamma_gamma":
        x, m = spends(3_000)
        fit = fit_spend(x, m)
        names, log_likelihood = gamma_gamma.PARAMS, summed(gamma_gamma, x[x > 0], m[x > 0])
    else:
        x, t_x, T = customers(model, 3_000)
        fit = fit_purchases(model, x, t_x, T)
        names, log_likelihood = PURCHASE_MODELS[model].PARAMS, summed(PURCHASE_MODELS[model], x, t_x, T)
    information = observed_information(log_likelihood, np.array([fit.params[name] for name in names]))
    errors = np.sqrt(np.diag(np.linalg.inv(information)))
    assert [fit.standard_errors[name] for name in names] == pytest.approx(errors, rel=1e-3)


def test_fits_are_deterministic():
    x, t_x, T = customers("pareto_nbd", 5_000)
    assert fit_purchases("pareto_nbd", x, t_x, T) == fit_purchases("pareto_nbd", x, t_x, T)


@pytest.mark.parametrize(
    ("x", "t_x", "T", "message"),
    [
        ([1, -1], [1.0, 0.0], [2.0, 2.0], "whole numbers"),
        ([1, 1.5], [1.0, 1.0], [2.0, 2.0], "whole numbers"),
        ([1, 1], [1.0, 3.0], [2.0, 2.0], "t_x"),
        ([1, 0], [1.0, 1.0], [2.0, 2.0], "t_x"),
        ([1, 0], [1.0, 0.0], [2.0, np.nan], "finite"),
        ([1, 0], [1.0, 0.0], [2.0], "length"),
        ([], [], [], "length"),
    ],
)
def test_purchase_fits_reject_impossible_histories(x, t_x, T, message):
    with pytest.raises(ValueError, match=message):
        fit_purchases("bg_nbd", np.array(x), np.array(t_x), np.array(T))


def test_unknown_models_and_spends_without_repeat_customers_are_rejected():
    with pytest.raises(ValueError, match="unknown"):
        fit_purchases("pareto", np.array([1]), np.array([1.0]), np.array([2.0]))
    with pytest.raises(ValueError, match="repeat"):
        fit_spend(np.array([0, 0]), np.array([np.nan, np.nan]))
    with pytest.raises(ValueError, match="positive"):
        fit_spend(np.array([1, 2]), np.array([10.0, 0.0]))
