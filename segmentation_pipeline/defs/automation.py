"""Jobs and schedules: the nightly refresh and the job backfills run."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from segmentation_pipeline.defs.partitions import month_key, monthly_partitions

# Everything: the month's staging partitions (only new or changed days are staged), then every
# customer-level table for the days that changed.
daily_refresh_job = dg.define_asset_job(
    name="daily_refresh",
    selection=dg.AssetSelection.all(),
    partitions_def=monthly_partitions,
    description="Stage the new or changed event days of a month, then refresh everything downstream.",
)


@dg.schedule(
    cron_schedule="0 2 * * *",
    job=daily_refresh_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    execution_timezone="UTC",
    description="Every night at 02:00: stage yesterday (the month it belongs to) and refresh downstream tables.",
)
def daily_refresh_schedule(context: dg.ScheduleEvaluationContext):
    yesterday = context.scheduled_execution_time.date() - timedelta(days=1)
    key = month_key(yesterday)
    if key not in monthly_partitions.get_partition_keys():
        return dg.SkipReason(f"{yesterday} lies outside the configured event window")
    return dg.RunRequest(run_key=f"{yesterday}", partition_key=key)
