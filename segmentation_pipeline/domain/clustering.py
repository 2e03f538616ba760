"""Customer segments: k-means on the customer snapshot, with model selection, stability and names.

A segment is a group of customers who buy alike: how recently, how often, how much,
how big their baskets are, how much they send back, how long they have been customers,
how many categories they buy from and how often they call customer service.

The steps, each a function here:

1. ``prepare_features`` turns the snapshot into a standardised feature matrix and keeps the
   scaling, so that ``apply_scaling`` places later snapshots in the same space.
2. ``search_k`` scores every candidate number of segments; ``choose_k`` applies a fixed,
   documented rule (elbow of the inertia curve, then silhouette, then Davies-Bouldin).
3. ``fit_segments`` fits the final model (k-means, or a Gaussian mixture for comparison);
   ``compare_algorithms`` reports both for the run metadata.
4. ``bootstrap_stability`` tells whether the segments are real structure or an artefact of
   one random start: refits on resampled customers should find the same groups.
5. ``align_labels`` and ``relabel`` keep segment ids stable between refreshes: a refit is
   matched to the previous model's centroids, so "segment 3" means the same customers tomorrow.
6. ``segment_profiles``, ``name_segments`` and ``recommended_action`` describe each segment
   for marketing: its size, revenue, behaviour, a readable name and the action to take.

Scikit-learn and SciPy are imported inside the functions that need them, so importing
this module stays cheap.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

CLUSTER_FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary_net",
    "avg_order_value",
    "return_rate_units",
    "tenure_days",
    "category_breadth",
    "service_contacts",
)
"""Snapshot columns that define a segment.

Recency, frequency and monetary value are the classic RFM triple; average order value
separates many small baskets from few large ones; the unit return rate finds customers who
cost more than they bring; tenure separates new from established customers; category
breadth and service contacts separate broad, engaged buyers from narrow or troublesome ones.
``mean_days_between_orders`` is left out because it is undefined for one-order customers
(most of a shop) and largely repeats frequency over tenure; ``n_returns`` repeats the return
rate times frequency; ``campaign_responses`` depends on who was targeted, not only on the
customer, and is reported in the profiles instead.
"""

LOG_FEATURES: tuple[str, ...] = (
    "frequency",
    "monetary_net",
    "avg_order_value",
    "category_breadth",
    "service_contacts",
)
"""Heavy-tailed, non-negative features, taken as ``log1p`` after clipping at 0.

Without it a handful of very large customers would dominate the distances. Net revenue can
be negative when returns exceed purchases in the window; it is clipped at 0 (no value).
Recency and tenure are bounded by the observation window and stay linear; the return rate
is a share, clipped to [0, 1] and kept linear.
"""

MINIBATCH_ABOVE = 50_000
"""Above this many rows k-means uses MiniBatchKMeans (batch 4096, 3 initialisations)."""

SEARCH_FIT_SIZE = 100_000
"""``search_k`` and ``compare_algorithms`` fit on a seeded sample of at most this many rows."""

MODEL_FIT_SIZE = 200_000
"""``fit_segments`` fits on a seeded sample of at most this many rows; every row is then assigned.

