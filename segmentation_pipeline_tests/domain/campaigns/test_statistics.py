"""A/B statistics: coverage of the intervals by simulation, published and SciPy reference values, multiple-testing
corrections by hand, sample-ratio mismatch, power at the minimum detectable effect, CUPED and the edge cases."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.stats.contingency import relative_risk

from segmentation_pipeline.domain.campaigns.statistics import (
    benjamini_hochberg,
    cuped,
    holm,
    mean_difference,
    minimum_detectable_mean_lift,
    minimum_detectable_rate_lift,
    rate_difference,
    sample_ratio_mismatch,
    wilson_interval,
)

SIMULATIONS = 2000

SPEND_MU, SPEND_SIGMA = 3.0, 1.2
"""Spend of a converting customer is lognormal: median 20, mean 41, long right tail."""


def zero_inflated_spend(rng: np.random.Generator, conversion: float, shape: tuple[int, ...]) -> np.ndarray:
    """Revenue per exposed customer: zero unless they converted, lognormal spend when they did."""
    converted = rng.random(shape) < conversion
    return np.where(converted, rng.lognormal(SPEND_MU, SPEND_SIGMA, shape), 0.0)


def spend_moments(conversion: float) -> tuple[float, float]:
    """Mean and standard deviation of zero-inflated spend."""
    mean = math.exp(SPEND_MU + SPEND_SIGMA**2 / 2)
    second = math.exp(2 * SPEND_MU + 2 * SPEND_SIGMA**2)
    return conversion * mean, math.sqrt(conversion * second - (conversion * mean) ** 2)


def covers(effects: list, truth: float, relative: bool = False) -> float:
    if relative:
        return float(np.mean([e.relative_low <= truth <= e.relative_high for e in effects]))
    return float(np.mean([e.low <= truth <= e.high for e in effects]))


def test_rate_intervals_cover_the_true_lift_95_percent_of_the_time():
    rng = np.random.default_rng(20240601)
    n, control_rate, treated_rate = 2000, 0.05, 0.06
    treated = rng.binomial(n, treated_rate, SIMULATIONS)
    control = rng.binomial(n, control_rate, SIMULATIONS)
    effects = [rate_difference(int(t), n, int(c), n) for t, c in zip(treated, control)]
    assert 0.93 <= covers(effects, treated_rate - control_rate) <= 0.97
    assert 0.93 <= covers(effects, treated_rate / control_rate - 1, relative=True) <= 0.97


def test_revenue_intervals_cover_the_true_lift_95_percent_of_the_time():
    """90% of customers spend nothing; the offer raises conversion from 10% to 12% at the same spend per buyer."""
    rng = np.random.default_rng(20240602)
    n = 3000
    treated = zero_inflated_spend(rng, 0.12, (SIMULATIONS, n))
    control = zero_inflated_spend(rng, 0.10, (SIMULATIONS, n))
    treated_mean, control_mean = spend_moments(0.12)[0], spend_moments(0.10)[0]
    effects = [mean_difference(t, c) for t, c in zip(treated, control)]
    assert 0.93 <= covers(effects, treated_mean - control_mean) <= 0.97
    assert 0.93 <= covers(effects, treated_mean / control_mean - 1, relative=True) <= 0.97


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_interval_matches_newcombe_1998_single_proportion_examples(successes, n, low, high):
    assert wilson_interval(successes, n) == pytest.approx((low, high), abs=5e-5)


@pytest.mark.parametrize(("successes", "n"), [(0, 5), (3, 5), (5, 5), (37, 1000), (999, 1000)])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_interval_matches_scipy(successes, n, confidence):
    reference = stats.binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    assert wilson_interval(successes, n, confidence) == pytest.approx((reference.low, reference.high), abs=1e-12)


@pytest.mark.parametrize(
    ("treated", "control", "difference", "low", "high"),
    [
        ((56, 70), (48, 80), 0.2, 0.0524, 0.3339),
        ((9, 10), (3, 10), 0.6, 0.1705, 0.8090),
        ((0, 10), (0, 20), 0.0, -0.1611, 0.2775),
        ((0, 10), (0, 10), 0.0, -0.2775, 0.2775),
        ((10, 10), (0, 20), 1.0, 0.6791, 1.0),
        ((10, 10), (0, 10), 1.0, 0.6075, 1.0),
    ],
)
def test_rate_difference_matches_newcombe_1998_table_ii_method_10(treated, control, difference, low, high):
    effect = rate_difference(*treated, *control)
    assert effect.estimate == pytest.approx(difference, abs=1e-12)
    assert (effect.low, effect.high) == pytest.approx((low, high), abs=5e-5)


@pytest.mark.parametrize(
    ("treated", "control"),
    [((56, 70), (48, 80)), ((130, 2000), (100, 2000)), ((7, 400), (19, 380)), ((0, 50), (4, 60))],
)
def test_rate_difference_p_value_is_the_chi_square_test_and_the_relative_lift_the_katz_interval(treated, control):
    (x1, n1), (x0, n0) = treated, control
    effect = rate_difference(x1, n1, x0, n0)
    table = np.array([[x1, n1 - x1], [x0, n0 - x0]])
    assert effect.p_value == pytest.approx(stats.chi2_contingency(table, correction=False).pvalue, rel=1e-9)
    assert effect.relative == pytest.approx((x1 / n1) / (x0 / n0) - 1, rel=1e-12)
    if x1 > 0:
        katz = relative_risk(x1, n1, x0, n0).confidence_interval()
        assert (effect.relative_low, effect.relative_high) == pytest.approx((katz.low - 1, katz.high - 1), rel=1e-9)


def test_rate_difference_by_hand():
    """56/70 vs 48/80: risk ratio 4/3, log-scale standard error sqrt(1/56 - 1/70 + 1/48 - 1/80) = 0.109109."""
    effect = rate_difference(56, 70, 48, 80)
    assert effect.relative == pytest.approx(1 / 3, abs=1e-12)
    margin = 1.959964 * 0.109109
    assert effect.relative_low == pytest.approx(4 / 3 * math.exp(-margin) - 1, abs=1e-5)
    assert effect.relative_high == pytest.approx(4 / 3 * math.exp(margin) - 1, abs=1e-5)
    z = 0.2 / math.sqrt(104 / 150 * 46 / 150 * (1 / 70 + 1 / 80))
    assert effect.p_value == pytest.approx(math.erfc(z / math.sqrt(2)), rel=1e-9)


def test_mean_difference_matches_scipy_welch_test():
    rng = np.random.default_rng(7)
    treated, control = zero_inflated_spend(rng, 0.3, (120,)), zero_inflated_spend(rng, 0.2, (90,))
    effect = mean_difference(treated, control, confidence=0.9)
    welch = stats.ttest_ind(treated, control, equal_var=False)
    assert effect.estimate == pytest.approx(treated.mean() - control.mean(), rel=1e-12)
    assert effect.p_value == pytest.approx(welch.pvalue, rel=1e-9)
    reference = welch.confidence_interval(confidence_level=0.9)
    assert (effect.low, effect.high) == pytest.approx((reference.low, reference.high), rel=1e-9)


def test_mean_difference_relative_lift_by_hand():
    """Means 10 and 5, squared standard errors 100/3 and (50/3)/4: relative lift 1 with standard error
    sqrt(100/3 + 2^2 * 50/12) / 5 = sqrt(50) / 5 (delta method)."""
    effect = mean_difference(np.array([0.0, 10.0, 20.0]), np.array([0.0, 5.0, 10.0, 5.0]))
    assert effect.relative == pytest.approx(1.0, abs=1e-12)
    margin = stats.norm.ppf(0.975) * math.sqrt(50) / 5
    assert (effect.relative_low, effect.relative_high) == pytest.approx((1 - margin, 1 + margin), abs=1e-12)


def test_holm_and_benjamini_hochberg_by_hand():
    """Four tested cuts and a missing one. Holm sorted: 0.005*4, 0.01*3, 0.03*2, then 0.04*1 raised to the running
    maximum 0.06. BH sorted: 0.005*4/1, 0.01*4/2, 0.03*4/3, 0.04*4/4."""
    p = np.array([0.01, np.nan, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(holm(p), [0.03, np.nan, 0.06, 0.06, 0.02], rtol=1e-12)
    np.testing.assert_allclose(benjamini_hochberg(p), [0.02, np.nan, 0.04, 0.04, 0.02], rtol=1e-12)
    np.testing.assert_allclose(holm([0.4, 0.3, 0.6]), [0.9, 0.9, 0.9], rtol=1e-12)
    np.testing.assert_allclose(holm([0.01, 0.04, 0.045]), [0.03, 0.08, 0.08], rtol=1e-12)
    np.testing.assert_allclose(benjamini_hochberg([0.01, 0.04, 0.045]), [0.03, 0.045, 0.045], rtol=1e-12)
    np.testing.assert_allclose(holm([0.5, 0.9]), [1.0, 1.0])


def test_benjamini_hochberg_matches_scipy_and_holm_is_stricter():
    rng = np.random.default_rng(11)
    for size in (1, 2, 7, 50):
        p = np.concatenate([rng.uniform(0, 0.01, size // 3), rng.uniform(0, 1, size - size // 3)])
        adjusted = benjamini_hochberg(p)
        np.testing.assert_allclose(adjusted, stats.false_discovery_control(p), rtol=1e-12)
        assert np.all(adjusted >= p) and np.all(holm(p) >= adjusted)
        order = np.argsort(p)
        assert np.all(np.diff(adjusted[order]) >= 0)
        with_gaps = np.insert(p, [0, size], np.nan)
        np.testing.assert_allclose(benjamini_hochberg(with_gaps)[1:-1], adjusted, rtol=1e-12)
        assert np.isnan(benjamini_hochberg(with_gaps)[[0, -1]]).all() and np.isnan(holm(with_gaps)[[0, -1]]).all()


def test_sample_ratio_mismatch_fires_on_an_unbalanced_split():
    statistic, p_value = sample_ratio_mismatch({"control": 5000, "offer": 5400})
    assert statistic == pytest.approx(2 * 200**2 / 5200, rel=1e-12)
    assert p_value < 0.001
    assert sample_ratio_mismatch({"control": 5000, "offer": 5030})[1] > 0.5
    assert sample_ratio_mismatch({"control": 5000, "offer": 5400}, {"control": 0.5, "offer": 0.5})[1] < 0.001


def test_sample_ratio_mismatch_respects_the_planned_split():
    counts = {"offer": 6700, "control": 3300}
    statistic, p_value = sample_ratio_mismatch(counts, {"control": 1, "offer": 2})
    reference = stats.chisquare([6700, 3300], [20000 / 3, 10000 / 3])
    assert (statistic, p_value) == pytest.approx((reference.statistic, reference.pvalue), rel=1e-9)
    assert p_value > 0.4
    assert sample_ratio_mismatch(counts, {"control": 0.25, "offer": 0.5}) == (statistic, p_value)
    assert sample_ratio_mismatch(counts)[1] < 1e-100
    three = sample_ratio_mismatch({"a": 1000, "b": 1000, "control": 2100}, {"a": 1, "b": 1, "control": 2})
    assert three[1] == pytest.approx(stats.chisquare([1000, 1000, 2100], [1025, 1025, 2050]).pvalue, rel=1e-9)


def exact_power_of_the_rate_test(treated_rate: float, control_rate: float, n: int, alpha: float = 0.05) -> float:
    """Probability that the pooled two-proportion z test is significant, summed over all likely binomial outcomes."""
    outcomes = np.arange(n + 1)
    treated_pmf, control_pmf = stats.binom.pmf(outcomes, n, treated_rate), stats.binom.pmf(outcomes, n, control_rate)
    t, c = np.meshgrid(outcomes[treated_pmf > 1e-14], outcomes[control_pmf > 1e-14], indexing="ij")
    pooled = (t + c) / (2 * n)
    z = (t - c) / n / np.sqrt(pooled * (1 - pooled) * 2 / n)
    weights = np.outer(treated_pmf[treated_pmf > 1e-14], control_pmf[control_pmf > 1e-14])
    return float(weights[np.abs(z) > stats.norm.ppf(1 - alpha / 2)].sum())


def test_minimum_detectable_rate_lift_has_80_percent_power():
    n, control_rate = 2000, 0.05
    lift = minimum_detectable_rate_lift(control_rate, n, n)
    assert exact_power_of_the_rate_test(control_rate + lift, control_rate, n) == pytest.approx(0.8, abs=0.01)
    assert exact_power_of_the_rate_test(control_rate + 0.8 * lift, control_rate, n) < 0.65

    rng = np.random.default_rng(3)
    treated = rng.binomial(n, control_rate + lift, SIMULATIONS)
    control = rng.binomial(n, control_rate, SIMULATIONS)
    significant = [rate_difference(int(t), n, int(c), n).p_value < 0.05 for t, c in zip(treated, control)]
    assert 0.75 <= np.mean(significant) <= 0.85


def test_minimum_detectable_rate_lift_with_unequal_arms_and_other_levels():
    """A bigger control group or a looser alpha lowers the MDE; more power raises it."""
    base = minimum_detectable_rate_lift(0.1, 1000, 1000)
    assert minimum_detectable_rate_lift(0.1, 1000, 4000) < base
    assert minimum_detectable_rate_lift(0.1, 1000, 1000, alpha=0.1) < base
    assert minimum_detectable_rate_lift(0.1, 1000, 1000, power=0.9) > base
    lift = minimum_detectable_rate_lift(0.1, 1000, 4000)
    treated_rate, pooled = 0.1 + lift, (1000 * (0.1 + lift) + 4000 * 0.1) / 5000
    null_se = math.sqrt(pooled * (1 - pooled) * (1 / 1000 + 1 / 4000))
    se = math.sqrt(treated_rate * (1 - treated_rate) / 1000 + 0.09 / 4000)
    assert stats.norm.cdf((lift - 1.959964 * null_se) / se) == pytest.approx(0.8, abs=1e-6)


def test_minimum_detectable_mean_lift_has_80_percent_power():
    """An offer raising conversion from 10% to 15% at the same spend per buyer, with the group size at which that lift
    is just detectable: n = (z_0.975 + z_0.8)^2 (sd1^2 + sd0^2) / lift^2."""
    (treated_mean, treated_sd), (control_mean, control_sd) = spend_moments(0.15), spend_moments(0.10)
    true_lift = treated_mean - control_mean
    n = math.ceil((1.959964 + 0.841621) ** 2 * (treated_sd**2 + control_sd**2) / true_lift**2)
    lift = minimum_detectable_mean_lift(treated_sd, control_sd, n, n)
    assert lift == pytest.approx(true_lift, rel=1e-3)

    rng = np.random.default_rng(4)
    treated = zero_inflated_spend(rng, 0.15, (SIMULATIONS, n))
    control = zero_inflated_spend(rng, 0.10, (SIMULATIONS, n))
    significant = [mean_difference(t, c).p_value < 0.05 for t, c in zip(treated, control)]
    assert 0.75 <= np.mean(significant) <= 0.85


def correlated_spend(rng: np.random.Generator, n: int, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Pre-exposure and campaign-period spend with correlation rho."""
    pre = rng.normal(100, 30, n)
    post = 50 + rho * (pre - 100) + math.sqrt(1 - rho**2) * 30 * rng.standard_normal(n)
    return post, pre


