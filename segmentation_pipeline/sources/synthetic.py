"""The `synthetic` source (default): a generated shop read like the `files` source.

The generator runs once per (size, seed, window); its Parquet files are kept
under the data folder and reused by later runs.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from segmentation_pipeline.domain.contract import Table
from segmentation_pipeline.sources.files import FilesSource


@dataclass(frozen=True)
class SyntheticSource:
    folder: Path
    n_customers: int
    seed: int
    start: date
    days: int

    def prepare(self) -> None:
        """Generate the shop unless a complete copy is already on disk."""
        from segmentation_pipeline.sources.synthetic_shop import ShopSpec, generate_shop

        if (self.folder / "transactions.parquet").exists():
            return
        partial = self.folder.with_name(self.folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        spec = ShopSpec(n_customers=self.n_customers, start=self.start, days=self.days, seed=self.seed)
        generate_shop(spec, partial)
        partial.rename(self.folder)

    def table_sql(self, con: duckdb.DuckDBPyConnection, table: Table) -> str:
        return FilesSource(self.folder).table_sql(con, table)

    def customer_truth_path(self) -> Path | None:
        """The generator's customer ground truth (``latent_type`` per ``customer_id``), once generated."""
        path = self.folder / "ground_truth" / "customer_truth.parquet"
        return path if path.exists() else None

    def describe(self) -> str:
        return f"synthetic shop of {self.n_customers:,} customers (seed {self.seed}) in {self.folder}"