Centroids of 2-12 segments in eight dimensions are estimated as well from 200,000 customers as
from millions, and a larger base then costs only the assignment, not the fit.
"""

SILHOUETTE_TIE = 0.01
"""``choose_k`` treats silhouettes within this distance of the best as tied."""


# --------------------------------------------------------------------------- features


@dataclass(frozen=True)
class FeatureScaling:
    """How snapshot columns become model features: fill values, means and standard deviations.

    All three are per feature, on the transformed scale (after ``log1p`` for
    ``log_features``). A missing value is replaced by the median of the population the
    scaling was fitted on, i.e. treated as a typical customer; a feature that was constant
    there gets a standard deviation of 1 (it then contributes nothing to the distances).
    """

    features: tuple[str, ...]
    log_features: tuple[str, ...]
    fill_values: tuple[float, ...]
    means: tuple[float, ...]
    stds: tuple[float, ...]


def _transformed(snapshot: pd.DataFrame, features: Sequence[str], log_features: Sequence[str]) -> np.ndarray:
    missing = [f for f in features if f not in snapshot.columns]
    if missing:
        raise KeyError(f"snapshot lacks feature columns {missing}")
    out = np.empty((len(snapshot), len(features)), dtype=np.float64)
    for j, name in enumerate(features):
        values = pd.to_numeric(snapshot[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        values = np.where(np.isfinite(values), values, np.nan)
        if name in log_features:
            values = np.log1p(np.clip(values, 0.0, None))
        elif name == "return_rate_units":
            values = np.clip(values, 0.0, 1.0)
        out[:, j] = values
    return out


def prepare_features(snapshot: pd.DataFrame) -> tuple[np.ndarray, FeatureScaling]:
    """Standardised feature matrix (one row per customer, ``CLUSTER_FEATURES`` in order) and its scaling.

    Heavy-tailed columns are ``log1p``-transformed (see ``LOG_FEATURES``), missing or
    infinite values are replaced by the column median, then every column is centred on
    its mean and divided by its standard deviation over this population.
    """
    raw = _transformed(snapshot, CLUSTER_FEATURES, LOG_FEATURES)
    fill = np.zeros(raw.shape[1])
    means = np.zeros(raw.shape[1])
    stds = np.ones(raw.shape[1])
    for j in range(raw.shape[1]):
        column = raw[:, j]
        known = column[~np.isnan(column)]
        if known.size:
            fill[j] = float(np.median(known))
        column[np.isnan(column)] = fill[j]
        if column.size:
            means[j] = float(column.mean())
            std = float(column.std())
            stds[j] = std if std > 1e-12 else 1.0
    scaling = FeatureScaling(
        features=CLUSTER_FEATURES,
        log_features=LOG_FEATURES,
        fill_values=tuple(fill.tolist()),
        means=tuple(means.tolist()),
        stds=tuple(stds.tolist()),
    )
    raw -= means
    raw /= stds
    return raw, scaling


def apply_scaling(snapshot: pd.DataFrame, scaling: FeatureScaling) -> np.ndarray:
    """Features of a (new) snapshot in the space of an existing model, using its stored scaling."""
    raw = _transformed(snapshot, scaling.features, scaling.log_features)
    fill = np.asarray(scaling.fill_values)
    rows, cols = np.nonzero(np.isnan(raw))
    raw[rows, cols] = fill[cols]
    raw -= np.asarray(scaling.means)
    raw /= np.asarray(scaling.stds)
    return raw


# --------------------------------------------------------------------------- choosing k


def _sample_rows(n: int, size: int | None, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of a uniform sample without replacement (all rows when small enough)."""
    if size is None or n <= size:
        return np.arange(n)
    return np.sort(rng.choice(n, size=size, replace=False))


def silhouette_scores(X: np.ndarray, labelings: Sequence[np.ndarray], chunk_rows: int = 1024) -> list[float]:
    """Mean silhouette width (Euclidean) of each labelling of the same rows, as ``sklearn.metrics.silhouette_score``.

    For each customer, a is the mean distance to the rest of its segment and b the mean
    distance to the nearest other segment; the silhouette (b - a) / max(a, b) is near 1
    when segments are compact and well apart, near 0 when they overlap. Single-member
    segments count 0; a labelling with fewer than 2 or more than n - 1 segments scores NaN.
    The pairwise distances are computed once, in row chunks, and summed per segment of
    every labelling with one matrix product: scoring eleven values of k on 10,000 customers
    takes one or two seconds, where scikit-learn's per-row loop takes several per k.
    """
    X = np.asarray(X, dtype=np.float64)
    n = len(X)
    blocks: list[tuple[int, np.ndarray, int] | None] = []
    offset = 0
    for labels in labelings:
        if len(labels) != n:
            raise ValueError(f"{len(labels)} labels for {n} rows")
        _, codes = np.unique(np.asarray(labels), return_inverse=True)
        k = int(codes.max()) + 1 if n else 0
        blocks.append((offset, codes, k) if 2 <= k <= n - 1 else None)
        offset += k if 2 <= k <= n - 1 else 0
    if offset == 0:
        return [float("nan")] * len(blocks)

    rows = np.arange(n)
    onehot = np.zeros((n, offset))
    for block in blocks:
        if block is not None:
            start, codes, _ = block
            onehot[rows, start + codes] = 1.0
    squares = np.einsum("ij,ij->i", X, X)
    X_t = np.ascontiguousarray(X.T)
    buffer = np.empty((min(chunk_rows, n), n))
    sums = np.empty((n, offset))
    for start in range(0, n, chunk_rows):
        stop = min(start + chunk_rows, n)
        d = buffer[: stop - start]
        np.matmul(X[start:stop], X_t, out=d)
        d *= -2.0
        d += squares[None, :]
        d += squares[start:stop, None]
        np.maximum(d, 0.0, out=d)
        d[np.arange(stop - start), np.arange(start, stop)] = 0.0
        np.sqrt(d, out=d)
        np.matmul(d, onehot, out=sums[start:stop])

    scores = []
    for block in blocks:
        if block is None:
            scores.append(float("nan"))
            continue
        start, codes, k = block
        per_segment = sums[:, start : start + k]
        counts = np.bincount(codes, minlength=k).astype(np.float64)
        own = counts[codes] - 1.0
        a = np.divide(per_segment[rows, codes], own, out=np.zeros(n), where=own > 0)
        others = per_segment / counts
        others[rows, codes] = np.inf
        b = others.min(axis=1)
        widest = np.maximum(a, b)
        widths = np.divide(b - a, widest, out=np.zeros(n), where=widest > 0)
        widths[own == 0] = 0.0
        scores.append(float(widths.mean()))
    return scores


