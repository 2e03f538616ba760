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

import hashlib
import importlib
import itertools
import math
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.return_features import (
    CATEGORICAL_FEATURES,
    FACT_COLUMNS,
    FEATURE_COLUMNS,
    build_features,
)
from segmentation_pipeline.domain.return_model import ReturnModel, SigmoidCalibrator, pipeline_scores

BASELINES: dict[str, str] = {
    "population_rate": "The training period's return rate, the same score for every line.",
    "customer_rate": "The customer's smoothed earlier return rate (feature customer_return_rate).",
}
"""The scores a model must beat to be worth serving."""

ALGORITHMS: dict[str, str] = {
    "hist_gradient_boosting": "Histogram gradient-boosted trees (categories as categorical splits).",
    "random_forest": "Random forest on a seeded sample of training lines (categories as ordinal codes).",
}
"""The candidate models, each a scikit-learn Pipeline on ``FEATURE_COLUMNS``."""


@dataclass(frozen=True)
class ReturnTrainingSettings:
    """Hyperparameters and rules of a training run; none depends on the return window."""

    seed: int = 0
    validation_fraction: float = 0.2
    test_fraction: float = 0.2
    category_min_lines: int = 200
    """Categories with fewer training lines share one code ("infrequent")."""
    category_max: int = 40
    forest_trees: int = 150
    forest_min_samples_leaf: int = 40
    forest_max_rows: int = 150_000
    """The forest trains on a seeded sample of at most this many lines."""
    boosting_max_iter: int = 80
    boosting_learning_rate: float = 0.15
    boosting_max_leaf_nodes: int = 7
    boosting_min_samples_leaf: int = 500
    boosting_l2_regularization: float = 20.0
    """Small, strongly regularised trees: on Online Retail they held up better on later periods
    than larger ones. 80 trees at rate 0.15 score as well as 400 at rate 0.03 (test ROC AUC
    0.8731 against 0.8732 on the default shop, 0.7683 against 0.7687 on Online Retail) and cost
    a fifth as much to score an order: each tree adds a fixed cost per call."""
    n_jobs: int = 1
    """Threads for training (forest jobs and OpenMP); the saved model predicts on one. On shared
    cores one thread is safest: gradient boosting slows down many times over when its OpenMP
    threads compete with other processes for the cores."""
    auc_tie: float = 0.001
    """Validation ROC AUCs this close count as a tie, broken by PR AUC."""
    isotonic_min_lines: int = 5_000
    """Isotonic calibration from this many validation lines, sigmoid below."""
    importance_max_lines: int = 20_000
    importance_repeats: int = 3
    price_bands: int = 5
    gate_margin: float = 0.01
    """How much test ROC AUC a new model may lose against production and still be promoted."""

    @property
    def fractions(self) -> tuple[float, float, float]:
        return (1.0 - self.validation_fraction - self.test_fraction, self.validation_fraction, self.test_fraction)


# --------------------------------------------------------------------------- split


