"""Whether a newly trained model may replace the one in production."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from segmentation_pipeline.domain.returns.model import ReturnModel


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


MINIMUM_TRAINING_LINES = 200
"""Fewer lines with a known label than this are too few to train and judge a model on."""
MINIMUM_RETURNED_LINES = 20
"""A model needs at least this many returned lines (and as many kept) among the known labels."""


def too_few_lines(known_lines: int, returned_lines: int) -> str | None:
    """Why no model is trained on lines with these known labels, or None when there are enough of each kind."""
    if known_lines < MINIMUM_TRAINING_LINES:
        return f"not trained: {known_lines} lines with a known label, fewer than {MINIMUM_TRAINING_LINES}"
    if min(returned_lines, known_lines - returned_lines) < MINIMUM_RETURNED_LINES:
        return (
            f"not trained: {returned_lines} returned and {known_lines - returned_lines} kept lines with a known "
            f"label (at least {MINIMUM_RETURNED_LINES} of each; a source without returns has none)"
        )
    return None


def usable(model: ReturnModel | None, window_days: int) -> tuple[ReturnModel | None, str | None]:
    """The model when it answers today's question (today's features, a return within ``window_days``),
    else None and why not. A model of other features cannot score today's lines; a model of another
    return window predicts something else, so it is neither compared with nor used in its place."""
    if model is None:
        return None, None
    if not model.scores_current_features:
        return None, f"production {model.version} was trained on other features"
    if model.window_days != window_days:
        return None, (f"production {model.version} predicts returns within {model.window_days} days, not {window_days}")
    return model, None