def _kmeans(X: np.ndarray, k: int, seed: int) -> Any:
    """A fitted k-means: KMeans (4 initialisations), or MiniBatchKMeans (batch 4096, 3 initialisations)
    above ``MINIBATCH_ABOVE`` rows.

    Mini-batch steps run on one thread: a step of 4,096 rows is too small to gain from
    splitting, and waiting for a second thread at every step slowed the fit tenfold on a
    busy two-core machine (the result is the same).
    """
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from threadpoolctl import threadpool_limits

    if len(X) > MINIBATCH_ABOVE:
        with threadpool_limits(limits=1, user_api="openmp"):
            return MiniBatchKMeans(n_clusters=k, batch_size=4096, n_init=3, random_state=seed).fit(X)
    return KMeans(n_clusters=k, n_init=4, random_state=seed).fit(X)


def _separation_scores(X: np.ndarray, labelings: Sequence[np.ndarray]) -> list[tuple[float, float, float]]:
    """Silhouette, Davies-Bouldin and Calinski-Harabasz of each labelling of X (NaN when undefined)."""
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

    silhouettes = silhouette_scores(X, labelings)
    scores = []
    for labels, sil in zip(labelings, silhouettes, strict=True):
        if np.isnan(sil):
            scores.append((sil, float("nan"), float("nan")))
        else:
            scores.append((sil, float(davies_bouldin_score(X, labels)), float(calinski_harabasz_score(X, labels))))
    return scores


def search_k(
    X: np.ndarray,
    k_values: Iterable[int] = range(2, 13),
    seed: int = 0,
    sample_size: int = 10_000,
    fit_size: int | None = SEARCH_FIT_SIZE,
) -> pd.DataFrame:
    """Scores of k-means for every candidate number of segments, one row per k.

    Columns: ``k``; ``inertia`` (within-segment sum of squares on the fitted rows, lower is
    tighter, always falls with k); ``silhouette`` (higher is better, -1..1);
    ``davies_bouldin`` (lower is better); ``calinski_harabasz`` (higher is better);
    ``fit_rows``. The three separation scores are computed on one seeded sample of at most
    ``sample_size`` fitted rows, the same sample for every k.

    For speed on large customer bases the search fits on a seeded sample of at most
    ``fit_size`` rows (100,000 by default; ``None`` fits on all rows): the shape of the
    inertia curve and the separation scores do not need every customer, and the final model
    is then fitted on all rows by ``fit_segments``. Above 50,000 fitted rows MiniBatchKMeans
    (batch 4096, 3 initialisations) is used, KMeans with 4 initialisations otherwise, always
    seeded with ``seed``.
    """
    X = np.asarray(X, dtype=np.float64)
    rng = np.random.default_rng(seed)
    X_fit = X[_sample_rows(len(X), fit_size, rng)]
    scored = _sample_rows(len(X_fit), sample_size, rng)
    ks = sorted({int(k) for k in k_values})
    if not ks or ks[0] < 1 or ks[-1] > len(X_fit):
        raise ValueError(f"k values {ks} must lie between 1 and the {len(X_fit)} fitted rows")
    models = [_kmeans(X_fit, k, seed) for k in ks]
    separation = _separation_scores(X_fit[scored], [m.labels_[scored] for m in models])
    return pd.DataFrame(
        {
            "k": ks,
            "inertia": [float(m.inertia_) for m in models],
            "silhouette": [s[0] for s in separation],
            "davies_bouldin": [s[1] for s in separation],
            "calinski_harabasz": [s[2] for s in separation],
            "fit_rows": len(X_fit),
        }
    )


