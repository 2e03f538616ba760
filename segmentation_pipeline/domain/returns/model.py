"""A trained return-probability model: calibrated probabilities and the factors behind them.

The model takes order-line features (``return_features.FEATURE_COLUMNS``) and answers the
probability that the line comes back within the return window. Its raw scores are mapped to
probabilities by a calibrator fitted on held-out data, so "0.3" means three lines in ten
come back. ``effects`` measures, per line, how far each feature pushes its probability from
that of a typical line; ``strongest`` names the features that push furthest.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.contract import TRANSACTIONS
from segmentation_pipeline.domain.returns.features import (
    CATEGORICAL_FEATURES,
    FACT_COLUMNS,
    FEATURE_COLUMNS,
    RETURN_WINDOW_DAYS,
    build_features,
)


def pipeline_scores(pipeline: Any, features: pd.DataFrame) -> np.ndarray:
    """A fitted pipeline's uncalibrated score of a return, per line."""
    return pipeline.predict_proba(features[list(FEATURE_COLUMNS)])[:, 1]


@dataclass(frozen=True)
class SigmoidCalibrator:
    """Platt scaling: probability = 1 / (1 + exp(-(slope x log-odds(score) + intercept))).

    The calibrator for a small validation set, where isotonic regression would overfit.
    """

    slope: float
    intercept: float

    @staticmethod
    def log_odds(scores: np.ndarray) -> np.ndarray:
        p = np.clip(np.asarray(scores, dtype=np.float64), 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))

    def predict(self, scores: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.slope * self.log_odds(scores) + self.intercept)))


BATCH_ROWS = 256
"""From this many lines on, categories are coded column-wise rather than value by value."""


@dataclass(frozen=True)
class ColumnLookup:
    """A fitted column step (ordinal-coded categories, numbers passed through) as plain lookups.

    It builds the same matrix as the pipeline's ``ColumnTransformer`` without scikit-learn's
    per-call checks, which cost more than the trees when an order of a few lines is scored.
    ``outputs`` lists the matrix columns in order, each a feature and its category codes
    (None for a number); a category the encoder never saw gets ``unknown``.
    """

    outputs: tuple[tuple[str, dict[str, float] | None], ...]
    unknown: float

    @classmethod
    def of(cls, columns: Any) -> ColumnLookup:
        from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder

        names = list(columns.feature_names_in_)
        outputs, unknown = [], np.nan
        for _, step, selected in columns.transformers_:
            selected = [names[c] if isinstance(c, int | np.integer) else c for c in selected]
            if step == "drop":
                continue
            if step == "passthrough" or (isinstance(step, FunctionTransformer) and step.func is None):
                outputs += [(name, None) for name in selected]
                continue
            if not isinstance(step, OrdinalEncoder):
                raise TypeError(f"cannot turn column step {step!r} into lookups")
            unknown = float(step.unknown_value)
            for j, name in enumerate(selected):
                # every column gets this column's categories; the others' codes are not read
                probe = pd.DataFrame({other: step.categories_[j] for other in selected})
                codes = step.transform(probe)[:, j].astype(float)
                outputs.append((name, dict(zip(step.categories_[j], codes, strict=True))))
        return cls(tuple(outputs), unknown)

    def matrix(self, features: pd.DataFrame) -> np.ndarray:
        return np.column_stack([self._column(features[name], codes) for name, codes in self.outputs])

    def _column(self, values: pd.Series, codes: dict[str, float] | None) -> np.ndarray:
        if codes is None:
            return values.to_numpy(dtype=np.float64)
        if len(values) < BATCH_ROWS:  # an order's few lines: plain dictionary lookups are quickest
            return np.fromiter((codes.get(v, self.unknown) for v in values), np.float64, len(values))
        return values.map(codes).astype("float64").fillna(self.unknown).to_numpy()


