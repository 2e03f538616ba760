"""A/B-test statistics for marketing campaigns: how much an offer lifts conversion and revenue per exposed customer
against the control group, how sure we are, whether the groups were split as planned and what an experiment can detect.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

_NAN = float("nan")


@dataclass(frozen=True)
class Effect:
    """Lift of a variant over control; intervals at the requested confidence, NaN where undefined."""

    estimate: float
    low: float
    high: float
    relative: float
    relative_low: float
    relative_high: float
    p_value: float


_UNDEFINED = Effect(_NAN, _NAN, _NAN, _NAN, _NAN, _NAN, _NAN)


def _normal_quantile(confidence: float) -> float:
    """The two-sided standard normal critical value, 1.96 for 95%."""
    from scipy import stats

    return float(stats.norm.ppf(0.5 + confidence / 2))


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Interval for a conversion rate: the Wilson (1927) score interval; (NaN, NaN) when nobody was exposed."""
    if n <= 0:
        return _NAN, _NAN
    z = _normal_quantile(confidence)
    rate = successes / n
    centre = 2 * n * rate + z**2
    half_width = z * math.sqrt(z**2 + 4 * n * rate * (1 - rate))
    denominator = 2 * (n + z**2)
    return max(0.0, (centre - half_width) / denominator), min(1.0, (centre + half_width) / denominator)


def rate_difference(
    treated_successes: int, treated_n: int, control_successes: int, control_n: int, confidence: float = 0.95
) -> Effect:
    """Conversion-rate lift of a variant over control.

    Absolute difference with the Newcombe (1998) hybrid score interval (method 10, built from the two Wilson
    intervals); p-value of the pooled two-proportion z test (the Pearson chi-square test without continuity
    correction). Relative lift p1/p0 - 1 with the Katz et al. (1978) log risk-ratio interval.
    All NaN when an arm is empty; the relative lift is NaN without control conversions and its interval is NaN
    without conversions in either arm; the p-value is NaN when nobody or everybody converted.
    """
    from scipy import stats

    if treated_n <= 0 or control_n <= 0:
        return _UNDEFINED
    z = _normal_quantile(confidence)
    treated_rate, control_rate = treated_successes / treated_n, control_successes / control_n
    difference = treated_rate - control_rate
    treated_low, treated_high = wilson_interval(treated_successes, treated_n, confidence)
    control_low, control_high = wilson_interval(control_successes, control_n, confidence)
    low = difference - math.hypot(treated_rate - treated_low, control_high - control_rate)
    high = difference + math.hypot(treated_high - treated_rate, control_rate - control_low)

    pooled = (treated_successes + control_successes) / (treated_n + control_n)
    p_value = _NAN
    if 0 < pooled < 1:
        standard_error = math.sqrt(pooled * (1 - pooled) * (1 / treated_n + 1 / control_n))
        p_value = float(2 * stats.norm.sf(abs(difference) / standard_error))

    relative = relative_low = relative_high = _NAN
    if control_successes > 0:
        relative = treated_rate / control_rate - 1
    if treated_successes > 0 and control_successes > 0:
        log_se = math.sqrt(1 / treated_successes - 1 / treated_n + 1 / control_successes - 1 / control_n)
        margin = z * log_se
        relative_low = math.exp(math.log1p(relative) - margin) - 1
        relative_high = math.exp(math.log1p(relative) + margin) - 1
    return Effect(difference, low, high, relative, relative_low, relative_high, p_value)