def knee_point(k_values: Sequence[int], inertias: Sequence[float]) -> int:
    """The elbow of a falling inertia curve: the k farthest below the straight chord.

    Both axes are scaled to [0, 1] (k by its range, inertia by its min and max); the chord
    joins the first and the last point, and the knee is the point with the largest
    perpendicular distance below it (Kneedle's difference curve). Ties (within 1e-12) go to
    the smaller k. With fewer than three points, a flat curve or no point more than 1e-9
    below the chord (a straight or bending-up curve), the smallest k is returned.

    Example: k = 2..6 and inertia 100, 60, 30, 25, 20 scale to y = 1, .5, .125, .0625, 0
    against x = 0, .25, .5, .75, 1; the gaps (1 - x) - y are 0, .25, .375, .1875, 0, so the
    knee is k = 4.
    """
    order = np.argsort(np.asarray(k_values), kind="stable")
    ks = np.asarray(k_values, dtype=np.float64)[order]
    ys = np.asarray(inertias, dtype=np.float64)[order]
    if len(ks) == 0:
        raise ValueError("no k values")
    if len(ks) < 3 or ks[-1] == ks[0] or ys.max() == ys.min():
        return int(ks[0])
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    y = (ys - ys.min()) / (ys.max() - ys.min())
    dx, dy = x[-1] - x[0], y[-1] - y[0]
    below = (dy * (x - x[0]) - dx * (y - y[0])) / np.hypot(dx, dy)
    widest = float(below.max())
    if widest <= 1e-9:
        return int(ks[0])
    return int(ks[np.flatnonzero(below >= widest - 1e-12)[0]])


def choose_k(scores: pd.DataFrame) -> tuple[int, str]:
    """The number of segments by a fixed rule, and a one-line reason for the UI.

    Rule: find the elbow of the inertia curve (``knee_point``); among the k within ±2 of
    it, take the highest silhouette; silhouettes within ``SILHOUETTE_TIE`` (0.01) of the
    best count as tied and the tie goes to the lower Davies-Bouldin index, then to the
    smaller k (fewer segments are easier to act on). A NaN score counts as the worst.
    """
    table = scores.sort_values("k").reset_index(drop=True)
    knee = knee_point(table["k"].tolist(), table["inertia"].tolist())
    window = table[(table["k"] >= knee - 2) & (table["k"] <= knee + 2)]
    sil = window["silhouette"].fillna(-np.inf)
    best_sil = float(sil.max())
    tied = window[sil >= best_sil - SILHOUETTE_TIE]
    tied = tied.assign(_db=tied["davies_bouldin"].fillna(np.inf)).sort_values(["_db", "k"], kind="stable")
    chosen = tied.iloc[0]
    k = int(chosen["k"])
    span = f"k={int(window['k'].min())}-{int(window['k'].max())} around the inertia elbow at k={knee}"
    if len(tied) > 1:
        tied_ks = ", ".join(str(int(v)) for v in sorted(tied["k"]))
        reason = (
            f"k={k}: silhouette {chosen['silhouette']:.3f}, within {SILHOUETTE_TIE} of the best among {span}, "
            f"and the lowest Davies-Bouldin ({chosen['davies_bouldin']:.3f}) of the tied k={tied_ks}"
        )
    else:
        reason = (
            f"k={k}: highest silhouette {chosen['silhouette']:.3f} among {span} "
            f"(Davies-Bouldin {chosen['davies_bouldin']:.3f})"
        )
    return k, reason


# --------------------------------------------------------------------------- models


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
    X = X[_sample_rows(len(X), fit_size, np.random.default_rng(seed))]
    if algorithm == "kmeans":
        estimator = _kmeans(X, k, seed)
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


