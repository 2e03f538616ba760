"""The `files` source: one folder holding `transactions.csv`, `returns.parquet`, ...

Each contract table may be `<table>.csv`, `<table>.csv.gz` or `<table>.parquet`.
Header names are matched to contract columns ignoring case and surrounding
spaces; unknown columns are ignored. CSV files are read as text (dialect
sniffed, header required); a row with more fields than the header is
kept and quarantined as `malformed_row`. `transactions` is required; a missing
optional table is read as empty. An optional `customer_labels` file (`customer_id`, `label`)
gives customers' true types, when known, to compare the segments with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from segmentation_pipeline.domain.contract import Table
from segmentation_pipeline.sources.base import (
    SourceError,
    contract_select,
    empty_table_sql,
    relation_columns,
    sql_literal,
)

SUFFIXES = (".parquet", ".csv", ".csv.gz")
REQUIRED_TABLES = ("transactions",)
LABELS = "customer_labels"
"""Optional file of customers' true types, to measure how well the segments recover them."""


def find_table_file(folder: Path, table: str) -> Path | None:
    matches = [folder / f"{table}{suffix}" for suffix in SUFFIXES if (folder / f"{table}{suffix}").exists()]
    if len(matches) > 1:
        raise SourceError(f"{folder}: more than one file for {table}: {', '.join(m.name for m in matches)}")
    return matches[0] if matches else None


def file_relation(path: Path) -> tuple[str, str]:
    """The DuckDB relation reading a file as-is, and the SQL of its 1-based row number."""
    if path.suffix == ".parquet":
        return f"read_parquet({sql_literal(path)}, file_row_number = true)", "file_row_number + 1"
    relation = f"read_csv({sql_literal(path)}, all_varchar = true, header = true, null_padding = true)"
    return relation, "row_number() OVER ()"


def read_file_table(con: duckdb.DuckDBPyConnection, path: Path, table: Table) -> str:
    """SELECT over one contract file, with clear errors for unreadable files or missing columns."""
    relation, row_number = file_relation(path)
    file_columns = relation_columns(con, relation, path, table.name)
    by_name = {c.strip().lower(): c for c in file_columns if c != "file_row_number"}
    expressions = {c: f'"{by_name[c]}"' for c in table.column_names if c in by_name}
    # null_padding names fields beyond the header column<N>; any value there is a malformed row
    overflow = [f'"{c}"' for c in file_columns if path.suffix != ".parquet" and re.fullmatch(r"column\d+", c)]
    reject = f"CASE WHEN COALESCE({', '.join(overflow)}) IS NOT NULL THEN 'malformed_row' END" if overflow else "NULL"
    return contract_select(
        table,
        expressions,
        source_file=str(path),
        source_row=row_number,
        reject_reason=reject,
        relation=relation,
        found=[c for c in file_columns if c != "file_row_number"],
    )


@dataclass(frozen=True)
class FilesSource:
    folder: Path

    def prepare(self) -> None:
        if not self.folder.is_dir():
            raise SourceError(f"{self.folder}: source folder does not exist")
        for table in REQUIRED_TABLES:
            if find_table_file(self.folder, table) is None:
                raise SourceError(f"{self.folder}: no {table}.csv, {table}.csv.gz or {table}.parquet")

    def table_sql(self, con: duckdb.DuckDBPyConnection, table: Table) -> str:
        path = find_table_file(self.folder, table.name)
        return empty_table_sql(table) if path is None else read_file_table(con, path, table)

    def describe(self) -> str:
        return f"files in {self.folder}"

    def customer_labels_sql(self, con: duckdb.DuckDBPyConnection) -> str | None:
        """The optional `customer_labels` file (`customer_id`, `label`): each customer's true type."""
        path = find_table_file(self.folder, LABELS)
        if path is None:
            return None
        relation, _ = file_relation(path)
        by_name = {c.strip().lower(): c for c in relation_columns(con, relation, path, "customer labels")}
        missing = [c for c in ("customer_id", "label") if c not in by_name]
        if missing:
            raise SourceError(
                f"{path}: missing column(s) {', '.join(missing)} for customer labels; found {', '.join(by_name)}"
            )
        return (
            f'SELECT CAST("{by_name["customer_id"]}" AS VARCHAR) AS customer_id, '
            f'CAST("{by_name["label"]}" AS VARCHAR) AS label FROM {relation} WHERE "{by_name["label"]}" IS NOT NULL'
        )