class TimeSplit(NamedTuple):
    """Labelled lines in three consecutive periods of order time."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame


def time_split(lines: pd.DataFrame, fractions: Sequence[float] = (0.6, 0.2, 0.2)) -> TimeSplit:
    """Train, validation and test lines: consecutive periods of order time, oldest first.

    Only lines ordered before the first line whose label is still unknown take part: after
    that point the known labels are mostly early returns, whose rate is biased upwards.
    With the lines in time order, train ends at the order time of the line that brings it
    to ``fractions[0]`` of the lines, validation at the one that brings both to
    ``fractions[0] + fractions[1]``, and each part takes every line of its order times. So
    all lines of an order land in the same part and each part ends before the next begins;
    with many lines at one instant the parts are only roughly the fractions. Each part is
    sorted by order time, order and line.
    """
    if len(fractions) != 3 or min(fractions) <= 0:
        raise ValueError(f"fractions must be three positive shares, got {fractions}")
    labelled = lines.assign(order_ts=pd.to_datetime(lines["order_ts"]))
    unknown = ~labelled["label_known"].astype(bool)
    if unknown.any():
        labelled = labelled[labelled["order_ts"] < labelled.loc[unknown, "order_ts"].min()]
    labelled = labelled.sort_values(["order_ts", "order_id", "line_no"], kind="stable").reset_index(drop=True)
    order_time = labelled.groupby("order_id", sort=False)["order_ts"].transform("min").to_numpy()
    times = np.sort(order_time)
    shares = np.cumsum(fractions) / float(sum(fractions))
    cuts = [times[max(math.ceil(share * len(times)) - 1, 0)] for share in shares[:2]] if len(times) else []
    if len(times) == 0 or not times[0] <= cuts[0] < cuts[1] < times[-1]:
        raise ValueError(f"{len(times)} labelled lines do not span three periods of order time")
    part = np.searchsorted(np.asarray(cuts), order_time, side="left")
    return TimeSplit(*(labelled[part == i].reset_index(drop=True) for i in range(3)))


def period(lines: pd.DataFrame) -> dict[str, Any]:
    """The time window and size of one part: first and last order time, lines, orders, return rate."""
    return {
        "first_order_ts": pd.Timestamp(lines["order_ts"].min()).isoformat(),
        "last_order_ts": pd.Timestamp(lines["order_ts"].max()).isoformat(),
        "lines": len(lines),
        "orders": int(lines["order_id"].nunique()),
        "return_rate": float(lines["returned"].astype(bool).mean()),
    }


# --------------------------------------------------------------------------- scores and metrics


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


# --------------------------------------------------------------------------- candidates


def candidate_pipeline(algorithm: str, settings: ReturnTrainingSettings) -> Any:
    """An unfitted scikit-learn Pipeline of ``algorithm`` on ``FEATURE_COLUMNS``.

    Categories are ordinal-coded first; categories rarer than ``category_min_lines`` share
    one code, and a category never seen in training scores as a missing one.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    categorical = list(CATEGORICAL_FEATURES)
    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=-1,
        encoded_missing_value=-1,
        min_frequency=settings.category_min_lines,
        max_categories=settings.category_max,
        dtype=np.float64,
    )
    columns = ColumnTransformer(
        [
            ("categories", encoder, categorical),
            ("numbers", "passthrough", [c for c in FEATURE_COLUMNS if c not in CATEGORICAL_FEATURES]),
        ],
        verbose_feature_names_out=False,
    )
    if algorithm == "hist_gradient_boosting":
        model = HistGradientBoostingClassifier(
            learning_rate=settings.boosting_learning_rate,
            max_iter=settings.boosting_max_iter,
            max_leaf_nodes=settings.boosting_max_leaf_nodes,
            min_samples_leaf=settings.boosting_min_samples_leaf,
            l2_regularization=settings.boosting_l2_regularization,
            categorical_features=list(range(len(categorical))),
            early_stopping=True,
            random_state=settings.seed,
        )
    elif algorithm == "random_forest":
        model = RandomForestClassifier(
            n_estimators=settings.forest_trees,
            min_samples_leaf=settings.forest_min_samples_leaf,
            max_features="sqrt",
            n_jobs=settings.n_jobs,
            random_state=settings.seed,
        )
    else:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose from {sorted(ALGORITHMS)}")
    return Pipeline([("columns", columns), ("model", model)])


def fit_candidates(
    features: pd.DataFrame, returned: np.ndarray, settings: ReturnTrainingSettings
) -> tuple[dict[str, Any], dict[str, float]]:
    """Every candidate of ``ALGORITHMS`` fitted on the training lines, and the seconds each took.

    The forest fits on a seeded sample of at most ``forest_max_rows`` lines: its cost grows
    with lines x trees, and on generated data 300,000 lines instead of 150,000 doubled its
    time for 0.001 more validation ROC AUC.
    """
    y = np.asarray(returned, dtype=bool)
    fitted, seconds = {}, {}
    for algorithm in ALGORITHMS:
        rows = np.arange(len(features))
        if algorithm == "random_forest" and len(rows) > settings.forest_max_rows:
            rng = np.random.default_rng(settings.seed)
            rows = np.sort(rng.choice(len(rows), size=settings.forest_max_rows, replace=False))
        started = time.perf_counter()
        fitted[algorithm] = candidate_pipeline(algorithm, settings).fit(features.iloc[rows], y[rows])
        seconds[algorithm] = time.perf_counter() - started
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


# --------------------------------------------------------------------------- key factors


def key_factors(pipeline: Any, lines: pd.DataFrame, settings: ReturnTrainingSettings) -> pd.DataFrame:
    """Which features the model relies on: the drop in ROC AUC when one feature's values are shuffled.

    Permutation importance of the fitted pipeline (raw scores: calibration is monotone, so
    ROC AUC barely depends on it) on a seeded sample of at most ``importance_max_lines``
    labelled lines, ``importance_repeats`` shuffles each. Largest drop first.
    """
    from sklearn.inspection import permutation_importance

    sample = lines
    if len(lines) > settings.importance_max_lines:
        sample = lines.sample(n=settings.importance_max_lines, random_state=settings.seed)
    result = permutation_importance(
        pipeline,
        build_features(sample),
        sample["returned"].astype(bool).to_numpy(),
        scoring="roc_auc",
        n_repeats=settings.importance_repeats,
        random_state=settings.seed,
        n_jobs=1,
    )
    importance = pd.DataFrame(
        {
            "feature": list(FEATURE_COLUMNS),
            "auc_drop": result.importances_mean,
            "auc_drop_std": result.importances_std,
            "description": list(FEATURE_COLUMNS.values()),
        }
    )
    return importance.sort_values("auc_drop", ascending=False, kind="stable").reset_index(drop=True)


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


