"""Readers that turn each kind of source into the raw-data contract tables."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from segmentation_pipeline.sources.base import RawSource, SourceError
from segmentation_pipeline.sources.files import FilesSource
from segmentation_pipeline.sources.online_retail import OnlineRetailSource
from segmentation_pipeline.sources.synthetic import SyntheticSource

__all__ = ["RawSource", "SourceError", "build_source"]


def build_source(
    kind: str,
    path: Path,
    partitions_start: str,
    partitions_end: str | None,
    synthetic_customers: int,
    synthetic_seed: int,
    cache_dir: Path | None = None,
) -> RawSource:
    """The source reader chosen by configuration."""
    if kind == "files":
        return FilesSource(path, cache_dir)
    if kind == "online_retail":
        return OnlineRetailSource(path, cache_dir)
    if not partitions_end:
        raise SourceError("the synthetic source needs an end date (SEGMENTATION_END_DATE)")
    start = date.fromisoformat(partitions_start)
    return SyntheticSource(
        folder=path,
        n_customers=synthetic_customers,
        seed=synthetic_seed,
        start=start,
        days=(date.fromisoformat(partitions_end) - start).days,
    )
