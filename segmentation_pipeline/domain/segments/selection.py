"""Choosing the number of segments: scores per k and a fixed, documented rule.

Scikit-learn is imported inside the functions that need them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.segments.model import fit_kmeans, fit_segments, sample_rows

SEARCH_FIT_SIZE = 20_000
"""``search_k`` fits on a seeded sample of at most this many rows."""


SILHOUETTE_TIE = 0.01
"""``choose_k`` treats silhouettes within this distance of the best as tied."""


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
    k_values: Iterable[int],
    seed: int = 0,
    sample_size: int = 4_000,
    fit_size: int | None = SEARCH_FIT_SIZE,
) -> pd.DataFrame:
    """Scores of k-means for every candidate number of segments, one row per k.

    Columns: ``k``; ``inertia`` (within-segment sum of squares on the fitted rows, lower is
    tighter, always falls with k); ``silhouette`` (higher is better, -1..1);
    ``davies_bouldin`` (lower is better); ``calinski_harabasz`` (higher is better);
    ``fit_rows``. The three separation scores are computed on one seeded sample of at most
    ``sample_size`` fitted rows, the same sample for every k.

    For speed the search fits on a seeded sample of at most ``fit_size`` rows (20,000 by
    default; ``None`` fits on all rows) and scores separation on at most 4,000 of them: the
    shape of the inertia curve and the separation scores do not need every customer, and the
    final model is then fitted on all rows by ``fit_segments``. A refit runs every 28 days, so
    a first run over two years does 26 of them; on the default shop a search on 20,000 rows
    costs under a second. Each k is one seeded KMeans run from a k-means++ start: the scores
    compare values of k, and the chosen k is fitted again with four starts.
    """
    X = np.asarray(X, dtype=np.float64)
    rng = np.random.default_rng(seed)
    X_fit = X[sample_rows(len(X), fit_size, rng)]
    scored = sample_rows(len(X_fit), sample_size, rng)
    ks = sorted({int(k) for k in k_values})
    if not ks or ks[0] < 1 or ks[-1] > len(X_fit):
        raise ValueError(f"k values {ks} must lie between 1 and the {len(X_fit)} fitted rows")
    models = [fit_kmeans(X_fit, k, seed, initialisations=1) for k in ks]
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


def compare_algorithms(
    X: np.ndarray,
    k_kmeans: int,
    k_values: Iterable[int],
    seed: int = 0,
    sample_size: int = 4_000,
    fit_size: int | None = 5_000,
) -> pd.DataFrame:
    """K-means against a Gaussian mixture on the same customers, for the run metadata.

    One row per algorithm: ``algorithm``, chosen ``k``, ``selected_by`` (k-means: ``k_kmeans``,
    the k the ``choose_k`` rule gave the model in force; Gaussian mixture: lowest BIC over
    ``k_values``), ``silhouette`` and ``davies_bouldin`` of the chosen model on one shared seeded
    sample of at most
    ``sample_size`` rows, and ``bic`` (mixture only). Both are fitted on a seeded sample of
    at most ``fit_size`` rows (``None``: all rows), since mixtures with full covariances are
    slow and this comparison only informs the choice of method.
    """
    X = np.asarray(X, dtype=np.float64)
    rng = np.random.default_rng(seed)
    X_fit = X[sample_rows(len(X), fit_size, rng)]
    scored = X_fit[sample_rows(len(X_fit), sample_size, rng)]
    ks = sorted({int(k) for k in k_values})

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
