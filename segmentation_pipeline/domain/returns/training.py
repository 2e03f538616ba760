"""Training the return model: time split, baselines, candidates, calibration, quality gate and model card.

Training takes labelled order lines: the facts of ``return_features.FACT_COLUMNS`` plus
``returned`` (the customer sent the product back within the return window) and
``label_known`` (the window has closed, or the line is already back). The model learns
from the oldest labelled lines, is chosen and calibrated on the next period and is judged
on the newest one, as it will be used: on orders placed after everything it learnt from.

The steps, each a function here, run in order by ``train_return_model``:

1. ``time_split``: train, validation and test periods.
2. ``fit_candidates``: a random forest and a histogram gradient-boosting model.
3. ``choose_candidate`` on validation ROC AUC; ``calibrate`` on validation.
4. ``score_metrics`` and ``calibration_curve`` on test, for the model and the two
   ``baseline_scores`` (and the production model, when there is one).
5. ``key_factors`` and ``return_rates``: what drives returns in the test period.
6. ``gate``: promote the new model or keep the one in production.
7. ``model_card``: what was trained on what, how well it does, and why it was (not) promoted.

Scikit-learn is imported inside the functions that need it, so importing this module stays cheap.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.returns.card import data_fingerprint, model_card
from segmentation_pipeline.domain.returns.evaluation import (
    BASELINES,
    baseline_scores,
    calibration_curve,
    key_factors,
    return_rates_by_group,
    score_metrics,
)
from segmentation_pipeline.domain.returns.features import CATEGORICAL_FEATURES, FEATURE_COLUMNS, build_features
from segmentation_pipeline.domain.returns.gate import GateDecision, gate
from segmentation_pipeline.domain.returns.model import ReturnModel, SigmoidCalibrator, pipeline_scores
from segmentation_pipeline.domain.returns.settings import ALGORITHMS, ReturnTrainingSettings
from segmentation_pipeline.domain.returns.split import time_split


def column_step(settings: ReturnTrainingSettings) -> Any:
    """The unfitted step that turns features into model columns: categories ordinal-coded (categories
    rarer than ``category_min_lines`` share one code; one never seen in training scores as missing),
    numbers passed through."""
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OrdinalEncoder

    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=-1,
        encoded_missing_value=-1,
        min_frequency=settings.category_min_lines,
        max_categories=settings.category_max,
        dtype=np.float64,
    )
    return ColumnTransformer(
        [
            ("categories", encoder, list(CATEGORICAL_FEATURES)),
            ("numbers", "passthrough", [c for c in FEATURE_COLUMNS if c not in CATEGORICAL_FEATURES]),
        ],
        verbose_feature_names_out=False,
    )


def model_step(algorithm: str, settings: ReturnTrainingSettings) -> Any:
    """The unfitted classifier of ``algorithm`` on the model columns."""
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

    if algorithm == "hist_gradient_boosting":
        return HistGradientBoostingClassifier(
            learning_rate=settings.boosting_learning_rate,
            max_iter=settings.boosting_max_iter,
            max_leaf_nodes=settings.boosting_max_leaf_nodes,
            min_samples_leaf=settings.boosting_min_samples_leaf,
            l2_regularization=settings.boosting_l2_regularization,
            categorical_features=list(range(len(CATEGORICAL_FEATURES))),
            early_stopping=True,
            random_state=settings.seed,
        )
    if algorithm == "random_forest":
        return RandomForestClassifier(
            n_estimators=settings.forest_trees,
            min_samples_leaf=settings.forest_min_samples_leaf,
            max_features="sqrt",
            max_samples=settings.forest_tree_rows,
            n_jobs=settings.forest_jobs,
            random_state=settings.seed,
        )
    raise ValueError(f"unknown algorithm {algorithm!r}; choose from {sorted(ALGORITHMS)}")


def candidate_pipeline(algorithm: str, settings: ReturnTrainingSettings) -> Any:
    """An unfitted scikit-learn Pipeline of ``algorithm`` on ``FEATURE_COLUMNS``."""
    from sklearn.pipeline import Pipeline

    return Pipeline([("columns", column_step(settings)), ("model", model_step(algorithm, settings))])


def fit_candidates(
    features: pd.DataFrame, returned: np.ndarray, settings: ReturnTrainingSettings
) -> tuple[dict[str, Any], dict[str, float]]:
    """Every candidate of ``ALGORITHMS`` fitted on the training lines, and the seconds each took.

    The column step is fitted once on every training line and shared. The forest fits on a
    seeded sample of at most ``forest_max_rows`` lines, each tree on a bootstrap draw of
    ``forest_tree_rows`` of them: its cost grows with the rows a tree sees times the trees.
    """
    from sklearn.pipeline import Pipeline

    y = np.asarray(returned, dtype=bool)
    started = time.perf_counter()
    columns = column_step(settings).fit(features)
    X = columns.transform(features)
    shared = time.perf_counter() - started
    fitted, seconds = {}, {}
    for algorithm in ALGORITHMS:
        rows = np.arange(len(features))
        if algorithm == "random_forest" and len(rows) > settings.forest_max_rows:
            rng = np.random.default_rng(settings.seed)
            rows = np.sort(rng.choice(len(rows), size=settings.forest_max_rows, replace=False))
        started = time.perf_counter()
        model = model_step(algorithm, settings).fit(X[rows], y[rows])
        fitted[algorithm] = Pipeline([("columns", columns), ("model", model)])
        seconds[algorithm] = shared + time.perf_counter() - started
    return fitted, seconds


def choose_candidate(validation: Mapping[str, Mapping[str, float]], auc_tie: float = 0.001) -> tuple[str, str]:
    """The candidate with the highest validation ROC AUC, and why.

    Candidates within ``auc_tie`` of the best ROC AUC tie; the tie goes to the higher PR AUC,
    then to the first name in alphabetical order.
    """
    best_auc = max(m["roc_auc"] for m in validation.values())
    tied = sorted(name for name, m in validation.items() if m["roc_auc"] >= best_auc - auc_tie)
    chosen = max(tied, key=lambda name: validation[name]["pr_auc"])
    scores = ", ".join(
        f"{name} {m['roc_auc']:.4f} (PR AUC {m['pr_auc']:.4f})" for name, m in sorted(validation.items())
    )
    rule = f"highest ROC AUC; PR AUC breaks ties within {auc_tie}" if len(tied) > 1 else "highest ROC AUC"
    return chosen, f"{chosen} chosen on validation ({rule}): {scores}"


def calibrate(scores: np.ndarray, returned: np.ndarray, isotonic_min_lines: int) -> tuple[Any, str]:
    """A map from raw score to return probability fitted on validation lines, and its method.

    Isotonic regression (any monotone shape) when there are at least ``isotonic_min_lines``
    lines; below that it overfits, and a sigmoid on the score's log-odds (Platt scaling) is used.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(returned, dtype=bool)
    if len(s) >= isotonic_min_lines:
        from sklearn.isotonic import IsotonicRegression

        return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(s, y), "isotonic"
    from sklearn.linear_model import LogisticRegression

    logistic = LogisticRegression(C=1e4).fit(SigmoidCalibrator.log_odds(s)[:, None], y)
    return SigmoidCalibrator(float(logistic.coef_[0, 0]), float(logistic.intercept_[0])), "sigmoid"