def compare_algorithms(
    X: np.ndarray,
    k_values: Iterable[int] = range(2, 13),
    seed: int = 0,
    sample_size: int = 10_000,
    fit_size: int | None = 20_000,
) -> pd.DataFrame:
    """K-means against a Gaussian mixture on the same customers, for the run metadata.

    One row per algorithm: ``algorithm``, chosen ``k``, ``selected_by`` (k-means: the
    ``choose_k`` rule; Gaussian mixture: lowest BIC over ``k_values``), ``silhouette`` and
    ``davies_bouldin`` of the chosen model on one shared seeded sample of at most
    ``sample_size`` rows, and ``bic`` (mixture only). Both are fitted on a seeded sample of
    at most ``fit_size`` rows (``None``: all rows), since mixtures with full covariances are
    slow and this comparison only informs the choice of method.
    """
    X = np.asarray(X, dtype=np.float64)
    rng = np.random.default_rng(seed)
    X_fit = X[_sample_rows(len(X), fit_size, rng)]
    scored = X_fit[_sample_rows(len(X_fit), sample_size, rng)]
    ks = sorted({int(k) for k in k_values})

    k_kmeans, _ = choose_k(search_k(X_fit, ks, seed=seed, sample_size=sample_size, fit_size=None))
    kmeans = fit_segments(X_fit, k_kmeans, seed=seed)
    mixtures = [fit_segments(X_fit, k, seed=seed, algorithm="gmm") for k in ks]
    gmm = min(mixtures, key=lambda m: (m.bic, m.k))

    separation = _separation_scores(scored, [kmeans.predict(scored), gmm.predict(scored)])
    return pd.DataFrame(
        {
            "algorithm": [kmeans.algorithm, gmm.algorithm],
            "k": [kmeans.k, gmm.k],
            "selected_by": ["choose_k rule", "lowest BIC"],
            "silhouette": [s[0] for s in separation],
            "davies_bouldin": [s[1] for s in separation],
            "bic": [np.nan, gmm.bic],
        }
    )


# --------------------------------------------------------------------------- stability


@dataclass(frozen=True)
class Stability:
    """How reproducible the segments are under resampling of customers.

    ``mean_ari`` is the mean adjusted Rand index between the reference segments and each
    bootstrap refit (1: identical partitions, 0: no better than chance); ``ari`` holds the
    per-bootstrap values. ``jaccard[s]`` is, for reference segment s, the mean over
    bootstraps of its best Jaccard overlap with any refit segment: above about 0.75 a
    segment is stable, below 0.5 it is dissolving. ``sample_rows`` customers were used.
    """

    mean_ari: float
    ari: tuple[float, ...]
    jaccard: dict[int, float]
    sample_rows: int


def bootstrap_stability(
    X: np.ndarray,
    k: int,
    n_boot: int = 10,
    seed: int = 0,
    sample_size: int = 20_000,
    reference: SegmentModel | None = None,
) -> Stability:
    """Refit k-means on bootstrap resamples and compare each refit with the reference segments.

    A seeded reference sample of at most ``sample_size`` rows is labelled by ``reference``
    when given (so ``jaccard`` is keyed by its segment ids), otherwise by a k-means fit on
    the sample itself. Bootstrap b draws the sample's rows with replacement, refits k-means
    (seed ``seed + b + 1``) and labels the whole reference sample; the adjusted Rand index
    and the per-segment Jaccard overlaps are computed on that sample.
    """
    from sklearn.metrics import adjusted_rand_score

    X = np.asarray(X, dtype=np.float64)
    rng = np.random.default_rng(seed)
    sample = X[_sample_rows(len(X), sample_size, rng)]
    model = reference if reference is not None else fit_segments(sample, k, seed=seed)
    ref_labels = model.predict(sample)
    ref_ids, ref_codes = np.unique(ref_labels, return_inverse=True)

    aris: list[float] = []
    best_jaccard = np.zeros((n_boot, len(ref_ids)))
    for b in range(n_boot):
        drawn = rng.integers(0, len(sample), size=len(sample))
        boot_labels = fit_segments(sample[drawn], k, seed=seed + b + 1).predict(sample)
        aris.append(float(adjusted_rand_score(ref_labels, boot_labels)))
        _, boot_codes = np.unique(boot_labels, return_inverse=True)
        overlap = np.zeros((len(ref_ids), int(boot_codes.max()) + 1))
        np.add.at(overlap, (ref_codes, boot_codes), 1.0)
        union = overlap.sum(axis=1, keepdims=True) + overlap.sum(axis=0, keepdims=True) - overlap
        best_jaccard[b] = (overlap / union).max(axis=1)
    jaccard = {int(s): float(v) for s, v in zip(ref_ids, best_jaccard.mean(axis=0), strict=True)}
    return Stability(
        mean_ari=float(np.mean(aris)) if aris else float("nan"),
        ari=tuple(aris),
        jaccard=jaccard,
        sample_rows=len(sample),
    )


