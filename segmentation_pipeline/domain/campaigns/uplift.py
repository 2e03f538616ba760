"""Campaign response and uplift: who converts when sent an offer, and who converts because of it.

Both are judged on held-out customers of a randomised send with a control group that got no message.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.returns.evaluation import calibration_curve, score_metrics

MIN_OUTCOMES = 20
"""A model needs at least this many conversions and this many non-conversions in every group it learns from."""

QINI_POINTS = 21
"""Shares targeted at which the Qini curve is reported: 0, 5%, ..., 100%."""

METRIC_NAMES = {"lines": "customers", "return_rate": "conversion_rate", "mean_score": "mean_predicted"}
"""Keys of ``score_metrics`` as named for customers of a campaign."""


@dataclass(frozen=True)
class ResponseComparison:
    """Logistic regression against gradient boosting at predicting conversion of exposed customers."""

    metrics: pd.DataFrame
    """One row per model on the held-out customers: customers, conversion rate, mean predicted probability,
    ROC AUC, PR AUC, Brier score, top-decile lift, calibration error."""
    calibration: pd.DataFrame
    """Mean predicted against observed conversion in ten equal-count bins of the best model's held-out scores."""
    best: str
    """The model with the higher held-out ROC AUC (the logistic regression on a tie)."""
    held_out: np.ndarray
    """True for the customers (rows of the features) held out of fitting."""


@dataclass(frozen=True)
class UpliftModel:
    """Two conversion classifiers (T-learner): one fitted on treated customers, one on the control group."""

    treated: Any
    control: Any
    columns: tuple[str, ...]

    def uplift(self, features: pd.DataFrame) -> np.ndarray:
        """Predicted conversion probability if sent the offer minus if not, per customer."""
        x = feature_frame(features[list(self.columns)])
        with one_thread():
            return self.treated.predict_proba(x)[:, 1] - self.control.predict_proba(x)[:, 1]


@dataclass(frozen=True)
class UpliftEvaluation:
    """An uplift model for scoring and how the same kind of model did on held-out customers."""

    model: UpliftModel
    """Refitted on all customers, for scoring."""
    qini: pd.DataFrame
    """Held-out Qini curve (``qini_curve``): share_targeted, incremental_conversions, random."""
    qini_coefficient: float
    """Held-out Qini coefficient (``qini_coefficient``): 0 for random targeting, 1 for perfect."""
    held_out_customers: int
    top_decile_uplift: float
    """Observed conversion rate of treated minus control customers among the held-out 10% of highest
    predicted uplift."""
    overall_uplift: float
    """Observed conversion rate of treated minus control customers among all held-out customers."""
    held_out: np.ndarray
    """True for the customers (rows of the features) held out of fitting."""


@contextmanager
def one_thread() -> Iterator[None]:
    """Run gradient boosting on one OpenMP thread.

    Its trees here are small: on a busy two-core machine, waiting for a second thread at every split made
    fits up to twenty times slower, while one thread fits tens of thousands of customers in about a second.
    """
    from threadpoolctl import threadpool_limits

    importlib.import_module("sklearn.ensemble")  # loads the OpenMP runtime, so that the limit applies to it
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


def feature_frame(features: pd.DataFrame) -> pd.DataFrame:
    """Pre-exposure customer features as floats (missing values as NaN); every column must be numeric or boolean."""
    text = [str(name) for name, dtype in features.dtypes.items() if not pd.api.types.is_numeric_dtype(dtype)]
    if text:
        raise ValueError(f"features must be numeric or boolean; encode these columns first: {', '.join(text)}")
    return features.astype(np.float64)


def holdout_mask(strata: np.ndarray, seed: int = 7, holdout_share: float = 0.3) -> np.ndarray:
    """Held-out customers: a seeded random ``holdout_share`` of them, stratified by ``strata``."""
    from sklearn.model_selection import train_test_split

    if not 0 < holdout_share < 1:
        raise ValueError(f"holdout_share must be between 0 and 1, got {holdout_share}")
    positions = np.arange(len(strata))
    _, held = train_test_split(positions, test_size=holdout_share, random_state=seed, stratify=np.asarray(strata))
    mask = np.zeros(len(strata), dtype=bool)
    mask[held] = True
    return mask


def _require(counts: dict[str, int], purpose: str) -> None:
    if min(counts.values()) < MIN_OUTCOMES:
        listed = ", ".join(f"{count} {name}" for name, count in counts.items())
        raise ValueError(f"too few customers to {purpose}: {listed} (at least {MIN_OUTCOMES} of each are needed)")


