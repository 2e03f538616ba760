"""How well return scores do on held-out lines: baselines, metrics, calibration, key factors and return rates."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.returns.features import FEATURE_COLUMNS, build_features
from segmentation_pipeline.domain.returns.model import ReturnModel
from segmentation_pipeline.domain.returns.settings import ReturnTrainingSettings

BASELINES: dict[str, str] = {
    "population_rate": "The training period's return rate, the same score for every line.",
    "customer_rate": "The customer's smoothed earlier return rate (feature customer_return_rate).",
}
"""The scores a model must beat to be worth serving."""

SCORE_METRIC_COLUMNS: dict[str, str] = {
    "mean_score": "Mean predicted probability.",
    "roc_auc": "ROC AUC: chance that a random case with the outcome scores above one without (0.5 = chance, "
    "1 = perfect ranking).",
    "pr_auc": "PR AUC (average precision): how well the highest scores concentrate the outcome (chance level = "
    "the outcome's rate).",
    "brier": "Brier score: mean squared gap between predicted probability and outcome (lower is better).",
    "top_decile_lift": "Outcome rate of the 10% scored highest over the overall rate (1 = no better than chance).",
    "calibration_error": "Expected calibration error: size-weighted mean gap between mean predicted probability and "
    "observed rate over ten equal-count score bins (lower is better).",
}
"""Columns of ``score_metrics`` that do not depend on what is scored."""
MODEL_METRICS_COLUMNS: dict[str, str] = {
    "scorer": "`model` (the new model), a baseline ("
    + ", ".join(f"`{name}`" for name in BASELINES)
    + ") or `production` (the model in production, when there is one).",
    "lines": "Test lines scored.",
    "return_rate": "Share of those lines returned within the return window.",
    **SCORE_METRIC_COLUMNS,
}
"""Columns of the test metrics per scorer (`returns.model_metrics`)."""


def baseline_scores(features: pd.DataFrame, train_rate: float) -> dict[str, np.ndarray]:
    """The scores of ``BASELINES`` for lines with model features."""
    return {
        "population_rate": np.full(len(features), float(train_rate)),
        "customer_rate": features["customer_return_rate"].to_numpy(dtype=np.float64),
    }


def top_decile_lift(returned: np.ndarray, scores: np.ndarray, share: float = 0.1) -> float:
    """Return rate of the ``share`` of lines scored highest, over the overall rate.

    Lines tied at the cut count in proportion (as if the tie were broken at random), so a
    constant score has a lift of exactly 1.
    """
    y = np.asarray(returned, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if len(y) == 0 or y.sum() == 0:
        return float("nan")
    top = share * len(y)
    threshold = np.sort(s)[len(s) - max(math.ceil(top), 1)]
    above, at = s > threshold, s == threshold
    top_returns = y[above].sum() + (top - above.sum()) * y[at].mean()
    return float(top_returns / top / y.mean())


def calibration_curve(returned: np.ndarray, scores: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Mean predicted probability against the observed return rate in ``bins`` equal-count bins of score.

    Lines are ranked by score (ties in line order) and cut into bins of (nearly) equal size,
    lowest scores first: one row per bin with ``mean_predicted``, ``observed_rate`` and ``lines``.
    """
    s = np.asarray(scores, dtype=np.float64)
    rank = np.empty(len(s), dtype=np.int64)
    rank[np.argsort(s, kind="stable")] = np.arange(len(s))
    frame = pd.DataFrame(
        {"bin": rank * bins // max(len(s), 1) + 1, "score": s, "returned": np.asarray(returned, float)}
    )
    curve = frame.groupby("bin").agg(
        mean_predicted=("score", "mean"), observed_rate=("returned", "mean"), lines=("score", "size")
    )
    return curve.reset_index()


def calibration_error(curve: pd.DataFrame) -> float:
    """Expected calibration error: line-weighted mean gap between predicted and observed rate over the bins."""
    gaps = (curve["mean_predicted"] - curve["observed_rate"]).abs()
    return float((gaps * curve["lines"]).sum() / curve["lines"].sum())


def score_metrics(returned: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """How well scores rank and estimate returns: ROC AUC, PR AUC (average precision), Brier score,
    top-decile lift and expected calibration error, with the lines, their return rate and mean score.

    The AUCs are NaN when the lines are all returned or all kept.
    """
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    y = np.asarray(returned, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    both = 0 < y.sum() < len(y)
    return {
        "lines": float(len(y)),
        "return_rate": float(y.mean()),
        "mean_score": float(s.mean()),
        "roc_auc": float(roc_auc_score(y, s)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, s)) if both else float("nan"),
        "brier": float(brier_score_loss(y, np.clip(s, 0.0, 1.0))),
        "top_decile_lift": top_decile_lift(y, s),
        "calibration_error": calibration_error(calibration_curve(y, s)),
    }


def key_factors(model: ReturnModel, lines: pd.DataFrame, settings: ReturnTrainingSettings) -> pd.DataFrame:
    """Which features the model relies on: the drop in ROC AUC when one feature's values are shuffled.

    Permutation importance of the model's estimator on its column matrix (raw scores: calibration
    is monotone, so ROC AUC barely depends on it) on a seeded sample of at most
    ``importance_max_lines`` labelled lines, ``importance_repeats`` shuffles each. A feature is one
    column of the matrix, so shuffling the column shuffles the feature. Largest drop first.
    """
    from sklearn.inspection import permutation_importance

    sample = lines
    if len(lines) > settings.importance_max_lines:
        sample = lines.sample(n=settings.importance_max_lines, random_state=settings.seed)
    result = permutation_importance(
        model.pipeline[-1],
        model.columns.matrix(build_features(sample)),
        sample["returned"].astype(bool).to_numpy(),
        scoring="roc_auc",
        n_repeats=settings.importance_repeats,
        random_state=settings.seed,
        n_jobs=1,
    )
    names = [name for name, _ in model.columns.outputs]
    importance = pd.DataFrame(
        {
            "feature": names,
            "auc_drop": result.importances_mean,
            "auc_drop_std": result.importances_std,
            "description": [FEATURE_COLUMNS[name] for name in names],
        }
    )
    return importance.sort_values(["auc_drop", "feature"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


def price_band_edges(train_prices: pd.Series, bands: int = 5) -> np.ndarray:
    """Inner edges of unit-price bands with equal shares of training lines (quintiles by default)."""
    quantiles = np.linspace(0, 1, bands + 1)[1:-1]
    return np.unique(np.quantile(pd.to_numeric(train_prices).to_numpy(dtype=np.float64), quantiles))


def price_bands(prices: pd.Series, edges: np.ndarray) -> pd.Series:
    """The band of each unit price: "< a", "a-b" (a included, b not), ..., ">= z"."""
    labels = [f"< {edges[0]:.2f}"] if len(edges) else ["all"]
    labels += [f"{low:.2f}-{high:.2f}" for low, high in itertools.pairwise(edges)]
    labels += [f">= {edges[-1]:.2f}"] if len(edges) else []
    band = np.searchsorted(edges, pd.to_numeric(prices).to_numpy(dtype=np.float64), side="right")
    return pd.Series(pd.Categorical.from_codes(band, labels, ordered=True), index=prices.index, name="price_band")


def return_rates(lines: pd.DataFrame, by: str | pd.Series) -> pd.DataFrame:
    """Lines, returns, return rate and share of all returns per group of labelled lines, largest group first."""
    returned = lines["returned"].astype(bool)
    groups = returned.groupby(lines[by] if isinstance(by, str) else by, observed=True)
    rates = pd.DataFrame({"lines": groups.size(), "returns": groups.sum().astype(int)})
    rates["return_rate"] = rates["returns"] / rates["lines"]
    rates["share_of_returns"] = rates["returns"] / max(int(returned.sum()), 1)
    return rates.sort_values("lines", ascending=False, kind="stable")


def return_rates_by_group(test: pd.DataFrame, train: pd.DataFrame, bands: int = 5) -> dict[str, pd.DataFrame]:
    """Return rates of the test lines by customer segment, category and unit-price band
    (bands with equal shares of the training lines, so they stay put from one run to the next)."""
    band = price_bands(test["unit_price"], price_band_edges(train["unit_price"], bands))
    rates = {name: return_rates(test, name) for name in ("customer_segment", "category")}
    rates["price_band"] = return_rates(test, band).sort_index()
    return rates
