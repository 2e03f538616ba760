"""Great Expectations suites for staged contract tables, run from plain functions.

Staging tables carry the contract columns with typed values; event tables are checked one
partition window at a time. ``validate_staging`` runs a suite derived from the contract and
returns plain dataclasses that callers turn into Dagster asset-check results. Great
Expectations is imported only when a suite runs.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from segmentation_pipeline.domain.contract import Table

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.expectations import Expectation


SAMPLE_SIZE = 5


def value_ranges(table: Table) -> dict[str, tuple[float | None, float | None]]:
    """Inclusive allowed ranges per column, from the contract; nulls are not range-checked."""
    return {c.name: (c.minimum, c.maximum) for c in table.bounded}


@dataclass(frozen=True)
class ExpectationOutcome:
    """How one data-quality rule fared on one table partition."""

    expectation: str
    column: str | None
    success: bool
    unexpected_count: int
    unexpected_percent: float
    sample_values: list
    error: str | None = None


@dataclass(frozen=True)
class SuiteResult:
    """All rule outcomes for one staged table partition; success means it may be published."""

    table: str
    success: bool
    outcomes: list[ExpectationOutcome]

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    def to_markdown(self) -> str:
        """Summary for the Dagster UI: a table of the failing rules, or a pass line."""
        failures = self.failures
        if not failures:
            return f"**{self.table}**: all {len(self.outcomes)} expectations passed."
        lines = [
            f"**{self.table}**: {len(failures)} of {len(self.outcomes)} expectations failed.",
            "",
            "| expectation | column | unexpected | % | sample values |",
            "|---|---|---:|---:|---|",
        ]
        for o in failures:
            detail = o.error or "; ".join(_md_value(v) for v in o.sample_values)
            lines.append(
                f"| {o.expectation} | {_md_escape(o.column or '')} | {o.unexpected_count} "
                f"| {o.unexpected_percent:.2f} | {_md_escape(detail)} |"
            )
        return "\n".join(lines)


def staging_columns(table: Table) -> list[str]:
    """Columns of the staged table: the contract columns plus key columns added by staging."""
    return table.column_names + [k for k in table.key if k not in table.column_names]


def staging_expectations(table: Table, window_start: datetime | None, window_end: datetime | None) -> list[Expectation]:
    """The rules a staged partition of ``table`` must satisfy.

    Every staged column exists; key and required columns are never null; the key
    is unique; numeric columns lie in their plausible range; boolean columns only
    hold True/False; and, when a window is given, every event timestamp lies in
    [window_start, window_end). Aware window bounds are compared in naive UTC,
    the way DuckDB TIMESTAMP values are staged.
    """
    import great_expectations.expectations as gxe

    columns = staging_columns(table)
    expectations: list[Expectation] = [gxe.ExpectColumnToExist(column=c) for c in columns]
    not_null = list(dict.fromkeys([*table.key, *table.required]))
    expectations += [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in not_null]
    if len(table.key) == 1:
        expectations.append(gxe.ExpectColumnValuesToBeUnique(column=table.key[0]))
    else:
        expectations.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(table.key)))
    for column, (low, high) in value_ranges(table).items():
        expectations.append(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high))
    expectations += [
        gxe.ExpectColumnValuesToBeInSet(column=c.name, value_set=[True, False])
        for c in table.columns
        if c.sql_type == "BOOLEAN"
    ]
    if table.event_ts and (window_start is not None or window_end is not None):
        expectations.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=table.event_ts,
                min_value=_naive_utc(window_start),
                max_value=_naive_utc(window_end),
                strict_max=True,
            )
        )
    return expectations


def validate_staging(
    table: Table,
    df: pd.DataFrame,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> SuiteResult:
    """Validate one partition of a staged table; an empty partition passes.

    Rules on a column that is absent from ``df`` are not run: the failing
    column-exists outcome reports the absence instead.
    """
    import great_expectations as gx

    present = set(df.columns)
    expectations = [
        e
        for e in staging_expectations(table, window_start, window_end)
        if e.expectation_type == "expect_column_to_exist" or set((_expectation_label(e) or "").split(",")) <= present
    ]
    order = {(e.expectation_type, _expectation_label(e)): i for i, e in enumerate(expectations)}
    suite = gx.ExpectationSuite(name=f"staging_{table.name}", expectations=expectations)
    batch = _batch_definition(table.name).get_batch(batch_parameters={"dataframe": df})
    result = batch.validate(
        suite,
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE},
    )
    outcomes = sorted(
        (_outcome(r) for r in result.results),
        key=lambda o: order.get((o.expectation, o.column), len(order)),
    )
    return SuiteResult(table=table.name, success=all(o.success for o in outcomes), outcomes=outcomes)


@functools.cache
def _context() -> Any:
    """One in-memory GX context per process, analytics and progress bars off."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        store_backend_defaults=InMemoryStoreBackendDefaults(),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


@functools.cache
def _staging_source() -> Any:
    return _context().data_sources.add_pandas("staging")


_setup_lock = threading.Lock()


def _batch_definition(table_name: str) -> BatchDefinition:
    """Whole-dataframe batch definition for a staged table, created once per process."""
    with _setup_lock:
        return _cached_batch_definition(table_name)


@functools.cache
def _cached_batch_definition(table_name: str) -> BatchDefinition:
    asset = _staging_source().add_dataframe_asset(name=table_name)
    return asset.add_batch_definition_whole_dataframe("partition")


def _naive_utc(ts: datetime | None) -> datetime | None:
    if ts is None or ts.tzinfo is None:
        return ts
    return ts.astimezone(UTC).replace(tzinfo=None)


def _column_label(column: str | None, column_list: Sequence[str] | None) -> str | None:
    """The column an outcome is about; compound keys read "order_id,line_no"."""
    return column or (",".join(column_list) if column_list else None)


def _expectation_label(expectation: Expectation) -> str | None:
    return _column_label(getattr(expectation, "column", None), getattr(expectation, "column_list", None))


def _outcome(result: Any) -> ExpectationOutcome:
    config = result.expectation_config
    expectation = config.type
    column = _column_label(config.kwargs.get("column"), config.kwargs.get("column_list"))
    details = result.result or {}
    error = _error_message(result.exception_info)
    if expectation == "expect_column_to_exist" and not result.success:
        count, percent, samples = 1, 100.0, [column]
    else:
        count = int(details.get("unexpected_count") or 0)
        percent = float(details.get("unexpected_percent") or 0.0)
        samples = list(dict.fromkeys(_plain(v) for v in details.get("partial_unexpected_list") or []))
    return ExpectationOutcome(
        expectation=expectation,
        column=column,
        success=bool(result.success),
        unexpected_count=count,
        unexpected_percent=percent,
        sample_values=samples[:SAMPLE_SIZE],
        error=error,
    )


def _error_message(info: dict | None) -> str | None:
    """First exception message GX caught while computing an expectation, if any."""
    if not info:
        return None
    candidates = [info] if "raised_exception" in info else list(info.values())
    for item in candidates:
        if isinstance(item, dict) and item.get("raised_exception"):
            return str(item.get("exception_message") or "expectation raised an exception")
    return None


def _plain(value: Any) -> Any:
    """JSON-friendly scalar: None for missing, ISO text for times, a joined string for keys."""
    import pandas as pd

    if isinstance(value, dict):
        return ",".join(str(_plain(v)) for v in value.values())
    if isinstance(value, (list, tuple)):
        return ",".join(str(_plain(v)) for v in value)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_value(value: Any) -> str:
    return "null" if value is None else str(value)