def test_cuped_variance_reduction_is_the_squared_correlation():
    outcome, covariate = correlated_spend(np.random.default_rng(5), 50_000, 0.7)
    result = cuped(outcome, covariate)
    assert result.variance_reduction == pytest.approx(np.corrcoef(outcome, covariate)[0, 1] ** 2, rel=1e-9)
    assert result.variance_reduction == pytest.approx(0.49, abs=0.01)
    assert result.theta == pytest.approx(np.polyfit(covariate, outcome, 1)[0], rel=1e-9)
    np.testing.assert_allclose(result.adjusted, outcome - result.theta * (covariate - covariate.mean()), rtol=1e-12)
    assert result.adjusted.mean() == pytest.approx(outcome.mean(), rel=1e-12)


def test_cuped_keeps_the_lift_unbiased_and_narrows_it():
    rng = np.random.default_rng(6)
    n, true_lift = 1000, 2.0
    raw, adjusted = [], []
    for _ in range(500):
        outcome, covariate = correlated_spend(rng, 2 * n, 0.7)
        treated = np.arange(2 * n) < n
        outcome = outcome + true_lift * treated
        result = cuped(outcome, covariate)
        raw.append(outcome[treated].mean() - outcome[~treated].mean())
        adjusted.append(result.adjusted[treated].mean() - result.adjusted[~treated].mean())
    raw, adjusted = np.array(raw), np.array(adjusted)
    assert abs(adjusted.mean() - true_lift) < 4 * adjusted.std() / math.sqrt(adjusted.size)
    assert adjusted.var() / raw.var() == pytest.approx(0.51, abs=0.08)


