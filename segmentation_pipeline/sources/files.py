"""The `files` source: one folder holding `transactions.csv`, `returns.parquet`, ...

Each contract table may be `<table>.csv`, `<table>.csv.gz`, `<table>.parquet` or `<table>.xlsx`.
`transactions` is required; a missing optional table is read as empty. An optional
`customer_labels` file (`customer_id`, `label`) gives customers' true types, when known, to compare
the segments with. What a file may look like (docs/data_quality.md has the rules in full):

- header names are matched to contract columns ignoring case and surrounding spaces; unknown
  columns are ignored; a contract column named twice is an error;
- CSV text is UTF-8 (a BOM allowed), else Windows-1252 (which covers Latin-1); the delimiter is
  sniffed; fields may be quoted with `"` and hold delimiters and newlines; a row with more fields
  than the header is kept and quarantined as `malformed_row`; an empty file is an error, a header
  alone an empty table;
- an Excel workbook's one sheet with cells is read as the CSV file it would export;
- numbers: in a `;`-delimited file the comma is the decimal mark and a point groups thousands,
  elsewhere the point is the decimal mark and a comma groups thousands;
- timestamps are ISO 8601 in shop time (UTC); one with an offset or a zone is converted to UTC;
  slash dates (`12/01/2010 08:26`) are read month- or day-first as the file's values show.

A file that cannot be read as a whole is a SourceError naming it, and the line where there is one.
"""

from __future__ import annotations

import codecs
import csv
import functools
import gzip
import hashlib
import os
import re
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TextIO

import duckdb

from segmentation_pipeline.domain.contract import TABLES, Column, Table
from segmentation_pipeline.sources.base import (
    SourceError,
    contract_select,
    empty_table_sql,
    error_text,
    sql_literal,
)

SUFFIXES = (".parquet", ".csv", ".csv.gz", ".xlsx")
REQUIRED_TABLES = ("transactions",)
LABELS = "customer_labels"
"""Optional file of customers' true types, to measure how well the segments recover them."""
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "segmentation_pipeline" / "files"
"""Where UTF-8 copies of Windows-1252 and Excel files go when the source is given no cache folder."""

CHUNK = 1 << 20
DELIMITERS = (",", ";", "\t", "|")
# A multi-byte UTF-8 character: found in a file that is not valid UTF-8, the file mixes two encodings.
UTF8_CHARACTER = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
# Column types that hold no single value: they cannot be a contract column.
NESTED_TYPE = re.compile(r".*\]|(STRUCT|MAP|UNION)\(.*|BLOB")
# Numbers with thousands separators (groups of three) and a decimal point, or a decimal comma.
GROUPED_POINT = r"[+-]?[1-9][0-9]{0,2}(,[0-9]{3})+([.][0-9]+)?"
COMMA_DECIMAL = r"[+-]?([0-9]+|[1-9][0-9]{0,2}([.][0-9]{3})+)(,[0-9]+)?"
# ISO 8601 date-times with an offset, `Z` or a zone name.
ZONED = (
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}[T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?\s*"
    r"([zZ]|[+-][0-9]{2}(:?[0-9]{2})?|[A-Za-z][A-Za-z0-9_/+-]*)"
)
SLASH_DATE = r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}( [0-9]{1,2}:[0-9]{2}(:[0-9]{2})?)?"
SLASH_FORMATS = {
    "month-first": ["%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y"],
    "day-first": ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"],
}


@dataclass(frozen=True)
class FileReading:
    """How DuckDB reads one source file, and the conventions found in it."""

    relation: str
    row_number: str
    columns: dict[str, str]
    """Column names as DuckDB reads them, with their types."""
    header: list[str]
    """The header as written, duplicates included."""
    decimal_comma: bool
    slash_order: str | None
    """`month-first` or `day-first` when the file's slash dates show it; None otherwise."""