def reference_values(features: pd.DataFrame) -> dict[str, Any]:
    """A typical training line: the median of every numeric feature, the most frequent category
    (the first in alphabetical order among equally frequent ones)."""
    return {
        name: str(features[name].mode().iloc[0]) if name in CATEGORICAL_FEATURES else float(features[name].median())
        for name in FEATURE_COLUMNS
    }


def for_single_requests(pipeline: Any) -> Any:
    """The pipeline set to predict on one thread: a scoring request is a handful of lines,
    where starting threads costs more than it saves."""
    if "n_jobs" in pipeline.named_steps["model"].get_params():
        pipeline.set_params(model__n_jobs=1)
    return pipeline


@dataclass(frozen=True)
class TrainingResult:
    """Everything a training run produces; ``model`` carries ``card``."""

    model: ReturnModel
    metrics: pd.DataFrame
    """Test metrics, one row per scorer: model, the baselines, production (when there is one)."""
    validation: pd.DataFrame
    """Validation metrics of the candidates, the basis of the choice."""
    curves: pd.DataFrame
    """Test calibration curves, one block of bins per scorer."""
    importance: pd.DataFrame
    rates: dict[str, pd.DataFrame]
    decision: GateDecision
    card: dict[str, Any]


def train_return_model(
    lines: pd.DataFrame,
    settings: ReturnTrainingSettings | None = None,
    production: ReturnModel | None = None,
    version: str | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> TrainingResult:
    """Train, choose, calibrate and judge a return model on labelled order lines, and decide
    whether it should replace ``production`` (the model now in production, scored on the same
    test lines). ``version`` defaults to the creation time to the microsecond, ``YYYYMMDDTHHMMSSffffffZ``."""
    from threadpoolctl import threadpool_limits

    settings = settings or ReturnTrainingSettings()
    importlib.import_module("sklearn.ensemble")  # loads the OpenMP runtime, so that the limit applies to it
    created_at = clock()
    with threadpool_limits(limits=settings.n_jobs):
        return _train(lines, settings, production, version or created_at.strftime("%Y%m%dT%H%M%S%fZ"), created_at)


def _train(
    lines: pd.DataFrame,
    settings: ReturnTrainingSettings,
    production: ReturnModel | None,
    version: str,
    created_at: datetime,
) -> TrainingResult:
    split = time_split(lines, settings.fractions)
    train, validation, test = (build_features(part) for part in split)
    y_train, y_validation, y_test = (part["returned"].astype(bool).to_numpy() for part in split)

    candidates, seconds = fit_candidates(train, y_train, settings)
    validation_scores = {name: pipeline_scores(p, validation) for name, p in candidates.items()}
    validation_metrics = {name: score_metrics(y_validation, s) for name, s in validation_scores.items()}
    algorithm, choice = choose_candidate(validation_metrics, settings.auc_tie)
    pipeline = candidates[algorithm]
    calibrator, method = calibrate(validation_scores[algorithm], y_validation, settings.isotonic_min_lines)
    model = ReturnModel(
        version, algorithm, pipeline, calibrator, reference_values(train), window_days=settings.window_days
    )

    scores = {"model": model.predict(test), **baseline_scores(test, y_train.mean())}
    if production is not None:
        scores["production"] = production.predict(test)
    metrics = pd.DataFrame({name: score_metrics(y_test, s) for name, s in scores.items()}).T
    curves = pd.concat(
        [calibration_curve(y_test, s).assign(scorer=name) for name, s in scores.items()], ignore_index=True
    )
    by_scorer = metrics.to_dict(orient="index")
    decision = gate(
        by_scorer["model"],
        {name: by_scorer[name] for name in BASELINES},
        by_scorer.get("production"),
        settings.gate_margin,
    )
    importance = key_factors(model, split.test, settings)
    for_single_requests(pipeline)
    model.card = model_card(
        version=version,
        algorithm=algorithm,
        created_at=created_at,
        split=split,
        choice=choice,
        calibration=f"{method}, fitted on the {len(y_validation)} validation lines",
        metrics=metrics,
        curves=curves,
        importance=importance,
        decision=decision,
        fingerprint=data_fingerprint(pd.concat(split, ignore_index=True)),
        settings=settings,
        training_seconds=seconds,
    )
    return TrainingResult(
        model=model,
        metrics=metrics,
        validation=pd.DataFrame(validation_metrics).T,
        curves=curves,
        importance=importance,
        rates=return_rates_by_group(split.test, split.train, settings.price_bands),
        decision=decision,
        card=model.card,
    )