def test_cuped_with_an_uncorrelated_covariate_changes_almost_nothing():
    rng = np.random.default_rng(8)
    outcome, covariate = zero_inflated_spend(rng, 0.1, (50_000,)), rng.normal(100, 30, 50_000)
    result = cuped(outcome, covariate)
    assert 0 <= result.variance_reduction < 1e-3
    assert abs(result.theta) < 4 * outcome.std() / (covariate.std() * math.sqrt(outcome.size))
    assert (result.adjusted - outcome).std() < 0.01 * outcome.std()


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def is_undefined(effect) -> bool:
    return all(math.isnan(v) for v in vars(effect).values())


@pytest.mark.usefixtures("no_warnings")
def test_empty_arms_give_nan_effects():
    assert is_undefined(rate_difference(0, 0, 10, 100))
    assert is_undefined(rate_difference(10, 100, 0, 0))
    assert is_undefined(mean_difference(np.array([]), np.ones(5)))
    assert is_undefined(mean_difference(np.ones(5), np.array([])))
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    assert math.isnan(minimum_detectable_rate_lift(0.05, 0, 100))
    assert math.isnan(minimum_detectable_mean_lift(1.0, 1.0, 100, 0))
    assert all(math.isnan(v) for v in sample_ratio_mismatch({"control": 0, "offer": 0}))
    assert all(math.isnan(v) for v in sample_ratio_mismatch({"control": 10}))
    assert holm(np.array([])).size == 0 and np.isnan(benjamini_hochberg([np.nan, np.nan])).all()