def mean_difference(treated: np.ndarray, control: np.ndarray, confidence: float = 0.95) -> Effect:
    """Lift in revenue per exposed customer (zeros included) of a variant over control.

    Absolute difference of means with the Welch (1947) t interval and p-value, which needs no equal variances and,
    by the central limit theorem, no normality: it suits zero-inflated, heavy-tailed spend at campaign sizes.
    Relative lift mean1/mean0 - 1 with a delta-method normal interval on the ratio of independent means.
    All NaN when an arm is empty; intervals and p-value NaN when an arm has fewer than two customers or revenue
    does not vary (e.g. all zero); the relative lift is NaN when control revenue is zero.
    """
    from scipy import stats

    treated, control = np.asarray(treated, dtype=np.float64), np.asarray(control, dtype=np.float64)
    if treated.size == 0 or control.size == 0:
        return _UNDEFINED
    treated_mean, control_mean = float(treated.mean()), float(control.mean())
    difference = treated_mean - control_mean
    relative = difference / control_mean if control_mean != 0 else _NAN
    if treated.size < 2 or control.size < 2:
        return Effect(difference, _NAN, _NAN, relative, _NAN, _NAN, _NAN)
    treated_var = float(treated.var(ddof=1)) / treated.size
    control_var = float(control.var(ddof=1)) / control.size
    standard_error = math.sqrt(treated_var + control_var)
    if standard_error == 0:
        return Effect(difference, _NAN, _NAN, relative, _NAN, _NAN, _NAN)

    df = (treated_var + control_var) ** 2 / (treated_var**2 / (treated.size - 1) + control_var**2 / (control.size - 1))
    margin = float(stats.t.ppf(0.5 + confidence / 2, df)) * standard_error
    p_value = float(2 * stats.t.sf(abs(difference) / standard_error, df))

    relative_low = relative_high = _NAN
    if control_mean != 0:
        ratio = treated_mean / control_mean
        relative_se = math.sqrt(treated_var + ratio**2 * control_var) / abs(control_mean)
        relative_margin = _normal_quantile(confidence) * relative_se
        relative_low, relative_high = relative - relative_margin, relative + relative_margin
    return Effect(difference, difference - margin, difference + margin, relative, relative_low, relative_high, p_value)


