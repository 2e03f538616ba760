"""Resources: the DuckDB warehouse, the configured raw-data source, and where files outside the warehouse go."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from segmentation_pipeline.domain.returns.registry import ModelRegistry
from segmentation_pipeline.domain.segments.registry import SegmentModelRegistry
from segmentation_pipeline.settings import SETTINGS, Settings
from segmentation_pipeline.sources import RawSource, build_source
from segmentation_pipeline.warehouse import ensure_tables, holding_warehouse


class Warehouse(DuckDBResource):
    """The DuckDB warehouse file, created on first use; every connection has the tables and the macros
    the queries use. A run holds the warehouse from its start to its end: a second run started
    meanwhile fails at once, naming the run that holds it (`holding_warehouse`). Work that does not
    fit in the memory limit, even spilling to the temp directory, fails naming the setting to raise."""

    _held: ExitStack = PrivateAttr(default_factory=ExitStack)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._held.enter_context(holding_warehouse(Path(self.database), f"run {context.run_id}"))

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._held.close()

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        if "temp_directory" in self.connection_config:
            Path(self.connection_config["temp_directory"]).parent.mkdir(parents=True, exist_ok=True)
        with super().get_connection() as con:
            con.execute("SET enable_progress_bar = false").fetchall()  # keeps run logs readable
            ensure_tables(con)
            try:
                yield con
            except duckdb.OutOfMemoryException as error:
                limit = self.connection_config.get("memory_limit", "DuckDB's default")
                raise MemoryError(
                    f"{self.database}: the work did not fit in the warehouse's memory limit ({limit}) even with "
                    f"spilling to {self.connection_config.get('temp_directory', 'no temp directory')}; raise "
                    f"SEGMENTATION_DUCKDB_MEMORY_LIMIT (or free disk space for the temp directory). {error}"
                ) from error


class SourceResource(dg.ConfigurableResource):
    """Which raw source feeds the pipeline (`synthetic`, `files` or `online_retail`)."""

    kind: str
    path: str
    partitions_start: str
    partitions_end: str | None = None
    synthetic_customers: int = 60_000
    synthetic_seed: int = 42
    cache_dir: str | None = None
    """Where a source keeps what it derives from its files once (e.g. parsed CSV as Parquet)."""

    def reader(self) -> RawSource:
        return build_source(
            kind=self.kind,
            path=Path(self.path),
            partitions_start=self.partitions_start,
            partitions_end=self.partitions_end,
            synthetic_customers=self.synthetic_customers,
            synthetic_seed=self.synthetic_seed,
            cache_dir=Path(self.cache_dir) if self.cache_dir else None,
        )

    def customer_labels_sql(self, con: duckdb.DuckDBPyConnection) -> str | None:
        """A SELECT of customers' true types (`customer_id`, `label`), or None when the source has none."""
        return self.reader().customer_labels_sql(con)


class Artifacts(dg.ConfigurableResource):
    """Where the pipeline writes outside the warehouse: exports for BI and marketing tools, the
    scoring service's files, reports, and the model registries (the scoring service reads the
    return models from the same folder)."""

    exports_dir: str
    serving_dir: str
    reports_dir: str
    return_models_dir: str
    segment_models_dir: str

    def export_path(self, file_name: str) -> Path:
        return Path(self.exports_dir) / file_name

    def report_path(self, file_name: str) -> Path:
        return Path(self.reports_dir) / file_name

    def return_models(self) -> ModelRegistry:
        return ModelRegistry(Path(self.return_models_dir))

    def segment_models(self) -> SegmentModelRegistry:
        return SegmentModelRegistry(Path(self.segment_models_dir))


def build_resources(settings: Settings = SETTINGS) -> dict[str, dg.ConfigurableResource]:
    """Every resource, from settings: one code path, swapped per environment by configuration."""
    return {
        "warehouse": Warehouse(database=str(settings.warehouse_path), connection_config=settings.duckdb_config),
        "artifacts": Artifacts(
            exports_dir=str(settings.exports_dir),
            serving_dir=str(settings.serving_dir),
            reports_dir=str(settings.reports_dir),
            return_models_dir=str(settings.return_models_dir),
            segment_models_dir=str(settings.segment_models_dir),
        ),
        "source": SourceResource(
            kind=settings.source,
            path=str(settings.source_path),
            partitions_start=settings.partitions_start,
            partitions_end=settings.partitions_end,
            synthetic_customers=settings.synthetic_customers,
            synthetic_seed=settings.synthetic_seed,
            cache_dir=str(settings.data_dir / "sources"),
        ),
    }


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=build_resources())
