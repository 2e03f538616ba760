"""Versioned segment models on disk, and which one is in force on a day.

One pickle per version under the registry root, named by the day the model was fitted
(``<yyyymmdd>.pkl``), so versions sort by time and the model in force on a day is the latest
one fitted before it. Files are written atomically (a temporary file, then a rename).
"""

from __future__ import annotations

import json
import os
import pickle
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from segmentation_pipeline.domain.segments.refit import FittedSegmentation


class SegmentModelRegistry:
    """Saved segment model versions under ``root``."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, version: str) -> Path:
        return self.root / f"{version}.pkl"

    def save(self, fitted: FittedSegmentation) -> Path:
        """Store a version, replacing one fitted on the same day (a redone refit)."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.path(fitted.version)
        partial = path.with_name(f".{path.name}.tmp")
        partial.write_bytes(pickle.dumps(fitted))
        os.replace(partial, path)
        return path

    def fitted_days(self) -> list[date]:
        """Days with a saved version, oldest first."""
        if not self.root.exists():
            return []
        return sorted(datetime.strptime(p.stem, "%Y%m%d").date() for p in self.root.glob("[0-9]" * 8 + ".pkl"))

    def in_force(self, day: date) -> FittedSegmentation | None:
        """The latest version fitted before ``day``, or None."""
        earlier = [d for d in self.fitted_days() if d < day]
        return pickle.loads(self.path(f"{earlier[-1]:%Y%m%d}").read_bytes()) if earlier else None

    def forget(self, start: date, end: date) -> None:
        """Remove the versions fitted in [start, end), before those days are segmented again."""
        for day in self.fitted_days():
            if start <= day < end:
                self.path(f"{day:%Y%m%d}").unlink()


def model_rows(refits: list[FittedSegmentation], registry: SegmentModelRegistry) -> pd.DataFrame:
    """One row per model version for the warehouse's list of models: k, how it was chosen, stability, names."""
    return pd.DataFrame(
        {
            "version": [f.version for f in refits],
            "fitted_on": pd.to_datetime([f.fitted_on for f in refits]).date if refits else [],
            "algorithm": [f.model.algorithm for f in refits],
            "k": [f.model.k for f in refits],
            "k_reason": [f.k_reason for f in refits],
            "mean_ari": [f.stability.mean_ari for f in refits],
            "customers": [f.customers for f in refits],
            "names": [json.dumps({str(k): v for k, v in f.names.items()}) for f in refits],
            "k_scores": [f.k_scores.to_json(orient="records") for f in refits],
            "path": [str(registry.path(f.version)) for f in refits],
        }
    )
