"""Monthly event partitions over the configured window.

A partition is a month of event days. Dagster records a materialisation per asset and
partition, about ten milliseconds each in its SQLite event log, so a month keeps the price of
a two-year first run at 24 records per staging asset instead of 730. Inside a month, staging
works by day: a run stages only the days whose source rows are new or changed, so the nightly
run of the current month stages yesterday and nothing else.
"""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg

from segmentation_pipeline.settings import SETTINGS
from segmentation_pipeline.warehouse import Window

FIRST_DAY = date.fromisoformat(SETTINGS.partitions_start)
END_DAY = date.fromisoformat(SETTINGS.partitions_end) if SETTINGS.partitions_end else None


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=month_start(FIRST_DAY).isoformat(),
    end_date=None if END_DAY is None else next_month(END_DAY - timedelta(days=1)).isoformat(),
    end_offset=1 if END_DAY is None else 0,  # without an end, the month in progress is a partition too
    timezone=SETTINGS.timezone,
)

# Each partitioned asset takes a whole backfill range in one run: one scan of the
# source and one transaction per asset instead of one run per month.
single_run_backfill = dg.BackfillPolicy.single_run()


def first_day() -> date:
    """The first event day of the partitions."""
    return FIRST_DAY


def month_key(day: date) -> str:
    """The partition holding a day."""
    return month_start(day).isoformat()


def event_window(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> Window:
    """The event days this run covers: its partitions' months within the configured window, or every
    day for an unpartitioned run. Read from the run's partition range, so a check run on its own
    covers the same days."""
    op_context = context.op_execution_context
    if op_context.has_partition_key or op_context.has_partition_key_range:
        key_range = op_context.partition_key_range
        start = monthly_partitions.time_window_for_partition_key(key_range.start).start.date()
        end = monthly_partitions.time_window_for_partition_key(key_range.end).end.date()
        return Window(max(start, FIRST_DAY), min(end, END_DAY or end))
    return Window(FIRST_DAY, date.max)