def find_table_file(folder: Path, table: str) -> Path | None:
    matches = [folder / f"{table}{suffix}" for suffix in SUFFIXES if (folder / f"{table}{suffix}").exists()]
    if len(matches) > 1:
        raise SourceError(f"{folder}: more than one file for {table}: {', '.join(m.name for m in matches)}")
    return matches[0] if matches else None


def file_chunks(path: Path) -> Iterator[bytes]:
    """The file's bytes (decompressed for `.gz`) in chunks; a broken gzip stream is a SourceError."""
    try:
        with gzip.open(path) if path.suffix == ".gz" else path.open("rb") as handle:
            yield from iter(lambda: handle.read(CHUNK), b"")
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise SourceError(f"{path}: truncated or corrupt gzip file ({error})") from error


@functools.lru_cache(maxsize=64)
def text_encoding(path: Path, version: tuple[int, int]) -> str:
    """`utf-8` when the file's text is UTF-8, else `windows-1252`, read once per ``version`` of the file. A
    file with no text, or that is UTF-8 on some lines only (a mix of encodings no reading would get
    right), is a SourceError."""
    decoder, line, size = codecs.getincrementaldecoder("utf-8")(), 1, 0
    try:
        for chunk in file_chunks(path):
            size += len(chunk)
            decoder.decode(chunk)
            line += chunk.count(b"\n")
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        line += chunk.count(b"\n", 0, max(error.start, 0))
        if any(UTF8_CHARACTER.search(chunk) for chunk in file_chunks(path)):
            raise SourceError(
                f"{path}: line {line}: not UTF-8, though other lines are; save the file in one encoding"
            ) from error
        return "windows-1252"
    if size == 0:
        raise SourceError(f"{path}: holds no text; a table needs at least its header row")
    return "utf-8"


def write_utf8_copy(path: Path, target: Path) -> None:
    """Write a Windows-1252 text file as UTF-8; a byte Windows-1252 leaves undefined is a SourceError."""
    decoder, line = codecs.getincrementaldecoder("cp1252")(), 1
    with target.open("w", encoding="utf-8", newline="") as out:
        for chunk in file_chunks(path):
            try:
                out.write(decoder.decode(chunk))
            except UnicodeDecodeError as error:
                line += chunk.count(b"\n", 0, error.start)
                raise SourceError(
                    f"{path}: line {line}: byte 0x{chunk[error.start]:02x} is neither UTF-8 nor Windows-1252 text"
                ) from error
            line += chunk.count(b"\n")


def cell_text(value: object) -> str:
    """A workbook cell as a CSV export holds it: whole numbers without `.0`, dates and times in ISO 8601."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def write_workbook_csv(path: Path, target: Path) -> None:
    """Write the one sheet with cells of an Excel workbook as a UTF-8 CSV file, without its blank rows."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheets = [workbook.get_sheet_by_name(name) for name in workbook.sheet_names]
        filled = [sheet for sheet in sheets if sheet.height > 0]
        if not filled:
            raise SourceError(f"{path}: no sheet has cells; a table needs at least its header row")
        if len(filled) > 1:
            names = ", ".join(sheet.name for sheet in filled)
            raise SourceError(f"{path}: {len(filled)} sheets with cells ({names}); keep the table's sheet alone")
        with target.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            for row in filled[0].iter_rows():
                cells = [cell_text(value) for value in row]
                if any(cells):
                    writer.writerow(cells)
    except CalamineError as error:
        raise SourceError(f"{path}: cannot be read as an Excel workbook ({error})") from error


def readable_copy(path: Path, version: tuple[int, int], cache_dir: Path, encoding: str) -> Path:
    """A UTF-8 CSV copy of a Windows-1252 or Excel file, written once per version of the file."""
    key = hashlib.sha256(f"{path.resolve()}:{version}".encode()).hexdigest()[:16]
    copy = cache_dir / f"{path.name.split('.')[0]}_{key}.csv"
    if not copy.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = copy.with_name(f".{copy.name}.{os.getpid()}.partial")
        try:
            (write_workbook_csv if encoding == "xlsx" else write_utf8_copy)(path, partial)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, copy)
    return copy