# --------------------------------------------------------------------------- stable ids


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


# --------------------------------------------------------------------------- profiles and names


TOP_CATEGORIES = 3
"""Categories listed per segment in ``top_categories``."""


def top_categories(category_spend: pd.DataFrame, segments: pd.Series, n: int = TOP_CATEGORIES) -> pd.Series:
    """The ``n`` categories with the largest share of each segment's net spend, as readable text.

    ``category_spend`` holds one row per customer and category (``customer_id``,
    ``category``, ``net_spend``); ``segments`` maps customer id (index) to segment. A
    share is the category's net spend over the segment's net spend in the categories where
    it is positive (a category refunded more than bought in is left out, so shares stay
    between 0 and 1); largest first, ties by name, e.g. ``"apparel 41%, shoes 22%, home 12%"``.
    Segments without positive spend get an empty text.
    """
    spend = category_spend.assign(segment=category_spend["customer_id"].map(segments)).dropna(subset=["segment"])
    per_category = spend.groupby(["segment", "category"], sort=False)["net_spend"].sum().reset_index()
    positive = per_category[per_category["net_spend"] > 0]
    shares = positive.assign(share=positive["net_spend"] / positive.groupby("segment")["net_spend"].transform("sum"))
    ranked = shares.sort_values(["segment", "net_spend", "category"], ascending=[True, False, True])
    listed: dict[Any, list[str]] = {segment: [] for segment in pd.unique(segments)}
    for row in ranked.groupby("segment", sort=False).head(n).itertuples():
        listed[row.segment].append(f"{row.category} {row.share:.0%}")
    return pd.Series({s: ", ".join(top) for s, top in listed.items()}, name="top_categories", dtype=str).sort_index()


def segment_profiles(
    snapshot: pd.DataFrame, labels: np.ndarray, category_spend: pd.DataFrame | None = None
) -> pd.DataFrame:
    """What each segment looks like, one row per segment id (index ``segment``).

    ``customers`` and ``share_customers``; ``revenue_share`` (the segment's net revenue
    over the total, so shares sum to 1 and a segment of net returners can have a negative
    share); mean and median of recency, frequency and net revenue; mean average order
    value, ``return_rate`` (mean unit return rate), tenure, category breadth, service
    contacts and campaign responses; and ``z_<feature>`` for every ``CLUSTER_FEATURES``
    column: how far the segment's mean lies from the population's, in population standard
    deviations, on the model's feature scale (``log1p`` for heavy-tailed features), so
    +1 means "one standard deviation above the typical customer". Given ``category_spend``
    (one row per customer of the snapshot and category, see ``top_categories``), a
    ``top_categories`` column names each segment's largest categories by share of net spend.
    """
    labels = np.asarray(labels)
    if len(labels) != len(snapshot):
        raise ValueError(f"{len(labels)} labels for {len(snapshot)} customers")
    X, _ = prepare_features(snapshot)
    frame = pd.DataFrame(
        {
            "segment": labels,
            "recency_days": pd.to_numeric(snapshot["recency_days"]).to_numpy(dtype=float),
            "frequency": pd.to_numeric(snapshot["frequency"]).to_numpy(dtype=float),
            "monetary_net": pd.to_numeric(snapshot["monetary_net"]).to_numpy(dtype=float),
            "avg_order_value": pd.to_numeric(snapshot["avg_order_value"]).to_numpy(dtype=float),
            "return_rate": pd.to_numeric(snapshot["return_rate_units"]).to_numpy(dtype=float),
            "tenure_days": pd.to_numeric(snapshot["tenure_days"]).to_numpy(dtype=float),
            "category_breadth": pd.to_numeric(snapshot["category_breadth"]).to_numpy(dtype=float),
            "service_contacts": pd.to_numeric(snapshot["service_contacts"]).to_numpy(dtype=float),
            "campaign_responses": pd.to_numeric(snapshot["campaign_responses"]).to_numpy(dtype=float),
        }
    )
    for j, name in enumerate(CLUSTER_FEATURES):
        frame[f"z_{name}"] = X[:, j]
    groups = frame.groupby("segment", sort=True)
    total_revenue = float(frame["monetary_net"].sum())
    out = pd.DataFrame(
        {
            "customers": groups.size(),
            "share_customers": groups.size() / len(frame),
            "revenue_share": groups["monetary_net"].sum() / total_revenue if total_revenue else np.nan,
            "mean_recency_days": groups["recency_days"].mean(),
            "median_recency_days": groups["recency_days"].median(),
            "mean_frequency": groups["frequency"].mean(),
            "median_frequency": groups["frequency"].median(),
            "mean_monetary_net": groups["monetary_net"].mean(),
            "median_monetary_net": groups["monetary_net"].median(),
            "mean_avg_order_value": groups["avg_order_value"].mean(),
            "return_rate": groups["return_rate"].mean(),
            "mean_tenure_days": groups["tenure_days"].mean(),
            "mean_category_breadth": groups["category_breadth"].mean(),
            "mean_service_contacts": groups["service_contacts"].mean(),
            "mean_campaign_responses": groups["campaign_responses"].mean(),
        }
    )
    for name in CLUSTER_FEATURES:
        out[f"z_{name}"] = groups[f"z_{name}"].mean()
    if category_spend is not None:
        out["top_categories"] = top_categories(category_spend, pd.Series(labels, index=snapshot["customer_id"]))
    out.index.name = "segment"
    return out


