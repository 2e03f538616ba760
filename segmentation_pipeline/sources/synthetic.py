"""The `synthetic` source (default): a generated shop read like the `files` source.

The generator runs once per (size, seed, window); its Parquet files are kept
under the data folder and reused by later runs.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from segmentation_pipeline.domain.contract import TABLES, Table
from segmentation_pipeline.sources.files import LABELS, FilesSource


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

    def export(self, folder: Path, last_day: date) -> None:
        """The shop as the `files` source finds it at the end of `last_day`: every row dated up to that
        day, in time order (so a later day only adds rows at the end of each file), every customer, and
        every customer's true type as `customer_labels`."""
        folder.mkdir(parents=True, exist_ok=True)
        with duckdb.connect() as con:
            for table in TABLES.values():
                rows = f"read_parquet('{self.folder / table.name}.parquet', file_row_number = true)"
                if table.event_ts:
                    rows = (
                        f"(SELECT * FROM {rows} WHERE {table.event_ts} < DATE '{last_day + timedelta(days=1)}' "
                        f"ORDER BY {table.event_ts}, file_row_number)"
                    )
                target = folder / f"{table.name}.parquet"
                con.execute(f"COPY (SELECT * EXCLUDE (file_row_number) FROM {rows}) TO '{target}' (FORMAT parquet)")
            labels = folder / f"{LABELS}.parquet"
            truth = f"SELECT customer_id, latent_type AS label FROM read_parquet('{self.truth_path()}')"
            con.execute(f"COPY ({truth}) TO '{labels}' (FORMAT parquet)")

    def customer_labels_sql(self, con: duckdb.DuckDBPyConnection) -> str | None:
        """The generator's hidden customer types, once generated."""
        path = self.truth_path()
        return f"SELECT customer_id, latent_type AS label FROM read_parquet('{path}')" if path.exists() else None

    def truth_path(self) -> Path:
        """The generator's customer ground truth: ``latent_type`` per ``customer_id``."""
        return self.folder / "ground_truth" / "customer_truth.parquet"

    def describe(self) -> str:
        return f"synthetic shop of {self.n_customers:,} customers (seed {self.seed}) in {self.folder}"
