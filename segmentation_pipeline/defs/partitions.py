"""Daily event partitions, from the configured window."""

from __future__ import annotations

from datetime import date

import dagster as dg

from segmentation_pipeline.settings import SETTINGS
from segmentation_pipeline.warehouse import Window

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=SETTINGS.partitions_start,
    end_date=SETTINGS.partitions_end,
    timezone=SETTINGS.timezone,
)

# Each partitioned asset takes a whole backfill range in one run: one scan of the
# source and one transaction per asset instead of one run per day.
single_run_backfill = dg.BackfillPolicy.single_run()


def first_day() -> date:
    """The first event day of the partitions."""
    return daily_partitions.start.date()


def event_window(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> Window:
    """The event days this run covers: its partition range, or every day for an unpartitioned run.

    Read from the run's partition range, so a check run on its own covers the same days.
    """
    op_context = context.op_execution_context
    if op_context.has_partition_key or op_context.has_partition_key_range:
        key_range = op_context.partition_key_range
        return Window(
            daily_partitions.time_window_for_partition_key(key_range.start).start.date(),
            daily_partitions.time_window_for_partition_key(key_range.end).end.date(),
        )
    return Window(first_day(), date.max)