def csv_relation(path: Path, delimiter: str) -> str:
    """DuckDB's reading of a UTF-8 CSV file as text: fields quoted with `"`, short rows padded with NULL,
    one thread so that rows keep their order and quoted newlines are allowed."""
    options = "all_varchar = true, header = true, null_padding = true, parallel = false, quote = '\"', escape = '\"'"
    return f"read_csv({sql_literal(path)}, {options}, delim = {sql_literal(delimiter)})"


def open_text(path: Path) -> TextIO:
    """A UTF-8 CSV file (gzipped or not) opened for reading as text, without its byte order mark."""
    opener = gzip.open if path.suffix == ".gz" else open
    return opener(path, "rt", encoding="utf-8-sig", newline="")


def csv_header(path: Path) -> tuple[str, list[str]]:
    """The delimiter of a UTF-8 CSV file (the candidate its header line holds most often, a comma when it
    holds none), and the header's names as written."""
    with open_text(path) as handle:
        first = handle.readline()
    delimiter = max(DELIMITERS, key=first.count)
    return delimiter, next(csv.reader([first], delimiter=delimiter), [])


def quoting_problem(path: Path, delimiter: str) -> str | None:
    """Where a CSV file breaks the quoting rules (a quote left open, text after a closing quote), if it does."""
    with open_text(path) as handle:
        reader, line = csv.reader(handle, delimiter=delimiter, strict=True), 1
        try:
            for _ in reader:
                line = reader.line_num + 1
        except csv.Error as error:
            return f"line {line}: " + (
                "a quote opens a field that never ends" if "end of data" in str(error) else str(error)
            )
    return None


def slash_order(first: int | None, second: int | None) -> str | None:
    """Whether slash dates are month- or day-first, from the largest first and second numbers seen."""
    if first is None or second is None or (first > 12) == (second > 12):
        return None
    return "day-first" if first > 12 else "month-first"


@functools.lru_cache(maxsize=32)
def file_reading(
    path: Path, version: tuple[int, int], cache_dir: Path, timestamps: tuple[str, ...] = ()
) -> FileReading:
    """Read a whole file once (per version) to learn how to read it, and whether it can be read at all;
    `timestamps` names the contract columns whose slash dates decide the file's date order."""
    if version[0] == 0:
        raise SourceError(f"{path}: empty file (0 bytes); a table needs at least its header row")
    if path.suffix == ".parquet":
        relation, row_number = f"read_parquet({sql_literal(path)}, file_row_number = true)", "file_row_number + 1"
        delimiter, header = None, None
    else:
        encoding = "xlsx" if path.suffix == ".xlsx" else text_encoding(path, version)
        readable = path if encoding == "utf-8" else readable_copy(path, version, cache_dir, encoding)
        delimiter, header = csv_header(readable)
        relation, row_number = csv_relation(readable, delimiter), "row_number() OVER ()"
    with duckdb.connect() as con:
        try:
            described = con.sql(f"DESCRIBE SELECT * FROM {relation}").fetchall()
            columns = {name: kind for name, kind, *_ in described if name != "file_row_number"}
            dated = [c for c, kind in columns.items() if c.strip().lower() in timestamps and kind == "VARCHAR"]
            slash_parts = [
                f"max(TRY_CAST(regexp_extract(\"{c}\", '^\\s*([0-9]{{1,2}})/([0-9]{{1,2}})/', {group}) AS INTEGER))"
                for group in (1, 2)
                for c in dated
            ]
            (counts,) = con.sql(f"SELECT {', '.join(['count(*)', *slash_parts])} FROM {relation}").fetchall()
        except duckdb.Error as error:
            problem = header is not None and quoting_problem(readable, delimiter)
            raise SourceError(f"{path}: cannot be read: {problem or error_text(error)}") from error
    firsts, seconds = counts[1 : 1 + len(dated)], counts[1 + len(dated) :]
    return FileReading(
        relation=relation,
        row_number=row_number,
        columns=columns,
        header=list(columns) if header is None else header,
        decimal_comma=delimiter == ";",
        slash_order=slash_order(
            max((v for v in firsts if v is not None), default=None),
            max((v for v in seconds if v is not None), default=None),
        ),
    )


