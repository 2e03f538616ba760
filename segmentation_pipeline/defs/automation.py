"""Jobs, schedules and sensors: the nightly refresh, the job backfills run, and a watch on delivered files."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import dagster as dg

from segmentation_pipeline.defs.partitions import month_key, monthly_partitions
from segmentation_pipeline.defs.resources import SourceResource

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


def folder_fingerprint(folder: Path) -> str:
    """A digest of the name, size and modification time of every file in a folder."""
    files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    stats = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    return hashlib.sha256(json.dumps(stats).encode()).hexdigest()[:16]


@dg.sensor(
    job=daily_refresh_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When a file of the `files` source is delivered or replaced (say, corrections for past days), "
    "refreshes every month: only the days whose source rows changed are staged again, and what depends on them.",
)
def delivered_files_sensor(context: dg.SensorEvaluationContext, source: SourceResource):
    if source.kind != "files":
        return dg.SkipReason(f"the source is {source.kind!r}; only a `files` folder is watched")
    fingerprint = folder_fingerprint(Path(source.path))
    previous = context.cursor
    context.update_cursor(fingerprint)
    if previous is None:
        return dg.SkipReason(f"watching {source.path} from now on")
    if previous == fingerprint:
        return dg.SkipReason(f"no file in {source.path} changed")
    keys = monthly_partitions.get_partition_keys()
    return dg.RunRequest(
        run_key=fingerprint,
        tags={"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]},
    )