@dataclass(eq=False)
class ReturnModel:
    """One trained model version.

    ``pipeline`` is a fitted scikit-learn estimator on ``FEATURE_COLUMNS`` with
    ``predict_proba``; ``calibrator`` maps its positive-class score to a calibrated
    probability (anything with ``predict`` on a 1-d array, e.g. ``IsotonicRegression``).
    ``reference`` holds a typical value per feature (median or most frequent on the
    training lines), the baseline ``effects`` compares against. ``card`` is the model card
    (training window, features, metrics, data fingerprint, library versions).
    """

    version: str
    algorithm: str
    pipeline: Any
    calibrator: Any
    reference: dict[str, Any]
    card: dict[str, Any] = field(default_factory=dict)
    features: tuple[str, ...] = tuple(FEATURE_COLUMNS)
    """The features it was trained on; a model of other features cannot score today's lines."""
    window_days: int = RETURN_WINDOW_DAYS
    """What its probability means: the customer returns the product within this many days of the order."""

    @property
    def scores_current_features(self) -> bool:
        return self.features == tuple(FEATURE_COLUMNS)

    def __post_init__(self) -> None:
        self.columns = ColumnLookup.of(self.pipeline[0])

    @contextmanager
    def threads(self, count: int) -> Iterator[None]:
        """Inside the block a forest predicts on ``count`` threads (boosting follows its OpenMP limit)."""
        estimator = self.pipeline[-1]
        before = estimator.get_params().get("n_jobs")
        if before is None:
            yield
            return
        estimator.set_params(n_jobs=count)
        try:
            yield
        finally:
            estimator.set_params(n_jobs=before)

    def raw_scores(self, features: pd.DataFrame) -> np.ndarray:
        """The pipeline's uncalibrated score of every line, computed through ``columns``."""
        return self.pipeline[-1].predict_proba(self.columns.matrix(features))[:, 1]

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated return probability of every line."""
        if features.empty:
            return np.empty(0)
        return np.clip(np.asarray(self.calibrator.predict(self.raw_scores(features)), dtype=np.float64), 0.0, 1.0)

    def effects(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated probability of every line, and how much each feature moves it (lines x features).

        The move of feature f is the line's probability minus its probability with f set to
        the typical value in ``reference``: positive means f makes a return more likely.
        The lines and all their variants are scored in one call, so it stays fast for an order.
        """
        names = list(FEATURE_COLUMNS)
        lines = len(features)
        columns = {}
        for j, name in enumerate(names):
            kind = object if name in CATEGORICAL_FEATURES else np.float64
            values = np.tile(features[name].to_numpy(dtype=kind), len(names) + 1)
            values[(j + 1) * lines : (j + 2) * lines] = self.reference[name]
            columns[name] = values
        scored = self.predict(pd.DataFrame(columns)).reshape(len(names) + 1, lines)
        return scored[0], (scored[0] - scored[1:]).T


def strongest(effects: np.ndarray, top: int) -> list[tuple[str, float]]:
    """The ``top`` features (in ``FEATURE_COLUMNS`` order of ``effects``) with the largest absolute effect."""
    names = list(FEATURE_COLUMNS)
    order = np.argsort(-np.abs(effects), kind="stable")[:top]
    return [(names[j], float(effects[j])) for j in order]


LINE_SCORE_KEYS = ("order_id", "line_no", "customer_id", "product_id", "order_ts", "as_of_day")
LINE_SCORE_COLUMNS = {
    **{name: FACT_COLUMNS[name] for name in ("order_id", "line_no", "customer_id", "product_id")},
    "order_ts": TRANSACTIONS.column("order_ts").description,
    "return_probability": "Calibrated probability that the line comes back within the return window.",
    "top_factors": "The three features that move this line's probability most, with the move.",
    "model_version": "The production model that scored the line.",
}
"""Columns of the recent lines' scores (`returns.recent_line_scores`)."""
CUSTOMER_RATE_COLUMNS = {
    "customer_id": "Customer with at least one scored line in the scoring period.",
    "expected_return_rate": "Mean return probability of the customer's lines in the scoring period.",
    "scored_lines": "The customer's lines in the scoring period.",
}
"""Columns of the customers' expected return rates (`returns.customer_expected_return_rate`)."""


def line_scores(
    model: ReturnModel, facts: pd.DataFrame, explained_from: pd.Timestamp, top: int = 3, threads: int = 2
) -> pd.DataFrame:
    """Scores of past order lines (``FACT_COLUMNS`` and ``as_of_day``) for the batch tables and exports:
    each line's keys with ``return_probability``, ``model_version`` and, for the lines ordered at or
    after ``explained_from``, ``top_factors`` (text, e.g. "price_vs_usual +0.120, quantity -0.031";
    empty for earlier lines, which only feed the customers' expected return rates). A forest
    predicts on ``threads`` threads here (a saved model predicts single orders on one)."""
    scored = facts[list(LINE_SCORE_KEYS)].reset_index(drop=True)
    scored["return_probability"] = pd.Series(dtype="float64")
    scored["top_factors"] = pd.Series(dtype="str")
    scored["model_version"] = model.version
    if facts.empty:
        return scored
    features = build_features(facts)
    with model.threads(threads):
        scored["return_probability"] = model.predict(features)
        recent = (pd.to_datetime(facts["order_ts"]) >= explained_from).to_numpy()
        if recent.any():
            _, effects = model.effects(features[recent])
            texts = [", ".join(f"{name} {move:+.3f}" for name, move in strongest(e, top)) for e in effects]
            scored.loc[recent, "top_factors"] = texts
    return scored