def matched_columns(path: Path, reading: FileReading, wanted: Sequence[str]) -> dict[str, str]:
    """The file column holding each wanted contract column found in the file (names folded to lower case
    without surrounding spaces). A wanted column named twice, or holding no single values, is a SourceError."""
    folded = [name.strip().lower() for name in reading.header]
    twice = sorted({name for name in folded if name in wanted and folded.count(name) > 1})
    if twice:
        spellings = [name for name in reading.header if name.strip().lower() == twice[0]]
        raise SourceError(f"{path}: column {twice[0]} appears {len(spellings)} times in the header ({spellings})")
    by_name = {name.strip().lower(): name for name in reading.columns if name.strip().lower() in wanted}
    for column, name in by_name.items():
        if NESTED_TYPE.fullmatch(reading.columns[name]):
            raise SourceError(f"{path}: column {column} is {reading.columns[name]}; expected text, numbers or times")
    return by_name


def number_sql(text: str, decimal_comma: bool) -> str:
    """A number's text with thousands separators removed and a decimal point."""
    if decimal_comma:
        return (
            f"CASE WHEN regexp_full_match(TRIM({text}), {sql_literal(COMMA_DECIMAL)}) "
            f"THEN replace(replace(TRIM({text}), '.', ''), ',', '.') ELSE {text} END"
        )
    return (
        f"CASE WHEN regexp_full_match(TRIM({text}), {sql_literal(GROUPED_POINT)}) "
        f"THEN replace(TRIM({text}), ',', '') ELSE {text} END"
    )


def timestamp_sql(text: str, order: str | None) -> str:
    """A timestamp's text in ISO 8601 shop time: offsets and zones converted to UTC, slash dates in the
    file's order; any other text as it is."""
    trimmed = f"TRIM({text})"
    utc = f"CAST(timezone('UTC', TRY_CAST({trimmed} AS TIMESTAMPTZ)) AS VARCHAR)"
    cases = [f"WHEN regexp_full_match({trimmed}, {sql_literal(ZONED)}) THEN COALESCE({utc}, {text})"]
    if order:
        formats = "[" + ", ".join(sql_literal(f) for f in SLASH_FORMATS[order]) + "]"
        cases.append(
            f"WHEN regexp_full_match({trimmed}, {sql_literal(SLASH_DATE)}) "
            f"THEN COALESCE(CAST(try_strptime({trimmed}, {formats}) AS VARCHAR), {text})"
        )
    return f"CASE {' '.join(cases)} ELSE {text} END"


def value_sql(column: Column, name: str, reading: FileReading) -> str:
    """The raw text of a contract column read from the file column `name`."""
    quoted, kind = f'"{name}"', reading.columns[name]
    if kind == "TIMESTAMP WITH TIME ZONE":
        return f"CAST(timezone('UTC', {quoted}) AS VARCHAR)"
    if kind != "VARCHAR":
        return f"CAST({quoted} AS VARCHAR)"
    if column.sql_type == "TIMESTAMP":
        return timestamp_sql(quoted, reading.slash_order)
    if column.sql_type in ("BIGINT", "INTEGER", "DOUBLE"):
        return number_sql(quoted, reading.decimal_comma)
    return quoted


