"""What every source reader produces: contract tables as raw text plus lineage.

A source turns its files into one DuckDB SELECT per contract table. The SELECT
returns every contract column as VARCHAR (absent optional columns as NULL), and
four lineage columns:

- `_source_file`: the file the row came from;
- `_source_row`: the row's 1-based position among the file's data rows;
- `_reject_reason`: a source-specific reason to quarantine the row, or NULL;
- `_event_ts`: the event timestamp parsed from the raw text (NULL when missing
  or unparseable; always NULL for tables without an event timestamp).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import duckdb

from segmentation_pipeline.domain.contract import Table
from segmentation_pipeline.sql.staging import parse_timestamp_sql


class SourceError(ValueError):
    """A source file that cannot be read as its contract table."""


class RawSource(Protocol):
    def prepare(self) -> None:
        """Make the source's files available (e.g. generate synthetic data)."""

    def table_sql(self, con: duckdb.DuckDBPyConnection, table: Table) -> str:
        """A SELECT yielding the contract table as raw text plus lineage columns."""

    def describe(self) -> str:
        """One line naming the source for metadata."""

    def customer_labels_sql(self, con: duckdb.DuckDBPyConnection) -> str | None:
        """A SELECT of each customer's true type (`customer_id`, `label`, text) when the source knows
        them; None otherwise."""


def error_text(error: duckdb.Error) -> str:
    """DuckDB's message without its advice and reader settings: what is wrong, and on which line."""
    lines = [line.strip()[:200] for line in str(error).split("\n\n")[0].splitlines()]
    advice = next((i for i, line in enumerate(lines) if line.startswith(("Possible", "The search space"))), None)
    return "; ".join(line for line in lines[:advice] if line)


def relation_columns(con: duckdb.DuckDBPyConnection, relation: str, path: object, reading_as: str) -> list[str]:
    """Column names of a file relation, or a SourceError naming the file when it cannot be read."""
    try:
        return [row[0] for row in con.sql(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
    except duckdb.Error as error:
        raise SourceError(f"{path}: cannot be read as {reading_as}: {error_text(error)}") from error


def sql_literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def contract_select(
    table: Table,
    expressions: Mapping[str, str],
    *,
    source_file: str,
    source_row: str,
    reject_reason: str = "NULL",
    relation: str,
    found: Sequence[str] = (),
) -> str:
    """Assemble the SELECT of a contract table from per-column SQL expressions.

    Columns missing from `expressions` are optional columns the source lacks;
    a missing required column is a SourceError naming the file and the columns `found`.
    """
    missing = [c for c in table.required if c not in expressions]
    if missing:
        raise SourceError(
            f"{source_file}: missing required column(s) {', '.join(missing)} for {table.name}"
            + (f"; found {', '.join(found)}" if found else "")
        )
    columns = [
        f"CAST({expressions[c]} AS VARCHAR) AS {c}" if c in expressions else f"CAST(NULL AS VARCHAR) AS {c}"
        for c in table.column_names
    ]
    event_ts = parse_timestamp_sql(expressions[table.event_ts]) if table.event_ts else "CAST(NULL AS TIMESTAMP)"
    columns += [
        f"{sql_literal(source_file)} AS _source_file",
        f"CAST({source_row} AS BIGINT) AS _source_row",
        f"CAST({reject_reason} AS VARCHAR) AS _reject_reason",
        f"{event_ts} AS _event_ts",
    ]
    return "SELECT\n  " + ",\n  ".join(columns) + f"\nFROM {relation}"


def empty_table_sql(table: Table) -> str:
    """The contract table with no rows, for a source that lacks it."""
    return contract_select(
        table,
        {c: "NULL" for c in table.required},
        source_file="(absent)",
        source_row="NULL",
        relation="(SELECT 1) WHERE false",
    )
