"""Resources: the DuckDB warehouse and the configured raw-data source."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from segmentation_pipeline.registry import ModelRegistry
from segmentation_pipeline.settings import SETTINGS, Settings
from segmentation_pipeline.sources import RawSource, build_source


class Warehouse(DuckDBResource):
    """The DuckDB warehouse file; its folder is created on first use."""

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        with super().get_connection() as con:
            con.execute("SET enable_progress_bar = false").fetchall()  # keeps run logs readable
            yield con


class SourceResource(dg.ConfigurableResource):
    """Which raw source feeds the pipeline (`synthetic`, `files` or `online_retail`)."""

    kind: str
    path: str
    partitions_start: str
    partitions_end: str | None = None
    synthetic_customers: int = 60_000
    synthetic_seed: int = 42

    def reader(self) -> RawSource:
        return build_source(
            kind=self.kind,
            path=Path(self.path),
            partitions_start=self.partitions_start,
            partitions_end=self.partitions_end,
            synthetic_customers=self.synthetic_customers,
            synthetic_seed=self.synthetic_seed,
        )

    def customer_truth_path(self) -> Path | None:
        """The source's file of true customer types, or None when the source has no ground truth."""
        return self.reader().customer_truth_path()


class ReturnModelStore(dg.ConfigurableResource):
    """Where return model versions and the production pointer live (the scoring service reads the same folder)."""

    root: str

    def registry(self) -> ModelRegistry:
        return ModelRegistry(Path(self.root))


def build_resources(settings: Settings = SETTINGS) -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": Warehouse(database=str(settings.warehouse_path)),
        "return_models": ReturnModelStore(root=str(settings.return_models_dir)),
        "source": SourceResource(
            kind=settings.source,
            path=str(settings.source_path),
            partitions_start=settings.partitions_start,
            partitions_end=settings.partitions_end,
            synthetic_customers=settings.synthetic_customers,
            synthetic_seed=settings.synthetic_seed,
        ),
    }