@dataclass(frozen=True)
class NamingRule:
    """A segment name, when a segment qualifies for it, and how strongly (higher is a better fit)."""

    name: str
    qualifies: Callable[[pd.Series], bool]
    score: Callable[[pd.Series], float]


NAMING_RULES: tuple[NamingRule, ...] = (
    NamingRule(
        "Serial Returners",
        lambda p: p["z_return_rate_units"] >= 1.0 and p["return_rate"] >= 0.20,
        lambda p: p["z_return_rate_units"],
    ),
    NamingRule(
        "VIP",
        lambda p: p["z_monetary_net"] >= 0.75 and p["z_frequency"] >= 0.5 and p["z_recency_days"] <= 0.5,
        lambda p: p["z_monetary_net"] + p["z_frequency"],
    ),
    NamingRule(
        "Frequent Shoppers",
        lambda p: p["z_frequency"] >= 0.5 and p["z_avg_order_value"] <= 0.0,
        lambda p: p["z_frequency"] - p["z_avg_order_value"],
    ),
    NamingRule(
        "Bargain Hunters",
        lambda p: p["z_avg_order_value"] <= -0.5 and p["z_frequency"] >= -0.25,
        lambda p: -p["z_avg_order_value"],
    ),
    NamingRule(
        "New",
        lambda p: p["z_tenure_days"] <= -0.75,
        lambda p: -p["z_tenure_days"],
    ),
    NamingRule(
        "At Risk",
        lambda p: p["z_recency_days"] >= 0.5 and p["z_monetary_net"] >= 0.0,
        lambda p: p["z_recency_days"] + p["z_monetary_net"],
    ),
    NamingRule(
        "Dormant",
        lambda p: p["z_recency_days"] >= 1.0,
        lambda p: p["z_recency_days"],
    ),
)
"""Segment names in priority order; thresholds are on the ``z_`` columns of ``segment_profiles``.

- Serial Returners: return rate at least 1 sd above the population and at least 20% of units.
- VIP: net revenue ≥ +0.75 sd, frequency ≥ +0.5 sd, and still active (recency ≤ +0.5 sd).
- Frequent Shoppers: frequency ≥ +0.5 sd with baskets no bigger than average.
- Bargain Hunters: baskets ≤ -0.5 sd with at least near-average frequency (≥ -0.25 sd).
- New: tenure ≤ -0.75 sd.
- At Risk: recency ≥ +0.5 sd (long since last purchase) with at least average net revenue.
- Dormant: recency ≥ +1 sd.
- Regulars: every other segment.
"""

FALLBACK_NAME = "Regulars"

_DESCRIPTORS: dict[str, tuple[str, str]] = {
    "recency_days": ("longer inactive", "more recent"),
    "frequency": ("more frequent", "less frequent"),
    "monetary_net": ("higher value", "lower value"),
    "avg_order_value": ("bigger baskets", "smaller baskets"),
    "return_rate_units": ("more returns", "fewer returns"),
    "tenure_days": ("longer-standing", "newer"),
    "category_breadth": ("broader range", "narrower range"),
    "service_contacts": ("more contacts", "fewer contacts"),
}


