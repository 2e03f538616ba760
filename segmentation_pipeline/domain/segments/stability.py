"""Whether segments are real structure: agreement of bootstrap refits with the reference segments."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segmentation_pipeline.domain.segments.model import SegmentModel, fit_segments, sample_rows


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
    sample_size: int = 5_000,
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
    sample = X[sample_rows(len(X), sample_size, rng)]
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