# --------------------------------------------------------------------------- gate and card


@dataclass(frozen=True)
class GateDecision:
    """Whether a newly trained model replaces the one in production, and why (with the numbers)."""

    promote: bool
    reason: str


def gate(
    candidate: Mapping[str, float],
    baselines: Mapping[str, Mapping[str, float]],
    production: Mapping[str, float] | None = None,
    margin: float = 0.01,
) -> GateDecision:
    """Promote a model only if its test ROC AUC beats every baseline's and is at most ``margin``
    below the production model's on the same test lines (without a production model, the
    baselines alone decide). The arguments are test metrics as from ``score_metrics``."""
    auc = candidate["roc_auc"]
    beaten = [f"{name} {m['roc_auc']:.4f}" for name, m in baselines.items() if auc > m["roc_auc"]]
    unbeaten = [f"{name} {m['roc_auc']:.4f}" for name, m in baselines.items() if not auc > m["roc_auc"]]
    if unbeaten:
        return GateDecision(False, f"refused: test ROC AUC {auc:.4f} does not beat {', '.join(unbeaten)}")
    reason = f"test ROC AUC {auc:.4f} beats {', '.join(beaten)}"
    if production is None:
        return GateDecision(True, f"promoted: {reason}; no model in production")
    gap = auc - production["roc_auc"]
    versus = f"production {production['roc_auc']:.4f} on the same lines ({gap:+.4f}, margin {margin})"
    if not gap >= -margin:
        return GateDecision(False, f"refused: {reason} but falls behind {versus}")
    return GateDecision(True, f"promoted: {reason} and keeps up with {versus}")


def data_fingerprint(lines: pd.DataFrame) -> str:
    """sha256 over the row hashes of the facts and labels, in sorted order: the same lines give
    the same fingerprint whatever their order, any changed fact or label another one."""
    columns = [c for c in [*FACT_COLUMNS, "returned", "label_known"] if c in lines.columns]
    hashes = np.sort(pd.util.hash_pandas_object(lines[columns], index=False).to_numpy())
    return hashlib.sha256(hashes.tobytes()).hexdigest()


def library_versions() -> dict[str, str]:
    """Versions a saved model depends on: a pickle loads reliably only with the same scikit-learn."""
    import sklearn

    return {
        "python": platform.python_version(),
        "scikit_learn": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }


def plain(value: Any) -> Any:
    """A JSON-ready copy of metrics: NumPy numbers as Python numbers, NaN as None."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def model_card(
    *,
    version: str,
    algorithm: str,
    created_at: datetime,
    split: TimeSplit,
    choice: str,
    calibration: str,
    metrics: pd.DataFrame,
    curves: pd.DataFrame,
    importance: pd.DataFrame,
    decision: GateDecision,
    fingerprint: str,
    settings: ReturnTrainingSettings,
    training_seconds: Mapping[str, float],
) -> dict[str, Any]:
    """The model card as plain JSON-ready data: what the model is, what it learnt from, how well
    it does on the test period against the baselines, and whether it was promoted."""
    return plain(
        {
            "version": version,
            "algorithm": algorithm,
            "algorithm_description": ALGORITHMS[algorithm],
            "created_at": created_at.isoformat(),
            "windows": {name: period(part) for name, part in zip(TimeSplit._fields, split, strict=True)},
            "features": [
                {"name": name, "description": text, "categorical": name in CATEGORICAL_FEATURES}
                for name, text in FEATURE_COLUMNS.items()
            ],
            "choice": choice,
            "calibration": calibration,
            "test_metrics": metrics.to_dict(orient="index"),
            "baselines": BASELINES,
            "calibration_curves": {
                scorer: curve.drop(columns="scorer").to_dict(orient="records")
                for scorer, curve in curves.groupby("scorer", sort=False)
            },
            "key_factors": importance[["feature", "auc_drop", "auc_drop_std"]].to_dict(orient="records"),
            "gate": asdict(decision),
            "data_fingerprint": fingerprint,
            "settings": asdict(settings),
            "training_seconds": dict(training_seconds),
            "library_versions": library_versions(),
        }
    )


# --------------------------------------------------------------------------- orchestration


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
    settings: ReturnTrainingSettings = ReturnTrainingSettings(),
    production: ReturnModel | None = None,
    version: str | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> TrainingResult:
    """Train, choose, calibrate and judge a return model on labelled order lines, and decide
    whether it should replace ``production`` (the model now in production, scored on the same
    test lines). ``version`` defaults to the creation time to the microsecond, ``YYYYMMDDTHHMMSSffffffZ``."""
    from threadpoolctl import threadpool_limits

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
    model = ReturnModel(version, algorithm, pipeline, calibrator, reference_values(train))

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
    importance = key_factors(pipeline, split.test, settings)
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
