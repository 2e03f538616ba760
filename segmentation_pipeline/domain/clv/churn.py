"""Churn risk: who will buy nothing in the coming days, learnt from the point-in-time customer history.

The model learns at one cutoff (features as of that day, label: no purchase in the following
``horizon_days``) and is judged at a later cutoff whose horizon has also closed, against two baselines
from the lifetime-value model: 1 - P(alive), and exp(-expected purchases in the horizon). It is then
refitted at the later cutoff to score today.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.clv.settings import ChurnSettings
from segmentation_pipeline.domain.returns.evaluation import SCORE_METRIC_COLUMNS, calibration_curve, score_metrics

CHURN_FEATURES = (
    "recency_days",
    "tenure_days",
    "frequency",
    "purchase_days",
    "monetary_net",
    "avg_order_value",
    "units_per_order",
    "discount_share",
    "mean_days_between_orders",
    "return_rate_units",
    "service_contacts",
    "campaign_responses",
    "category_breadth",
)
"""Snapshot columns the churn model reads (missing values are allowed)."""

BANDS = ("Low", "Medium", "High")
MIN_CUSTOMERS_PER_CLASS = 20
"""A cutoff needs this many churned and this many retained customers to train or judge a model."""
CHURN_METRICS_COLUMNS: dict[str, str] = {
    "scorer": "`model`, or a baseline from the purchase model in force (`baseline: 1 - P(alive)`, "
    "`baseline: exp(-expected purchases)`).",
    "customers": "Customers at the test cutoff.",
    "churn_rate": "Share of them who bought nothing in the horizon after the cutoff.",
    **SCORE_METRIC_COLUMNS,
}
"""Columns of the churn model's test metrics per scorer (`clv.churn_metrics`)."""


@dataclass(frozen=True)
class ChurnModel:
    """A fitted churn classifier and how it did on the test cutoff."""

    estimator: Any
    metrics: pd.DataFrame
    """One row per scorer (the model, then each baseline): customers, churn rate, ROC AUC, PR AUC, Brier,
    top-decile lift, calibration error."""
    calibration: pd.DataFrame | None
    """Mean predicted against observed churn in ten equal-count bins of the model's test scores (None for a
    model read back from the warehouse, whose bins are in `clv.churn_calibration`)."""

    def beats_baseline(self) -> bool:
        """Whether the model ranked churners at least as well as every baseline on the test cutoff."""
        auc = self.metrics["roc_auc"]
        return bool(auc.iloc[0] >= auc.iloc[1:].max())

    def churn_probability(self, snapshot: pd.DataFrame) -> np.ndarray:
        """Probability that each customer of a snapshot buys nothing within the horizon."""
        return self.estimator.predict_proba(feature_matrix(snapshot))[:, 1]


def feature_matrix(snapshot: pd.DataFrame) -> np.ndarray:
    return snapshot[list(CHURN_FEATURES)].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64, na_value=np.nan)


def too_few(churned: np.ndarray) -> str | None:
    """Why a cutoff's customers cannot train or judge a model, or None."""
    churned = np.asarray(churned, dtype=bool)
    kept = len(churned) - int(churned.sum())
    if min(int(churned.sum()), kept) < MIN_CUSTOMERS_PER_CLASS:
        return f"{int(churned.sum())} churned and {kept} retained customers (at least {MIN_CUSTOMERS_PER_CLASS} each)"
    return None


def _classifier(settings: ChurnSettings) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=settings.seed)


def train_churn_model(
    train: pd.DataFrame, test: pd.DataFrame, baselines: dict[str, np.ndarray], settings: ChurnSettings
) -> ChurnModel:
    """Fit on the earlier cutoff, judge on the later against the baselines, refit on the later.

    ``train`` and ``test`` are snapshots with ``CHURN_FEATURES`` and a boolean ``churned`` column;
    ``baselines`` holds other churn scores of the test customers (``lifetime_value_baselines``).
    """
    y_train, y_test = (frame["churned"].to_numpy(dtype=bool) for frame in (train, test))
    judged = _classifier(settings).fit(feature_matrix(train), y_train)
    scores = {
        "model": judged.predict_proba(feature_matrix(test))[:, 1],
        **{f"baseline: {name}": np.asarray(score, dtype=np.float64) for name, score in baselines.items()},
    }
    metrics = pd.DataFrame({name: score_metrics(y_test, s) for name, s in scores.items()}).T
    metrics = metrics.rename(columns={"lines": "customers", "return_rate": "churn_rate"}).rename_axis("scorer")
    final = _classifier(settings).fit(feature_matrix(test), y_test)
    return ChurnModel(final, metrics, calibration_curve(y_test, scores["model"]))


def risk_bands(probability: np.ndarray, cutoffs: tuple[float, float]) -> np.ndarray:
    """Low below the first cut-off, High from the second, Medium between."""
    low, high = cutoffs
    if not 0 < low < high < 1:
        raise ValueError(f"band_cutoffs: {cutoffs} must satisfy 0 < low < high < 1")
    return np.asarray(BANDS, dtype=object)[np.searchsorted([low, high], np.asarray(probability), side="right")]
