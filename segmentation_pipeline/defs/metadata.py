"""Metadata shown in the Dagster UI for warehouse tables."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
import duckdb


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


def counts_markdown(counts: dict[str, int], label: str = "reason") -> str:
    if not counts:
        return "_none_"
    return f"| {label} | rows |\n|---|---:|\n" + "\n".join(f"| {k} | {v:,} |" for k, v in counts.items())
