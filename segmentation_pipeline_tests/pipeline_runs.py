"""Dagster runs of the whole code location, each against a folder of its own: the warehouse, the model
registries, exports, serving files and reports all live under it."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

from segmentation_pipeline.definitions import defs
from segmentation_pipeline.defs.partitions import month_key
from segmentation_pipeline.defs.resources import SourceResource, build_resources
from segmentation_pipeline.settings import SETTINGS
from segmentation_pipeline.warehouse import connect

EVERYTHING = [*defs.assets, *defs.asset_checks]
SHORT_CHURN = {"ops": {"churn_model": {"config": {"horizon_days": 14}}}}
"""The test shop spans two months: churn means two weeks without a purchase."""
TINY_SHOP_SEGMENTS = {"min_customers": 26, "min_segment_customers": 3}
"""The test shop has a few dozen customers in its first days: segment models are allowed on them from its
second day on."""


def resources_in(folder: Path, **overrides: dg.ConfigurableResource) -> dict:
    """Every resource, with everything the pipeline writes under `folder` (the test shop is shared)."""
    settings = dataclasses.replace(
        SETTINGS,
        warehouse_path=folder / "warehouse.duckdb",
        reports_dir=folder / "reports",
        serving_dir=folder / "serving",
        exports_dir=folder / "exports",
        return_models_dir=folder / "models" / "returns",
        segment_models_dir=folder / "models" / "segments",
    )
    return {**build_resources(settings), **overrides}


def run(
    folder: Path,
    *,
    first_day: str = "2024-01-01",
    last_day: str = "2024-02-29",
    selection: dg.AssetSelection | None = None,
    run_config: dict | None = None,
    **overrides: dg.ConfigurableResource,
) -> dg.ExecuteInProcessResult:
    """Materialise every asset and check (or a selection) into `folder`, for the months that hold a
    range of days (the whole test window by default)."""
    first, last = (month_key(date.fromisoformat(day)) for day in (first_day, last_day))
    selected = (selection or dg.AssetSelection.all()).resolve(defs.assets)
    if dg.AssetKey("customer_segments") in selected:
        ops = dict((run_config or {}).get("ops", {}))
        given = ops.get("customer_segments", {}).get("config", {})
        run_config = {**(run_config or {}), "ops": ops | {"customer_segments": {"config": TINY_SHOP_SEGMENTS | given}}}
    return dg.materialize(
        EVERYTHING,
        resources=resources_in(folder, **overrides),
        selection=selection,
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
        run_config=run_config,
        raise_on_error=False,
    )


def shop_through(folder: Path, last_day: str) -> SourceResource:
    """The test shop as a `files` source holds it at the end of `last_day` (see `SyntheticSource.export`)."""
    shop = build_resources(SETTINGS)["source"].reader()
    shop.prepare()
    shop.export(folder, date.fromisoformat(last_day))
    return SourceResource(
        kind="files",
        path=str(folder),
        partitions_start=SETTINGS.partitions_start,
        partitions_end=SETTINGS.partitions_end,
    )


def copy_of(folder: Path, destination: Path) -> Path:
    """A copy of a run's folder, so a test can change it without touching the original."""
    shutil.copytree(folder, destination)
    return destination


def warehouse(folder: Path) -> Path:
    return folder / "warehouse.duckdb"


def open_warehouse(folder: Path) -> duckdb.DuckDBPyConnection:
    """The folder's warehouse with the macros that derive a day's view from the histories."""
    return connect(warehouse(folder))


def materialisation_metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    """Metadata of the asset's materialisation (the first partition's, all partitions of a run share it)."""
    events = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset]
    return events[0].step_materialization_data.materialization.metadata
