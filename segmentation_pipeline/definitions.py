"""The Dagster code location: assets, checks, resources, jobs and schedules."""

import dagster as dg

from segmentation_pipeline.defs.automation import daily_refresh_job, daily_refresh_schedule
from segmentation_pipeline.defs.checks import staging_checks
from segmentation_pipeline.defs.features import feature_assets
from segmentation_pipeline.defs.insights import insight_assets
from segmentation_pipeline.defs.raw import raw_assets
from segmentation_pipeline.defs.reporting import reporting_assets
from segmentation_pipeline.defs.resources import build_resources
from segmentation_pipeline.defs.return_model import return_model_assets, return_model_checks
from segmentation_pipeline.defs.returns import return_assets
from segmentation_pipeline.defs.segments import segment_assets, segment_checks
from segmentation_pipeline.defs.staging import staging_assets

all_assets = [
    *raw_assets,
    *staging_assets,
    *feature_assets,
    *segment_assets,
    *insight_assets,
    *return_assets,
    *return_model_assets,
    *reporting_assets,
]
all_checks = [*staging_checks, *segment_checks, *return_model_checks]

defs = dg.Definitions(
    assets=all_assets,
    asset_checks=all_checks,
    jobs=[daily_refresh_job],
    schedules=[daily_refresh_schedule],
    resources=build_resources(),
    # DuckDB allows one writer: steps of a run execute one after another in one process.
    executor=dg.in_process_executor,
)