def _z(profile: pd.Series) -> np.ndarray:
    return np.array([float(profile[f"z_{f}"]) for f in CLUSTER_FEATURES])


def _descriptor(profile: pd.Series, holder: pd.Series) -> str | None:
    """The feature that most separates a segment from the one holding the plain name, in words.

    None when no feature differs by at least 0.1 standard deviations.
    """
    diff = np.nan_to_num(_z(profile) - _z(holder))
    j = int(np.argmax(np.abs(diff)))
    if abs(diff[j]) < 0.1:
        return None
    high, low = _DESCRIPTORS[CLUSTER_FEATURES[j]]
    return high if diff[j] > 0 else low


def name_segments(profiles: pd.DataFrame) -> dict[int, str]:
    """A unique, readable name per segment id, from its profile, by fixed rules.

    Rules (``NAMING_RULES``) are applied in priority order; each gives its plain name to
    at most one segment: the best-scoring segment that qualifies and is not yet named
    (ties go to the lower segment id). A segment left over takes the first rule it
    qualifies for, otherwise "Regulars"; "Regulars" itself goes to the leftover segment
    closest to the population average (smallest sum of squared ``z_`` values). A leftover
    whose name is already taken gets a suffix naming the feature that most separates it
    from the segment holding the plain name, e.g. "Dormant (higher value)", and if that is
    taken too (or nothing separates them by 0.1 sd), a number: "Dormant (higher value) 2",
    "Dormant 2". Leftovers are named in segment-id order.
    The result depends only on the profile values.
    """
    rows = {int(s): profiles.loc[s] for s in sorted(profiles.index)}
    names: dict[int, str] = {}
    holders: dict[str, int] = {}
    for rule in NAMING_RULES:
        candidates = [s for s, p in rows.items() if s not in names and bool(rule.qualifies(p))]
        if candidates:
            best = max(candidates, key=lambda s: (float(rule.score(rows[s])), -s))
            names[best] = rule.name
            holders[rule.name] = best

    leftovers = [s for s in rows if s not in names]
    if leftovers and FALLBACK_NAME not in holders:
        fallback_only = [s for s in leftovers if not any(bool(r.qualifies(rows[s])) for r in NAMING_RULES)]
        if fallback_only:
            plain = min(fallback_only, key=lambda s: (float(np.nansum(_z(rows[s]) ** 2)), s))
            names[plain] = FALLBACK_NAME
            holders[FALLBACK_NAME] = plain

    used = set(names.values())
    for s in leftovers:
        if s in names:
            continue
        base = next((r.name for r in NAMING_RULES if bool(r.qualifies(rows[s]))), FALLBACK_NAME)
        descriptor = _descriptor(rows[s], rows[holders[base]])
        name = base if descriptor is None else f"{base} ({descriptor})"
        candidate, number = name, 2
        while candidate in used:
            candidate, number = f"{name} {number}", number + 1
        names[s] = candidate
        used.add(candidate)
    return dict(sorted(names.items()))


PLAYBOOK: dict[str, str] = {
    "VIP": "Protect and reward: loyalty tier, early access and VIP perks; no blanket discounts.",
    "Frequent Shoppers": "Grow the basket: bundles, cross-sell and free-shipping thresholds just above their usual order.",
    "Bargain Hunters": "Targeted discounts on clearance and price-sensitive lines; keep offers margin-positive.",
    "Serial Returners": (
        "Reduce returns: size advice, fit guidance and richer product detail; review free-return eligibility."
    ),
    "New": "Onboard: welcome series, second-purchase incentive and guidance across the range.",
    "At Risk": "Win-back now: personal reminder with a time-limited offer on their favourite categories.",
    "Dormant": "Low-cost win-back: one reactivation campaign, then suppress from regular mailings if no response.",
    "Regulars": "Keep engaged: newsletter, recommendations and seasonal campaigns at standard cadence.",
}
"""Marketing action per segment name (the plain name; suffixed names share their base's action)."""


def recommended_action(name: str) -> str:
    """The playbook action for a segment name, including suffixed names like "Dormant (higher value) 2"."""
    base = re.sub(r"( \(.*\))?( \d+)?$", "", name)
    if base not in PLAYBOOK:
        raise KeyError(f"no playbook action for segment name {name!r}")
    return PLAYBOOK[base]
