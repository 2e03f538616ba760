"""Daily customer segments from a versioned model that is refitted on a fixed rhythm.

Each day's customers are assigned by the model in force. The model is refitted when
none exists yet or the current one is `refit_every_days` old, once the day has
`min_customers`; a refit picks k by the documented rule (`choose_k`), then aligns the
new clusters to the previous model's (Hungarian matching of centroids in one feature
space), so a segment keeps its id across refits and days. A k whose segments do not
survive bootstrap refits, or that leaves a segment too small to act on, is replaced by
the largest smaller k without that fault. Names come from each segment's profile.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.segments.features import (
    CLUSTER_FEATURES,
    SHARE_COUNTS,
    FeatureScaling,
    apply_scaling,
    prepare_features,
)
from segmentation_pipeline.domain.segments.history import DaySnapshot, changed
from segmentation_pipeline.domain.segments.model import SegmentModel, align_labels, fit_segments, relabel
from segmentation_pipeline.domain.segments.naming import name_segments
from segmentation_pipeline.domain.segments.profiles import PROFILE_COLUMNS, segment_profiles
from segmentation_pipeline.domain.segments.selection import choose_k, search_k
from segmentation_pipeline.domain.segments.snapshot import HISTORY_COLUMNS
from segmentation_pipeline.domain.segments.stability import Stability, bootstrap_stability

# Below this bootstrap mean adjusted Rand index refits disagree too often for segments to be
# trusted (the usual reading of bootstrap agreement: under 0.6 unstable, 0.6-0.75 usable
# patterns, above 0.85 highly stable).
STABILITY_THRESHOLD = 0.6

MIN_SEGMENT_SHARE = 0.01
"""A k whose smallest segment holds less than this share of the customers (or fewer than
``min_segment_customers``) is not used: a segment that small is an outlier group, too small to act
on or to profile reliably."""

INPUT_COLUMNS: tuple[str, ...] = (
    "customer_id",
    *dict.fromkeys((*CLUSTER_FEATURES, *SHARE_COUNTS.values(), *PROFILE_COLUMNS)),
)
"""Snapshot columns a refit and an assignment read: the model features, the counts their shares are
measured over, and what the profiles report."""

SEGMENT_HISTORY_COLUMNS: dict[str, str] = {
    "as_of_day": "First day the row holds: a day on which the customer's segment id or name changed, or the "
    "customer was first segmented (the row holds until the customer's next row).",
    "customer_id": HISTORY_COLUMNS["customer_id"],
    "segment_id": "Segment id, stable across model refits.",
    "segment_name": "Readable segment name.",
}
"""Columns of the segment history (`segments.segment_history`): the changes ``segment_changes`` yields."""


@dataclass(frozen=True)
class SegmentationSettings:
    k_min: int = 2
    k_max: int = 12
    algorithm: str = "kmeans"
    refit_every_days: int = 28
    seed: int = 0
    stability_bootstraps: int = 5
    min_customers: int = 500
    """No segment model is fitted on fewer customers: a young shop's first days get RFM segments only."""
    min_segment_customers: int = 25
    """No segment may hold fewer customers (nor less than ``MIN_SEGMENT_SHARE`` of them)."""


@dataclass(frozen=True, eq=False)
class FittedSegmentation:
    """One version of the segment model with everything needed to explain and reuse it."""

    version: str
    fitted_on: date
    model: SegmentModel
    scaling: FeatureScaling
    names: dict[int, str]
    k_scores: pd.DataFrame
    k_reason: str
    stability: Stability
    customers: int

    def segment_ids(self, snapshot: pd.DataFrame) -> np.ndarray:
        """Segment id of every customer of a snapshot."""
        return self.model.predict(apply_scaling(snapshot, self.scaling))

    def names_of(self, ids: np.ndarray) -> np.ndarray:
        """The segment name of each id."""
        by_id = np.full(max(self.names) + 1, "", dtype=object)
        for segment, name in self.names.items():
            by_id[segment] = name
        return by_id[ids]

    def assign(self, snapshot: pd.DataFrame) -> pd.DataFrame:
        """Segment id and name of every customer of a snapshot."""
        ids = self.segment_ids(snapshot)
        return pd.DataFrame(
            {
                "customer_id": snapshot["customer_id"].to_numpy(),
                "segment_id": ids,
                "segment_name": self.names_of(ids),
                "model_version": self.version,
            }
        )


def needs_refit(current: FittedSegmentation | None, day: date, customers: int, settings: SegmentationSettings) -> bool:
    """A day gets a new model when none is in force or the one in force is ``refit_every_days`` old,
    and the day has at least ``settings.min_customers`` customers."""
    due = current is None or (day - current.fitted_on).days >= settings.refit_every_days
    return due and customers >= settings.min_customers


def smallest_segment_allowed(customers: int, settings: SegmentationSettings) -> int:
    """The fewest customers a segment may hold: ``min_segment_customers``, or ``MIN_SEGMENT_SHARE`` of
    the customers when that is more."""
    return max(settings.min_segment_customers, int(np.ceil(MIN_SEGMENT_SHARE * customers)))


def rescale_centroids(centroids: np.ndarray, source: FeatureScaling, target: FeatureScaling) -> np.ndarray:
    """Centroids of a model fitted with one scaling, expressed in another model's feature space."""
    unscaled = np.asarray(centroids) * np.asarray(source.stds) + np.asarray(source.means)
    return (unscaled - np.asarray(target.means)) / np.asarray(target.stds)