def reject_sql(overflow: Sequence[str], zoned: Sequence[str]) -> str:
    """The files source's own reasons to quarantine a row: `malformed_row` when it has a value beyond the
    header, `unknown_time_zone` when a timestamp names a zone DuckDB does not know (read without the zone,
    it would be silently wrong)."""
    cases = []
    if overflow:
        fields = ", ".join(f'"{c}"' for c in overflow)
        cases.append(f"WHEN COALESCE({fields}) IS NOT NULL THEN 'malformed_row'")
    for name in zoned:
        text = f'TRIM("{name}")'
        cases.append(
            f"WHEN regexp_full_match({text}, {sql_literal(ZONED)}) AND TRY_CAST({text} AS TIMESTAMPTZ) IS NULL "
            f"AND TRY_CAST({text} AS TIMESTAMP) IS NOT NULL THEN 'unknown_time_zone'"
        )
    return f"CASE {' '.join(cases)} END" if cases else "NULL"


def file_version(path: Path) -> tuple[int, int]:
    """What tells one version of a file from the next: its size and modification time."""
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def read_file_table(con: duckdb.DuckDBPyConnection, path: Path, table: Table, cache_dir: Path) -> str:
    """SELECT over one contract file, with clear errors for unreadable files or missing columns."""
    timestamps = tuple(c.name for c in table.columns if c.sql_type == "TIMESTAMP")
    reading = file_reading(path, file_version(path), cache_dir, timestamps)
    by_name = matched_columns(path, reading, table.column_names)
    expressions = {c: value_sql(table.column(c), by_name[c], reading) for c in by_name}
    # DuckDB names the fields of rows longer than the header column<N>, after the header's columns
    overflow = list(reading.columns)[len(reading.header) :]
    zoned = [by_name[c] for c in timestamps if c in by_name and reading.columns[by_name[c]] == "VARCHAR"]
    return contract_select(
        table,
        expressions,
        source_file=str(path),
        source_row=reading.row_number,
        reject_reason=reject_sql(overflow, zoned),
        relation=reading.relation,
        found=list(reading.columns),
    )


@dataclass(frozen=True)
class FilesSource:
    folder: Path
    cache_dir: Path | None = None
    """Where UTF-8 copies of Windows-1252 and Excel files are kept (None: the system's temporary folder)."""

    @property
    def copies(self) -> Path:
        return self.cache_dir or DEFAULT_CACHE

    def prepare(self) -> None:
        if not self.folder.is_dir():
            raise SourceError(f"{self.folder}: source folder does not exist")
        for table in REQUIRED_TABLES:
            if find_table_file(self.folder, table) is None:
                raise SourceError(f"{self.folder}: no {table}.csv, {table}.csv.gz, {table}.parquet or {table}.xlsx")

    def table_sql(self, con: duckdb.DuckDBPyConnection, table: Table) -> str:
        path = find_table_file(self.folder, table.name)
        return empty_table_sql(table) if path is None else read_file_table(con, path, table, self.copies)

    def describe(self) -> str:
        """The folder, and the CSV files whose text is not UTF-8 with the encoding they were read in."""
        paths = [find_table_file(self.folder, name) for name in (*TABLES, LABELS)]
        texts = [p for p in paths if p is not None and p.name.endswith((".csv", ".csv.gz"))]
        others = [f"{p.name} read as {e}" for p in texts if (e := text_encoding(p, file_version(p))) != "utf-8"]
        return f"files in {self.folder}" + (f" ({'; '.join(others)})" if others else "")

    def customer_labels_sql(self, con: duckdb.DuckDBPyConnection) -> str | None:
        """The optional `customer_labels` file (`customer_id`, `label`): each customer's true type."""
        path = find_table_file(self.folder, LABELS)
        if path is None:
            return None
        reading = file_reading(path, file_version(path), self.copies)
        by_name = matched_columns(path, reading, ("customer_id", "label"))
        missing = [c for c in ("customer_id", "label") if c not in by_name]
        if missing:
            raise SourceError(
                f"{path}: missing column(s) {', '.join(missing)} for customer labels; found {', '.join(reading.columns)}"
            )
        return (
            f'SELECT CAST("{by_name["customer_id"]}" AS VARCHAR) AS customer_id, '
            f'CAST("{by_name["label"]}" AS VARCHAR) AS label FROM {reading.relation} WHERE "{by_name["label"]}" IS NOT NULL'
        )
