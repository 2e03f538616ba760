"""Judging the purchase models on a holdout: calibration period, predicted against actual purchases."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.charts import bar

TOP_FREQUENCY_GROUP = 7
"""Calibration repeat purchases are grouped 0, 1, ..., 6 and 7 or more."""


def calibration_end(first_day: date, latest_day: date, holdout_weeks: int, asked: date | None = None) -> date:
    """The last day the purchase models are fitted on before the holdout.

    The day asked for when given (it must leave a holdout before ``latest_day``); else the holdout is
    the last ``holdout_weeks`` weeks, or the latter half of the history when that is shorter.
    """
    if asked is not None:
        if not first_day <= asked < latest_day:
            raise ValueError(f"calibration_end: {asked} must lie in [{first_day}, {latest_day}) to leave a holdout")
        return asked
    holdout_days = min(7 * holdout_weeks, (latest_day - first_day).days // 2)
    return latest_day - timedelta(days=holdout_days)


def holdout_by_frequency(x: np.ndarray, actual: np.ndarray, predicted: dict[str, np.ndarray]) -> pd.DataFrame:
    """Mean actual and predicted holdout purchases per customer, by calibration repeat purchases
    (0, 1, ..., 7+), and a total row; one predicted column per model."""
    group = np.minimum(np.asarray(x, dtype=np.int64), TOP_FREQUENCY_GROUP)
    frame = pd.DataFrame({"group": group, "actual": actual, **predicted})
    table = frame.groupby("group").agg(customers=("actual", "size"), actual=("actual", "mean"))
    for name in predicted:
        table[name] = frame.groupby("group")[name].mean()
    table.index = [f"{g}+" if g == TOP_FREQUENCY_GROUP else str(g) for g in table.index]
    total = {"customers": len(frame), "actual": frame["actual"].sum()}
    total |= {name: frame[name].sum(min_count=len(frame)) for name in predicted}  # NaN when a prediction is missing
    table.loc["total"] = pd.Series(total)
    return table.rename_axis("calibration_repeat_purchases")


def holdout_scores(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """How close a model's predicted holdout purchases come: totals, the relative error of the total,
    and the per-customer root mean squared and mean absolute errors."""
    actual, predicted = np.asarray(actual, dtype=np.float64), np.asarray(predicted, dtype=np.float64)
    total_actual, total_predicted = float(actual.sum()), float(predicted.sum())
    return {
        "actual_total": total_actual,
        "predicted_total": total_predicted,
        "total_error": abs(total_predicted - total_actual) / total_actual if total_actual > 0 else float("nan"),
        "rmse": float(np.sqrt(np.mean((predicted - actual) ** 2))) if len(actual) else float("nan"),
        "mae": float(np.mean(np.abs(predicted - actual))) if len(actual) else float("nan"),
    }


def choose_purchase_model(scores: dict[str, dict[str, float]]) -> str:
    """The model whose predictions come closest per customer on the holdout (lowest RMSE; the first
    listed wins a tie). Models without a finite score are not chosen."""
    usable = {name: s["rmse"] for name, s in scores.items() if np.isfinite(s["rmse"])}
    if not usable:
        raise ValueError("no purchase model could be scored on the holdout")
    return min(usable, key=lambda name: (usable[name], list(scores).index(name)))


def spend_frequency_correlation(x: np.ndarray, m: np.ndarray) -> float:
    """Pearson correlation of repeat purchases and mean spend among repeat customers: Gamma-Gamma
    assumes it is near zero."""
    repeat = np.asarray(x) > 0
    if repeat.sum() < 3:
        return float("nan")
    xs, ms = np.asarray(x, dtype=np.float64)[repeat], np.asarray(m, dtype=np.float64)[repeat]
    if xs.std() == 0 or ms.std() == 0:
        return float("nan")
    return float(np.corrcoef(xs, ms)[0, 1])


def holdout_chart(table: pd.DataFrame, models: list[str], width: int = 20) -> str:
    """Actual against predicted mean holdout purchases per calibration frequency group, as text bars."""
    rows = table.drop(index="total", errors="ignore")
    top = float(rows[["actual", *models]].to_numpy().max()) if len(rows) else 0.0
    lines = []
    for group, row in rows.iterrows():
        for j, name in enumerate(["actual", *models]):
            label = f"{group:>3}" if j == 0 else "   "
            lines.append(f"{label} {name:<10} {bar(float(row[name]), top, width):<{width}} {row[name]:.2f}")
    return "```\n" + "\n".join(lines) + "\n```"


MIN_HOLDOUT_DAYS = 14
"""A holdout shorter than this says too little about the purchase models."""
MIN_REPEAT_CUSTOMERS = 30
"""Gamma-Gamma and the purchase models need at least this many customers with a repeat purchase."""


def too_little_history(first_day: date, latest_day: date, end: date, calibration: pd.DataFrame) -> str | None:
    """Why the models cannot be fitted and judged yet, or None."""
    if (latest_day - end).days < MIN_HOLDOUT_DAYS:
        return (
            f"the history from {first_day} to {latest_day} leaves a holdout of {(latest_day - end).days} days "
            f"after the calibration end {end} (at least {MIN_HOLDOUT_DAYS})"
        )
    repeat = int((calibration["x"] > 0).sum())
    if repeat < MIN_REPEAT_CUSTOMERS:
        return f"{repeat} customers with a repeat purchase by {end} (at least {MIN_REPEAT_CUSTOMERS})"
    return None