def stable_choice(
    X: np.ndarray, k: int, reason: str, settings: SegmentationSettings
) -> tuple[SegmentModel, Stability, str]:
    """The model for the rule's k, or for the largest smaller k whose segments are stable and big enough.

    A k is usable when its smallest segment holds at least ``smallest_segment_allowed``
    customers and bootstrap refits agree (mean adjusted Rand index at least
    ``STABILITY_THRESHOLD``). Smaller k are tried downwards from the rule's k and the first
    usable one wins; when none is usable, the most stable k with big enough segments (or, if no
    k has them, the most stable k).
    """
    floor = smallest_segment_allowed(len(X), settings)
    tried = []
    for candidate in range(k, settings.k_min - 1, -1):
        model = fit_segments(X, candidate, seed=settings.seed, algorithm=settings.algorithm)
        smallest = int(np.bincount(model.predict(X), minlength=candidate).min())
        stability = bootstrap_stability(
            X, candidate, n_boot=settings.stability_bootstraps, seed=settings.seed, reference=model
        )
        tried.append((model, stability, smallest >= floor))
        if smallest >= floor and stability.mean_ari >= STABILITY_THRESHOLD:
            break
    usable = [t for t in tried if t[2] and t[1].mean_ari >= STABILITY_THRESHOLD]
    big_enough = [t for t in tried if t[2]] or tried
    model, stability, _ = usable[0] if usable else max(big_enough, key=lambda t: t[1].mean_ari)
    if model.k != k:
        _, first_stability, first_big_enough = tried[0]
        problem = (
            f"unstable (adjusted Rand index {first_stability.mean_ari:.2f})"
            if first_big_enough
            else f"left a segment under {floor} customers"
        )
        why = "the largest smaller k with stable, big enough segments" if usable else "the most stable usable k"
        reason += f"; k={k} was {problem}, k={model.k} is {why} ({stability.mean_ari:.2f})"
    return model, stability, reason


def refit(
    snapshot: pd.DataFrame, day: date, previous: FittedSegmentation | None, settings: SegmentationSettings
) -> FittedSegmentation:
    """Fit a new model version on one day's snapshot, keeping the previous version's segment ids."""
    X, scaling = prepare_features(snapshot)
    k_most = min(settings.k_max, len(X) // smallest_segment_allowed(len(X), settings))
    k_values = range(settings.k_min, max(settings.k_min, k_most) + 1)
    scores = search_k(X, k_values, seed=settings.seed)
    model, stability, reason = stable_choice(X, *choose_k(scores), settings)
    if previous is not None:
        earlier = rescale_centroids(previous.model.centroids, previous.scaling, scaling)
        mapping = align_labels(earlier, model.centroids, previous.model.segment_ids)
    else:
        mapping = align_labels(np.empty((0, X.shape[1])), model.centroids)
    model = relabel(model, mapping)
    labels = model.predict(X)
    names = name_segments(segment_profiles(snapshot, labels))
    return FittedSegmentation(
        version=f"{day:%Y%m%d}",
        fitted_on=day,
        model=model,
        scaling=scaling,
        names=names,
        k_scores=scores,
        k_reason=reason,
        stability=replace(stability, jaccard={mapping[c]: j for c, j in stability.jaccard.items()}),
        customers=len(X),
    )


@dataclass(frozen=True)
class SegmentedDay:
    """One day of the segment history: who changed segment, and the model refitted that day if any."""

    day: date
    changes: pd.DataFrame
    """as_of_day, customer_id, segment_id, segment_name of the customers whose segment id or name
    differs from the day before (or who are segmented for the first time)."""
    refit: FittedSegmentation | None
    snapshot: pd.DataFrame
    """The day's snapshot (``INPUT_COLUMNS``)."""


def segment_changes(
    days: Iterable[DaySnapshot],
    customers: int,
    in_force: FittedSegmentation | None,
    settings: SegmentationSettings,
) -> Iterator[SegmentedDay]:
    """Segment every customer of each day's snapshot with the model in force, refitting on the first
    day the cadence calls for it, and yield each day's changes against the day before.

    ``days`` yields snapshots over ``customers`` positions; the first day is the day before the
    period: it is segmented with ``in_force`` to set the starting point and yields nothing.
    """
    previous_ids = np.full(customers, -1, dtype=np.int64)
    previous_names = np.full(customers, "", dtype=object)
    for index, snapshot in enumerate(days):
        frame, fitted = snapshot.frame, None
        if index > 0 and needs_refit(in_force, snapshot.day, len(frame), settings):
            in_force = fitted = refit(frame, snapshot.day, in_force, settings)
        if in_force is None:
            continue
        ids = in_force.segment_ids(frame)
        names = in_force.names_of(ids)
        moved = changed(previous_ids, snapshot.positions, ids) | changed(previous_names, snapshot.positions, names)
        if index == 0:
            continue
        changes = pd.DataFrame(
            {
                "as_of_day": pd.Timestamp(snapshot.day),
                "customer_id": snapshot.customer_ids(moved),
                "segment_id": ids[moved],
                "segment_name": names[moved],
            }
        )
        yield SegmentedDay(snapshot.day, changes, fitted, frame)
