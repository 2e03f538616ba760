"""What every asset module shares: the area an asset belongs to, writing model-sized frames,
and the metadata shown in the Dagster UI."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
import duckdb
import pandas as pd


def area(name: str) -> dict[str, Any]:
    """Group, owner and tag of an asset's area, so analysts can filter the lineage by area."""
    return {"group_name": name, "owners": [f"team:{name}"], "tags": {"area": name}}


def write_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Replace a whole table with a model-sized frame."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}").fetchall()
    con.register("frame_to_write", frame)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM frame_to_write").fetchall()
    con.unregister("frame_to_write")


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