def _adjust(p_values: np.ndarray, step: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Applies a step-wise correction to the sorted non-missing p-values and puts them back in place."""
    p_values = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full(p_values.shape, _NAN)
    present = ~np.isnan(p_values)
    values = p_values[present]
    order = np.argsort(values, kind="stable")
    corrected = np.empty(values.size)
    corrected[order] = np.minimum(step(values[order]), 1.0)
    adjusted[present] = corrected
    return adjusted


def holm(p_values: np.ndarray) -> np.ndarray:
    """Family-wise error adjusted p-values across segment cuts: Holm (1979) step-down; NaN stays NaN, not counted."""

    def step(ascending: np.ndarray) -> np.ndarray:
        return np.maximum.accumulate((ascending.size - np.arange(ascending.size)) * ascending)

    return _adjust(p_values, step)


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """False-discovery-rate adjusted p-values across segment cuts: Benjamini & Hochberg (1995) step-up, monotone in
    the raw p-values; NaN stays NaN, not counted."""

    def step(ascending: np.ndarray) -> np.ndarray:
        scaled = ascending * ascending.size / np.arange(1, ascending.size + 1)
        return np.minimum.accumulate(scaled[::-1])[::-1]

    return _adjust(p_values, step)


def sample_ratio_mismatch(counts: Mapping[str, int], planned: Mapping[str, float] | None = None) -> tuple[float, float]:
    """Whether customers reached the variants in the planned proportions: Pearson chi-square statistic and p-value
    of the counts per variant against the planned shares (normalised to sum to one; equal shares when None).
    A tiny p-value (commonly < 0.001) means the assignment or logging is broken and the lift cannot be trusted.
    (NaN, NaN) with fewer than two variants or no customers; planned shares must be positive and name the same
    variants as the counts.
    """
    from scipy import stats

    variants = list(counts)
    if planned is None:
        planned = dict.fromkeys(variants, 1.0)
    if set(planned) != set(variants) or any(share <= 0 for share in planned.values()):
        raise ValueError(f"planned shares {dict(planned)} must be positive for exactly the variants {variants}")
    observed = np.array([counts[v] for v in variants], dtype=np.float64)
    shares = np.array([planned[v] for v in variants], dtype=np.float64)
    if len(variants) < 2 or observed.sum() == 0:
        return _NAN, _NAN
    expected = observed.sum() * shares / shares.sum()
    statistic = float(((observed - expected) ** 2 / expected).sum())
    return statistic, float(stats.chi2.sf(statistic, len(variants) - 1))


def minimum_detectable_rate_lift(
    control_rate: float, treated_n: int, control_n: int, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Smallest increase in conversion rate (absolute, treated minus control) that the two-sided pooled z test of
    `rate_difference` detects with the given power at these sample sizes.

    Solves power = Phi((d - z_alpha * se_pooled(d)) / se(d)) for d (Fleiss, Levin & Paik 2003, chapter 4), with the
    variance under the null at the pooled rate and under the alternative at the two rates; the chance of a
    significant result in the wrong direction is neglected. NaN for an empty arm, a control rate outside (0, 1) or
    when even a treated rate of 100% would not reach the power.
    """
    from scipy import optimize, stats

    if treated_n <= 0 or control_n <= 0 or not 0 < control_rate < 1:
        return _NAN
    z_alpha = float(stats.norm.ppf(1 - alpha / 2))
    target = float(stats.norm.ppf(power))

    def shortfall(lift: float) -> float:
        treated_rate = control_rate + lift
        pooled = (treated_n * treated_rate + control_n * control_rate) / (treated_n + control_n)
        null_se = math.sqrt(pooled * (1 - pooled) * (1 / treated_n + 1 / control_n))
        se = math.sqrt(treated_rate * (1 - treated_rate) / treated_n + control_rate * (1 - control_rate) / control_n)
        return (lift - z_alpha * null_se) / se - target

    largest = 1 - control_rate
    if shortfall(largest) < 0:
        return _NAN
    return float(optimize.brentq(shortfall, 0.0, largest, xtol=1e-12))


def minimum_detectable_mean_lift(
    treated_sd: float, control_sd: float, treated_n: int, control_n: int, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Smallest difference in revenue per exposed customer that the two-sided Welch test detects with the given
    power: (z_alpha/2 + z_power) * sqrt(sd1^2/n1 + sd0^2/n0), the normal approximation (Chow, Shao & Wang 2008,
    chapter 3). NaN for an empty arm."""
    from scipy import stats

    if treated_n <= 0 or control_n <= 0:
        return _NAN
    multiplier = float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))
    return multiplier * math.sqrt(treated_sd**2 / treated_n + control_sd**2 / control_n)


@dataclass(frozen=True)
class Cuped:
    """Outcome adjusted for pre-exposure behaviour: same mean per arm in expectation, smaller variance."""

    adjusted: np.ndarray
    theta: float
    variance_reduction: float


def cuped(outcome: np.ndarray, covariate: np.ndarray) -> Cuped:
    """Revenue adjusted for pre-exposure spend, CUPED (Deng, Xu, Kohavi & Walker 2013).

    theta = cov(outcome, covariate) / var(covariate) over all customers of the experiment pooled (treated and control
    together, so the adjustment does not depend on the assignment); adjusted = outcome - theta * (covariate - its
    mean), in input order. Comparing arms on the adjusted outcome estimates the same lift with less variance; the
    pooled variance reduction is the squared correlation. theta is 0 (no adjustment) when the covariate does not
    vary; the reduction is NaN when the outcome does not vary or there are fewer than two customers.
    """
    outcome, covariate = np.asarray(outcome, dtype=np.float64), np.asarray(covariate, dtype=np.float64)
    if outcome.shape != covariate.shape:
        raise ValueError(f"outcome {outcome.shape} and covariate {covariate.shape} must have the same shape")
    if outcome.size < 2:
        return Cuped(outcome.copy(), 0.0, _NAN)
    centred = covariate - covariate.mean()
    spread = float(centred @ centred)
    theta = float(centred @ (outcome - outcome.mean())) / spread if spread > 0 else 0.0
    adjusted = outcome - theta * centred
    outcome_var = float(outcome.var())
    reduction = 1 - float(adjusted.var()) / outcome_var if outcome_var > 0 else _NAN
    return Cuped(adjusted, theta, reduction)