@pytest.mark.usefixtures("no_warnings")
def test_degenerate_data_gives_nan_where_undefined():
    all_zero = mean_difference(np.zeros(100), np.zeros(100))
    assert all_zero.estimate == 0 and math.isnan(all_zero.low) and math.isnan(all_zero.high)
    assert math.isnan(all_zero.p_value) and math.isnan(all_zero.relative)
    single = mean_difference(np.array([3.0]), np.array([1.0, 2.0]))
    assert single.estimate == 1.5 and single.relative == 1.0 and math.isnan(single.low) and math.isnan(single.p_value)
    no_control_revenue = mean_difference(np.array([0.0, 4.0]), np.zeros(2))
    assert no_control_revenue.estimate == 2 and math.isnan(no_control_revenue.relative)
    assert math.isnan(no_control_revenue.relative_low) and no_control_revenue.low < 2 < no_control_revenue.high

    nobody_converted = rate_difference(0, 500, 0, 500)
    assert nobody_converted.estimate == 0 and nobody_converted.low < 0 < nobody_converted.high
    assert math.isnan(nobody_converted.p_value) and math.isnan(nobody_converted.relative)
    no_treated_conversions = rate_difference(0, 500, 5, 500)
    assert no_treated_conversions.relative == -1 and math.isnan(no_treated_conversions.relative_low)
    assert math.isnan(minimum_detectable_rate_lift(0.0, 100, 100))
    assert math.isnan(minimum_detectable_rate_lift(0.9, 3, 3))

    constant_covariate = cuped(np.array([1.0, 5.0, 2.0]), np.full(3, 7.0))
    assert constant_covariate.theta == 0 and constant_covariate.variance_reduction == 0
    np.testing.assert_array_equal(constant_covariate.adjusted, [1.0, 5.0, 2.0])
    assert math.isnan(cuped(np.full(4, 2.0), np.arange(4.0)).variance_reduction)
    assert math.isnan(cuped(np.array([1.0]), np.array([2.0])).variance_reduction)


def test_invalid_inputs_are_rejected():
    with pytest.raises(ValueError, match="planned shares"):
        sample_ratio_mismatch({"control": 10, "offer": 12}, {"control": 1, "other": 1})
    with pytest.raises(ValueError, match="planned shares"):
        sample_ratio_mismatch({"control": 10, "offer": 12}, {"control": 1, "offer": 0})
    with pytest.raises(ValueError, match="same shape"):
        cuped(np.ones(3), np.ones(4))
