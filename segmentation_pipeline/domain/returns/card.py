"""The model card: what a model is, what it learnt from, how well it does and why it was (not) promoted."""

from __future__ import annotations

import hashlib
import math
import platform
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.returns.evaluation import BASELINES
from segmentation_pipeline.domain.returns.features import CATEGORICAL_FEATURES, FACT_COLUMNS, FEATURE_COLUMNS
from segmentation_pipeline.domain.returns.gate import GateDecision
from segmentation_pipeline.domain.returns.settings import ALGORITHMS, ReturnTrainingSettings
from segmentation_pipeline.domain.returns.split import TimeSplit, period


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
            "label": {
                "window_days": settings.window_days,
                "definition": f"the customer returns the product within {settings.window_days} days of the order",
            },
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