def _outcomes(features: pd.DataFrame, *arrays: np.ndarray) -> list[np.ndarray]:
    outcomes = [np.asarray(a, dtype=bool) for a in arrays]
    if any(len(a) != len(features) for a in outcomes):
        raise ValueError(f"{len(features)} customers with features but outcomes of {[len(a) for a in outcomes]}")
    return outcomes


def _boosting(seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=300,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=True,
        validation_fraction=0.15,
        n_iter_no_change=20,
        random_state=seed,
    )


def _logistic() -> Any:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True), StandardScaler(), LogisticRegression(max_iter=1000)
    )


def compare_response_models(
    features: pd.DataFrame, converted: np.ndarray, seed: int = 7, holdout_share: float = 0.3
) -> ResponseComparison:
    """Fit both response models on exposed customers and compare them on a held-out share.

    ``features`` holds one row of pre-exposure features per customer sent the offer (missing values
    allowed: the logistic regression imputes medians and flags them, gradient boosting handles them
    natively) and ``converted`` whether each converted. The held-out customers are a seeded random
    ``holdout_share``, stratified by the outcome.
    """
    (y,) = _outcomes(features, converted)
    _require({"conversions": int(y.sum()), "non-conversions": int((~y).sum())}, "compare response models")
    x = feature_frame(features)
    held_out = holdout_mask(y, seed, holdout_share)
    models = {"logistic regression": _logistic(), "gradient boosting": _boosting(seed)}
    with one_thread():
        scores = {
            name: model.fit(x[~held_out], y[~held_out]).predict_proba(x[held_out])[:, 1]
            for name, model in models.items()
        }
    metrics = pd.DataFrame({name: score_metrics(y[held_out], s) for name, s in scores.items()}).T
    metrics = metrics.rename(columns=METRIC_NAMES).rename_axis("model")
    metrics["customers"] = metrics["customers"].astype(int)
    best = str(metrics["roc_auc"].idxmax())
    calibration = calibration_curve(y[held_out], scores[best]).rename(columns={"lines": "customers"})
    return ResponseComparison(metrics, calibration, best, held_out)


def _fit_two_models(x: pd.DataFrame, treated: np.ndarray, converted: np.ndarray, seed: int) -> UpliftModel:
    with one_thread():
        return UpliftModel(
            treated=_boosting(seed).fit(x[treated], converted[treated]),
            control=_boosting(seed).fit(x[~treated], converted[~treated]),
            columns=tuple(x.columns),
        )


