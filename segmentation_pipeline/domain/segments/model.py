"""A fitted segmentation and how it is fitted; segment ids that persist across refits.

Scikit-learn and SciPy are imported inside the functions that need them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MINIBATCH_ABOVE = 50_000
"""Above this many rows k-means uses MiniBatchKMeans (batch 4096, 3 initialisations)."""


MODEL_FIT_SIZE = 200_000
"""``fit_segments`` fits on a seeded sample of at most this many rows; every row is then assigned.

Centroids of 2-12 segments in eight dimensions are estimated as well from 200,000 customers as
from millions, and a larger base then costs only the assignment, not the fit.
"""


def sample_rows(n: int, size: int | None, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of a uniform sample without replacement (all rows when small enough)."""
    if size is None or n <= size:
        return np.arange(n)
    return np.sort(rng.choice(n, size=size, replace=False))


def fit_kmeans(X: np.ndarray, k: int, seed: int, initialisations: int = 4) -> Any:
    """A fitted k-means: KMeans (4 initialisations by default), or MiniBatchKMeans (batch 4096, 3
    initialisations) above ``MINIBATCH_ABOVE`` rows.

    Mini-batch steps run on one thread: a step of 4,096 rows is too small to gain from
    splitting, and waiting for a second thread at every step slowed the fit tenfold on a
    busy two-core machine (the result is the same).
    """
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from threadpoolctl import threadpool_limits

    if len(X) > MINIBATCH_ABOVE:
        with threadpool_limits(limits=1, user_api="openmp"):
            return MiniBatchKMeans(n_clusters=k, batch_size=4096, n_init=3, random_state=seed).fit(X)
    return KMeans(n_clusters=k, n_init=initialisations, random_state=seed).fit(X)


@dataclass(frozen=True, eq=False)
class SegmentModel:
    """A fitted segmentation: assigns customers (rows of scaled features) to segment ids.

    ``centroids`` are the segment centres in scaled feature space (Gaussian-mixture means
    for ``algorithm == "gmm"``), one row per segment in the order of ``segment_ids``
    (ascending). ``cluster_segments[c]`` is the segment id of the estimator's cluster c, so
    ids survive refits (see ``relabel``). ``inertia`` is the within-segment sum of squares
    (k-means), ``bic`` the Bayesian information criterion (Gaussian mixture), both on the
    fitted rows.
    """

    algorithm: str
    estimator: Any
    centroids: np.ndarray
    segment_ids: tuple[int, ...]
    cluster_segments: tuple[int, ...]
    inertia: float | None = None
    bic: float | None = None

    @property
    def k(self) -> int:
        return len(self.segment_ids)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Segment id of every row of scaled features."""
        clusters = self.estimator.predict(np.asarray(X, dtype=np.float64))
        return np.asarray(self.cluster_segments, dtype=np.int64)[clusters]


def fit_segments(
    X: np.ndarray, k: int, seed: int = 0, algorithm: str = "kmeans", fit_size: int | None = MODEL_FIT_SIZE
) -> SegmentModel:
    """Fit k segments; segment ids are the estimator's cluster indices until ``relabel``.

    The fit uses all rows up to ``fit_size`` (200,000 by default; ``None``: always all rows)
    and a seeded sample of that many rows above it. ``"kmeans"`` uses KMeans (4
    initialisations), or MiniBatchKMeans (batch 4096, 3 initialisations) above 50,000 fitted
    rows. ``"gmm"`` is a Gaussian mixture with full covariances and 2 initialisations;
    customers go to their most probable component. ``inertia`` and ``bic`` are on the fitted rows.
    """
    X = np.asarray(X, dtype=np.float64)
    X = X[sample_rows(len(X), fit_size, np.random.default_rng(seed))]
    if algorithm == "kmeans":
        estimator = fit_kmeans(X, k, seed)
        centroids = np.asarray(estimator.cluster_centers_, dtype=np.float64)
        inertia, bic = float(estimator.inertia_), None
    elif algorithm == "gmm":
        from sklearn.mixture import GaussianMixture

        estimator = GaussianMixture(n_components=k, covariance_type="full", n_init=2, random_state=seed).fit(X)
        centroids = np.asarray(estimator.means_, dtype=np.float64)
        inertia, bic = None, float(estimator.bic(X))
    else:
        raise ValueError(f"unknown algorithm {algorithm!r}; expected 'kmeans' or 'gmm'")
    ids = tuple(range(k))
    return SegmentModel(algorithm, estimator, centroids, ids, ids, inertia=inertia, bic=bic)


def align_labels(
    previous_centroids: np.ndarray,
    new_centroids: np.ndarray,
    previous_ids: Sequence[int] | None = None,
) -> dict[int, int]:
    """Segment id for each new cluster (row of ``new_centroids``), so ids persist across refits.

    New clusters are matched one-to-one to previous segments by minimum total Euclidean
    distance between centroids (Hungarian algorithm). ``previous_ids`` are the ids of the
    rows of ``previous_centroids`` (default 0, 1, ...; pass ``model.segment_ids``). When
    there are more new clusters than previous segments, the unmatched ones get fresh ids
    ``max(previous_ids) + 1, ...`` in lexicographic order of their centroid coordinates
    (independent of the fit's arbitrary cluster order); when there are fewer, the unmatched
    previous ids are retired. With no previous centroids every cluster gets a fresh id
    from 0 in that same order.
    """
    from scipy.optimize import linear_sum_assignment

    new = np.atleast_2d(np.asarray(new_centroids, dtype=np.float64))
    prev = np.asarray(previous_centroids, dtype=np.float64).reshape(-1, new.shape[1])
    ids = list(range(len(prev))) if previous_ids is None else [int(i) for i in previous_ids]
    if len(ids) != len(prev) or len(set(ids)) != len(ids):
        raise ValueError("previous_ids must give one distinct id per previous centroid")

    mapping: dict[int, int] = {}
    if len(prev):
        cost = np.sqrt(((new[:, None, :] - prev[None, :, :]) ** 2).sum(axis=2))
        for row, col in zip(*linear_sum_assignment(cost), strict=True):
            mapping[int(row)] = ids[int(col)]
    unmatched = sorted((i for i in range(len(new)) if i not in mapping), key=lambda i: tuple(np.round(new[i], 9)))
    fresh = max(ids) + 1 if ids else 0
    for offset, i in enumerate(unmatched):
        mapping[i] = fresh + offset
    return dict(sorted(mapping.items()))


def relabel(model: SegmentModel, mapping: Mapping[int, int]) -> SegmentModel:
    """The same model whose cluster i (row i of ``model.centroids``) is now segment ``mapping[i]``.

    The returned centroids are ordered by ascending segment id and ``predict`` returns the
    new ids.
    """
    if sorted(mapping) != list(range(model.k)) or len(set(mapping.values())) != model.k:
        raise ValueError(f"mapping must send each of the {model.k} clusters to a distinct segment id")
    renamed = {old: int(mapping[i]) for i, old in enumerate(model.segment_ids)}
    order = sorted(range(model.k), key=lambda i: mapping[i])
    return SegmentModel(
        algorithm=model.algorithm,
        estimator=model.estimator,
        centroids=model.centroids[order],
        segment_ids=tuple(int(mapping[i]) for i in order),
        cluster_segments=tuple(renamed[s] for s in model.cluster_segments),
        inertia=model.inertia,
        bic=model.bic,
    )
