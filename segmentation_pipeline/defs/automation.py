"""Jobs and schedules: the daily refresh and the backfill job."""

from __future__ import annotations

import dagster as dg

from segmentation_pipeline.defs.partitions import daily_partitions

# Everything: yesterday's raw and staging partitions, then every customer-level table.
daily_refresh_job = dg.define_asset_job(
    name="daily_refresh",
    selection=dg.AssetSelection.all(),
    partitions_def=daily_partitions,
    description="Load and stage one event day, then refresh everything downstream.",
)

daily_refresh_schedule = dg.build_schedule_from_partitioned_job(
    daily_refresh_job,
    hour_of_day=2,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night at 02:00: materialise yesterday's partitions and refresh downstream tables.",
)