def _qini_points(treated: np.ndarray, converted: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share targeted and incremental conversions after each group of tied scores, from (0, 0)."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    t, y, s = treated[order], converted[order], np.asarray(scores, dtype=np.float64)[order]
    n_treated, n_control = np.cumsum(t), np.cumsum(~t)
    treated_conversions, control_conversions = np.cumsum(t & y), np.cumsum(~t & y)
    ends = np.append(np.flatnonzero(s[1:] != s[:-1]), len(s) - 1)
    ratio = np.divide(
        n_treated[ends], n_control[ends], out=np.zeros(len(ends)), where=n_control[ends] > 0, dtype=np.float64
    )
    gains = treated_conversions[ends] - control_conversions[ends] * ratio
    return np.append(0.0, (ends + 1) / len(s)), np.append(0.0, gains)


def qini_curve(treated: np.ndarray, converted: np.ndarray, uplift: np.ndarray) -> pd.DataFrame:
    """Incremental conversions when targeting the customers of highest predicted uplift (Radcliffe 2007).

    With customers ranked by ``uplift`` (highest first), targeting the top share yields
    ``incremental_conversions`` = conversions of treated customers in the top minus conversions of
    control customers in the top times (treated / control customers in the top), i.e. in units of the
    treated group; 0 while the top holds no control customer. Customers tied on uplift enter together and
    the curve is interpolated linearly between, at ``QINI_POINTS`` shares from 0 to 1. ``random`` is the
    straight line from 0 to the incremental conversions of targeting everyone.

    Radcliffe, N. J. (2007). Using control groups to target on predicted lift: building and assessing
    uplift models. Direct Marketing Analytics Journal, 1, 14-21.
    """
    t, y = np.asarray(treated, dtype=bool), np.asarray(converted, dtype=bool)
    shares, gains = _qini_points(t, y, uplift)
    grid = np.linspace(0.0, 1.0, QINI_POINTS)
    return pd.DataFrame(
        {"share_targeted": grid, "incremental_conversions": np.interp(grid, shares, gains), "random": grid * gains[-1]}
    )


def _area_over_random(shares: np.ndarray, gains: np.ndarray) -> float:
    return float(np.trapezoid(gains, shares) - gains[-1] / 2)


def qini_coefficient(treated: np.ndarray, converted: np.ndarray, uplift: np.ndarray) -> float:
    """Area between the Qini curve and random targeting, over that of the perfect ranking (Radcliffe's Q).

    The curve is the full-resolution one behind ``qini_curve``. The perfect ranking puts converted treated
    customers first and converted control customers last, so the coefficient is 1 for a perfect ranking,
    about 0 for one no better than random and negative for one worse than random. NaN without any
    converted treated customer.
    """
    t, y = np.asarray(treated, dtype=bool), np.asarray(converted, dtype=bool)
    perfect = _area_over_random(*_qini_points(t, y, np.where(y, np.where(t, 2.0, 0.0), 1.0)))
    if perfect <= 0:
        return float("nan")
    return _area_over_random(*_qini_points(t, y, uplift)) / perfect


def observed_uplift(treated: np.ndarray, converted: np.ndarray) -> float:
    """Conversion rate of treated minus control customers; NaN if either group is empty."""
    t, y = np.asarray(treated, dtype=bool), np.asarray(converted, dtype=bool)
    if t.all() or not t.any():
        return float("nan")
    return float(y[t].mean() - y[~t].mean())


def fit_uplift(
    features: pd.DataFrame, treated: np.ndarray, converted: np.ndarray, seed: int = 7, holdout_share: float = 0.3
) -> UpliftEvaluation:
    """Fit a T-learner uplift model, judge it on held-out customers, then refit it on all of them for scoring.

    ``features`` holds one row of pre-exposure features per customer of a randomised send (missing
    values allowed), ``treated`` whether the customer was sent the offer (False: control group) and
    ``converted`` whether they converted. The held-out customers are a seeded random ``holdout_share``,
    stratified by treated x converted; the two classifiers are gradient boosting fitted on the rest.
    Raises ``ValueError`` with the counts when treated or control customers have fewer than
    ``MIN_OUTCOMES`` conversions or non-conversions.
    """
    t, y = _outcomes(features, treated, converted)
    counts = {
        "treated conversions": int((t & y).sum()),
        "control conversions": int((~t & y).sum()),
        "treated non-conversions": int((t & ~y).sum()),
        "control non-conversions": int((~t & ~y).sum()),
    }
    _require(counts, "fit an uplift model")
    x = feature_frame(features)
    held_out = holdout_mask(2 * t + y, seed, holdout_share)
    scores = _fit_two_models(x[~held_out], t[~held_out], y[~held_out], seed).uplift(x[held_out])
    t_held, y_held = t[held_out], y[held_out]
    top = top_decile(np.arange(len(scores)), scores)["customer_id"].to_numpy()
    return UpliftEvaluation(
        model=_fit_two_models(x, t, y, seed),
        qini=qini_curve(t_held, y_held, scores),
        qini_coefficient=qini_coefficient(t_held, y_held, scores),
        held_out_customers=int(held_out.sum()),
        top_decile_uplift=observed_uplift(t_held[top], y_held[top]),
        overall_uplift=observed_uplift(t_held, y_held),
        held_out=held_out,
    )


def top_decile(customer_ids: np.ndarray, uplift: np.ndarray, share: float = 0.1) -> pd.DataFrame:
    """The ``share`` of customers (rounded up, at least one) with the highest predicted uplift, highest first.

    One row per customer: ``rank`` (1 = highest), ``customer_id`` and ``uplift``; ties keep the input order.
    """
    ids, scores = np.asarray(customer_ids), np.asarray(uplift, dtype=np.float64)
    if len(ids) != len(scores):
        raise ValueError(f"{len(ids)} customer ids but {len(scores)} uplift values")
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share}")
    count = min(max(math.ceil(round(share * len(ids), 9)), 1), len(ids))
    chosen = np.argsort(-scores, kind="stable")[:count]
    return pd.DataFrame({"rank": np.arange(1, count + 1), "customer_id": ids[chosen], "uplift": scores[chosen]})


def uplift_deciles(customer_ids: np.ndarray, uplift: np.ndarray) -> pd.DataFrame:
    """Every customer with their predicted uplift and its decile among them all (1 = the highest tenth),
    highest first; ties keep the input order."""
    ids, scores = np.asarray(customer_ids), np.asarray(uplift, dtype=np.float64)
    order = np.argsort(-scores, kind="stable")
    decile = np.arange(len(ids)) * 10 // max(len(ids), 1) + 1
    return pd.DataFrame({"customer_id": ids[order], "uplift": scores[order], "uplift_decile": decile})
