"""What every asset module shares: the area an asset belongs to, writing model-sized frames,
and the metadata shown in the Dagster UI."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import dagster as dg
import duckdb
import pandas as pd

from segmentation_pipeline.domain.segments.history import DailySnapshots
from segmentation_pipeline.sql import catalog
from segmentation_pipeline.warehouse import Window, replace_days


def area(name: str) -> dict[str, Any]:
    """Group, owner and tag of an asset's area, so analysts can filter the lineage by area."""
    return {"group_name": name, "owners": [f"team:{name}"], "tags": {"area": name}}


def iso_day(field: str, text: str | None) -> date | None:
    """A day from the launchpad (ISO date), None when empty, or an error naming the field."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError as error:
        raise ValueError(f"{field}: {text!r} is not an ISO date (YYYY-MM-DD)") from error


def write_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Replace a whole table with a model-sized frame."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}").fetchall()
    con.register("frame_to_write", frame)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM frame_to_write").fetchall()
    con.unregister("frame_to_write")


def replace_days_with_changes(
    con: duckdb.DuckDBPyConnection, table: str, window: Window, changes: list[pd.DataFrame], refreshed_by: str
) -> int:
    """Replace the window's days of a history table with its change rows computed in Python; the rows written."""
    con.register("changed_rows", pd.concat(changes) if changes else pd.DataFrame(columns=["as_of_day"]))
    try:
        return replace_days(con, table, window, "SELECT * FROM changed_rows", refreshed_by=refreshed_by)
    finally:
        con.unregister("changed_rows")


def daily_snapshots(con: duckdb.DuckDBPyConnection, window: Window, columns: list[str]) -> DailySnapshots:
    """Every customer's snapshot on each day from the day before the window to its last day, replayed
    from the customer history."""
    day_before = window.start - timedelta(days=1)
    opening = con.execute("SELECT * FROM history_before($day)", {"day": day_before}).df()
    changes = con.execute(
        f"SELECT * FROM {catalog.CUSTOMER_HISTORY} WHERE as_of_day >= $day AND as_of_day < $end",
        {"day": day_before, "end": window.end},
    ).df()
    return DailySnapshots(opening, changes, day_before, window.end - timedelta(days=1), columns)


def table_schema(
    con: duckdb.DuckDBPyConnection, relation: str, descriptions: Mapping[str, str] | None = None
) -> dg.TableSchema:
    """The relation's columns with types and, where known, their business meaning."""
    described = con.sql(f"DESCRIBE {relation}").fetchall()
    descriptions = descriptions or {}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=name, type=sql_type, description=descriptions.get(name))
            for name, sql_type, *_ in described
        ]
    )


def markdown_preview(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None, limit: int = 5) -> str:
    """The first rows of a query as a markdown table."""
    frame = con.execute(f"SELECT * FROM ({sql}) LIMIT {limit}", params or {}).df()
    if frame.empty:
        return "_no rows_"
    header = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, *rows])


def frame_markdown(frame: pd.DataFrame, digits: int = 2) -> str:
    """A frame as a markdown table, numbers rounded."""
    numbers = frame.select_dtypes("number").columns
    return frame.round({c: digits for c in numbers}).to_markdown() if not frame.empty else "_no rows_"


def counts_markdown(counts: Mapping[str, int], label: str = "reason") -> str:
    if not counts:
        return "_none_"
    return f"| {label} | rows |\n|---|---:|\n" + "\n".join(f"| {k} | {v:,} |" for k, v in counts.items())
