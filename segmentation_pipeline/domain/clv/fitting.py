"""Maximum-likelihood fits of the purchase and spend models, with standard errors from the observed information.

Customers with the same history are one weighted row, and each term of a model's log-likelihood is computed once per
distinct value of what it depends on, then gathered: what makes a million customers fit in seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from types import ModuleType

import numpy as np
import pandas as pd
from scipy.optimize import OptimizeResult, minimize

from segmentation_pipeline.domain.clv import bgnbd, gamma_gamma, pareto_nbd

PURCHASE_MODELS: dict[str, ModuleType] = {"bg_nbd": bgnbd, "pareto_nbd": pareto_nbd}

LOG_PARAMETER_BOUND = 25.0
"""Parameters are searched between exp(-25) and exp(25): far beyond any sensible estimate, yet where all is finite."""
TERMS_RELATIVE_STEP = 1e-5
"""Relative step of the central differences for term derivatives without a closed form (Pareto/NBD's 2F1 terms)."""
RELATIVE_REDUCTION_TOLERANCE = 1e-12
"""The search stops when a step gains less than this share of the log-likelihood, or ..."""
GRADIENT_TOLERANCE = 1e-4
"""... when every derivative of the log-likelihood in the log-parameters is below this times the square root of the
number of customers: that leaves the estimates a small fraction of a standard error from the maximum (this tolerance
over the square root of a customer's information), however many customers."""
UNDEFINED_OBJECTIVE = 1e10
"""Minus the mean log-likelihood per customer where it cannot be evaluated (far out, SciPy's 2F1 fails): far above any
real value, so the line search steps back, yet small enough for its arithmetic (infinity would stop it)."""
HESSIAN_RELATIVE_STEP = 1e-4
"""Relative step of the central differences of the gradient that give the observed information."""
BLOCK_ROWS = 1 << 15
"""Row-level sums run over blocks of this many distinct histories: the allocator recycles temporaries that small,
while fresh whole-column temporaries are mapped page by page, several times slower."""

TotalAndGradient = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass(frozen=True)
class Fit:
    """A model fitted by maximum likelihood."""

    model: str
    """``bg_nbd``, ``pareto_nbd`` or ``gamma_gamma``."""
    params: dict[str, float]
    """Estimates, in the model's PARAMS order."""
    standard_errors: dict[str, float]
    """From the inverse of the observed information at the estimates; NaN where it cannot be inverted."""
    log_likelihood: float
    """Total over the customers."""
    customers: int
    converged: bool
    message: str
    """The optimiser's closing message."""


@dataclass(frozen=True)
class Groups:
    """The distinct rows of some columns: their values, which of them each input row is, and the weight of each."""

    values: tuple[np.ndarray, ...]
    index: np.ndarray
    weight: np.ndarray


def group(columns: tuple[np.ndarray, ...], weight: np.ndarray | None = None) -> Groups:
    """Distinct rows of the columns, weighted by the number (or total weight) of input rows equal to each."""
    codes = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        column_codes, distinct = pd.factorize(column)
        codes, _ = pd.factorize(codes * len(distinct) + column_codes)
    size = int(codes.max()) + 1
    representative = np.empty(size, dtype=np.int64)
    representative[codes] = np.arange(len(codes))
    weights = np.bincount(codes, weights=weight, minlength=size).astype(np.float64)
    return Groups(tuple(column[representative] for column in columns), codes, weights)


@dataclass(frozen=True)
class PurchaseHistories:
    """Customers grouped by identical (x, t_x, T), and the distinct x, (x, t_x) and (x, T) among the groups.

    A purchase model's log-likelihood is its count terms in x plus the log-sum of its age terms in (x, T) and its
    recency terms in (x, t_x), so each is computed once per distinct value.
    """

    rows: Groups
    counts: Groups
    recency: Groups
    age: Groups

    @classmethod
    def of(cls, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> PurchaseHistories:
        rows = group((x, t_x, T))
        x, t_x, T = rows.values
        return cls(rows, group((x,), rows.weight), group((x, t_x), rows.weight), group((x, T), rows.weight))


@dataclass(frozen=True)
class SpendHistories:
    """Customers with repeat purchases grouped by identical (x, m), and the distinct x among the groups."""

    rows: Groups
    counts: Groups

    @classmethod
    def of(cls, x: np.ndarray, m: np.ndarray) -> SpendHistories:
        rows = group((x, m))
        return cls(rows, group(rows.values[:1], rows.weight))


def _central_differences(
    function: Callable[[np.ndarray], np.ndarray], params: np.ndarray, relative_step: float
) -> np.ndarray:
    """Derivatives of a (vector) function of the parameters by central differences, one row per parameter."""
    rows = []
    for position, step in enumerate(relative_step * params):
        shift = np.zeros_like(params)
        shift[position] = step
        rows.append((function(params + shift) - function(params - shift)) / (2 * step))
    return np.stack(rows)


def _terms_gradient(module: ModuleType, terms: str, params: np.ndarray, *data: np.ndarray) -> np.ndarray:
    """Derivatives of a model's terms in its parameters: in closed form when the model has them, else numerical."""
    closed_form = getattr(module, f"{terms}_gradient", None)
    if closed_form is not None:
        return closed_form(params, *data)
    return _central_differences(lambda shifted: getattr(module, terms)(shifted, *data), params, TERMS_RELATIVE_STEP)


def _blocks(size: int) -> Iterator[slice]:
    """Consecutive slices of BLOCK_ROWS rows covering size rows."""
    return (slice(start, start + BLOCK_ROWS) for start in range(0, size, BLOCK_ROWS))


def _weighted_sum(values: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Sum over the last axis of values times weight (einsum: BLAS threads are slower for such vectors)."""
    return np.einsum("...i,i->...", values, weight)


def _log_sum_and_share(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log(exp(first) + exp(second)), and the share of exp(second) in that sum, without overflow."""
    difference = second - first
    smaller_over_larger = np.exp(-np.abs(difference))
    larger_share_inverse = 1 + smaller_over_larger
    log_sum = np.maximum(first, second) + np.log(larger_share_inverse)
    return log_sum, np.exp(np.minimum(difference, 0.0)) / larger_share_inverse


def _purchase_total(module: ModuleType, histories: PurchaseHistories, params: np.ndarray) -> tuple[float, np.ndarray]:
    """Total log-likelihood of the grouped customers under a purchase model, and its gradient."""
    rows, counts, age, recency = histories.rows, histories.counts, histories.age, histories.recency
    age_terms = module.age_terms(params, *age.values)
    recency_terms = module.recency_terms(params, *recency.values)
    total = _weighted_sum(module.count_terms(params, *counts.values), counts.weight)
    recency_weight = np.empty_like(rows.weight)
    for block in _blocks(len(rows.weight)):
        log_sum, recency_share = _log_sum_and_share(age_terms[age.index[block]], recency_terms[recency.index[block]])
        total += _weighted_sum(log_sum, rows.weight[block])
        np.multiply(recency_share, rows.weight[block], out=recency_weight[block])
    age_weight = np.bincount(age.index, rows.weight - recency_weight, minlength=len(age.weight))
    gradient = (
        _weighted_sum(_terms_gradient(module, "count_terms", params, *counts.values), counts.weight)
        + _weighted_sum(_terms_gradient(module, "age_terms", params, *age.values), age_weight)
        + _weighted_sum(
            _terms_gradient(module, "recency_terms", params, *recency.values),
            np.bincount(recency.index, recency_weight, minlength=len(recency.weight)),
        )
    )
    return float(total), gradient


def _spend_total(histories: SpendHistories, params: np.ndarray) -> tuple[float, np.ndarray]:
    """Total log-likelihood of the grouped customers under Gamma-Gamma, and its gradient."""
    rows, counts = histories.rows, histories.counts
    total = _weighted_sum(gamma_gamma.count_terms(params, *counts.values), counts.weight)
    gradient = _weighted_sum(gamma_gamma.count_terms_gradient(params, *counts.values), counts.weight)
    for block in _blocks(len(rows.weight)):
        x, m = (column[block] for column in rows.values)
        total += _weighted_sum(gamma_gamma.spend_terms(params, x, m), rows.weight[block])
        gradient += _weighted_sum(gamma_gamma.spend_terms_gradient(params, x, m), rows.weight[block])
    return float(total), gradient


def _maximise(
    total_and_gradient: TotalAndGradient, start: np.ndarray, customers: int
) -> tuple[np.ndarray, OptimizeResult]:
    """The maximum-likelihood parameters, searched on the log scale, and the optimiser's result.

    The objective is the mean log-likelihood per customer, so that the first, steepest-descent, step of L-BFGS-B
    stays of the order of the parameters.
    """

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        total, gradient = total_and_gradient(params)
        if not np.isfinite(total):
            return UNDEFINED_OBJECTIVE, np.zeros_like(params)
        return -total / customers, -gradient * params / customers

    result = minimize(
        objective,
        np.log(start),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-LOG_PARAMETER_BOUND, LOG_PARAMETER_BOUND)] * len(start),
        options={"ftol": RELATIVE_REDUCTION_TOLERANCE, "gtol": GRADIENT_TOLERANCE / np.sqrt(customers)},
    )
    return np.exp(result.x), result


def _standard_errors(total_and_gradient: TotalAndGradient, params: np.ndarray) -> np.ndarray:
    """Square roots of the diagonal of the inverse observed information (Hessian of minus the total log-likelihood)."""
    hessian = _central_differences(lambda shifted: total_and_gradient(shifted)[1], params, HESSIAN_RELATIVE_STEP)
    information = -(hessian + hessian.T) / 2
    try:
        variances = np.diag(np.linalg.inv(information))
    except np.linalg.LinAlgError:
        return np.full(len(params), np.nan)
    return np.sqrt(np.where(variances > 0, variances, np.nan))


def _fit(
    model: str, names: tuple[str, ...], total_and_gradient: TotalAndGradient, start: np.ndarray, customers: int
) -> Fit:
    params, result = _maximise(total_and_gradient, start, customers)
    errors = _standard_errors(total_and_gradient, params)
    return Fit(
        model=model,
        params={name: float(value) for name, value in zip(names, params, strict=True)},
        standard_errors={name: float(value) for name, value in zip(names, errors, strict=True)},
        log_likelihood=total_and_gradient(params)[0],
        customers=customers,
        converged=bool(result.success),
        message=str(result.message),
    )


def _check_counts(x: np.ndarray) -> None:
    if not np.isfinite(x).all() or (x < 0).any() or (x != np.round(x)).any():
        raise ValueError("x must be whole numbers of repeat purchases")


def fit_purchases(model: str, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> Fit:
    """The purchase model (``bg_nbd`` or ``pareto_nbd``) fitted to customers' repeat purchases x, time of the last
    t_x (0 without repeat purchases) and time observed T."""
    if model not in PURCHASE_MODELS:
        raise ValueError(f"unknown purchase model {model!r}; expected one of {sorted(PURCHASE_MODELS)}")
    x, t_x, T = (np.asarray(v, dtype=np.float64).ravel() for v in (x, t_x, T))
    if not len(x) == len(t_x) == len(T) or len(x) == 0:
        raise ValueError("x, t_x and T must be non-empty and of the same length")
    if not (np.isfinite(t_x).all() and np.isfinite(T).all()):
        raise ValueError("t_x and T must be finite")
    _check_counts(x)
    if (t_x < 0).any() or (t_x > T).any() or (t_x[x == 0] != 0).any():
        raise ValueError("t_x must lie in [0, T], and be 0 without repeat purchases")
    module = PURCHASE_MODELS[model]
    histories = PurchaseHistories.of(x, t_x, T)
    total_and_gradient = partial(_purchase_total, module, histories)
    return _fit(model, module.PARAMS, total_and_gradient, np.ones(len(module.PARAMS)), len(x))


def fit_spend(x: np.ndarray, m: np.ndarray) -> Fit:
    """Gamma-Gamma fitted to the mean spend m of the customers with repeat purchases (x > 0); the others are ignored."""
    x, m = (np.asarray(v, dtype=np.float64).ravel() for v in (x, m))
    if len(x) != len(m):
        raise ValueError("x and m must be of the same length")
    _check_counts(x)
    repeat = x > 0
    x, m = x[repeat], m[repeat]
    if len(x) == 0:
        raise ValueError("no customer with repeat purchases to fit spend on")
    if not np.isfinite(m).all() or (m <= 0).any():
        raise ValueError("mean spends of customers with repeat purchases must be finite and positive")
    histories = SpendHistories.of(x, m)
    total_and_gradient = partial(_spend_total, histories)
    start = np.array([1.0, 2.0, np.mean(m)])
    return _fit("gamma_gamma", gamma_gamma.PARAMS, total_and_gradient, start, len(x))
