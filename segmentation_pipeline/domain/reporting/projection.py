"""Customers on a plane: the two directions along which their segment features vary most (principal components)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PlaneProjection:
    """Each row's coordinates on the plane (`points`, n x 2) and the share of the rows' total variance each axis
    shows (`explained`)."""

    points: np.ndarray
    explained: tuple[float, float]


def principal_plane(features: np.ndarray) -> PlaneProjection:
    """Rows of features projected on their first two principal components, centred on the rows' mean.

    Each axis points the way its heaviest feature grows, so the same rows always give the same picture. Rows
    that vary along fewer than two directions get 0 on the axes they lack."""
    rows = np.asarray(features, dtype=np.float64)
    points = np.zeros((len(rows), 2))
    if len(rows) == 0 or rows.shape[1] == 0:
        return PlaneProjection(points, (0.0, 0.0))
    centred = rows - rows.mean(axis=0)
    _, singular, directions = np.linalg.svd(centred, full_matrices=False)
    axes = min(2, int((singular > 1e-12 * max(singular[0], 1.0)).sum()))
    directions = directions[:axes]
    heaviest = np.abs(directions).argmax(axis=1)
    directions = directions * np.sign(directions[np.arange(axes), heaviest])[:, None]
    points[:, :axes] = centred @ directions.T
    variance = singular**2
    shares = variance[:axes] / variance.sum() if axes else np.zeros(0)
    explained = np.zeros(2)
    explained[:axes] = shares
    return PlaneProjection(points, (float(explained[0]), float(explained[1])))
