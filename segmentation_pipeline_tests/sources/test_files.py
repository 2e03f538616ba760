"""The `files` source on files broken as a whole: each is read right, quarantined with a reason, or
refused with a SourceError naming the file (and the line or column where there is one)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.domain.contract import EVENT_TABLES, TABLES
from segmentation_pipeline.sources.base import SourceError
from segmentation_pipeline.sources.files import FilesSource
from segmentation_pipeline.warehouse import connect, quarantine_by_reason, quarantine_unplaced_rows, table_totals
from segmentation_pipeline_tests.shop_files import ALL_DAYS, build

HEADER = ["order_id", "customer_id", "order_ts", "product_id", "quantity", "unit_price", "category"]


def write_lines(folder: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    """A folder whose transactions.csv holds the header and the rows, in UTF-8."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = "".join(delimiter.join(row) + "\n" for row in [HEADER, *rows])
    (folder / "transactions.csv").write_text(lines, encoding="utf-8")
    return folder


def load(folder: Path) -> duckdb.DuckDBPyConnection:
    """Load and stage every table of the folder, quarantine the rows no day holds, and check that every
    source row is counted once."""
    con = connect()
    source = FilesSource(folder, folder.parent / "cache")
    build(con, source, [ALL_DAYS])
    quarantine_unplaced_rows(con, source, EVENT_TABLES, ALL_DAYS.start, ALL_DAYS.end, datetime(2026, 1, 1))
    assert all(t.unaccounted == 0 for t in table_totals(con, list(TABLES.values())))
    return con


def staged(con: duckdb.DuckDBPyConnection, columns: str = "order_id, customer_id, quantity, unit_price") -> list:
    return con.sql(f"SELECT {columns} FROM staging.transactions ORDER BY _source_row").fetchall()


def read_error(folder: Path) -> str:
    with pytest.raises(SourceError) as raised:
        load(folder)
    return str(raised.value)


# --- encodings -------------------------------------------------------------------------------


def test_utf8_with_a_byte_order_mark_reads_the_first_column(tmp_path):
    folder = write_lines(tmp_path / "shop", [["O1", "Zoë", "2024-01-02 10:00:00", "P1", "1", "2.50", "café"]])
    path = folder / "transactions.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert staged(load(folder), "order_id, customer_id, category") == [("O1", "Zoë", "café")]


@pytest.mark.parametrize("encoding, category", [("latin-1", "café ½"), ("cp1252", "café € – ’")])
def test_latin1_and_windows_1252_text_is_read_right_and_named(tmp_path, encoding, category):
    folder = tmp_path / "shop"
    folder.mkdir()
    rows = [HEADER, ["O1", "Zoë", "2024-01-02 10:00:00", "P1", "1", "2.50", category]]
    (folder / "transactions.csv").write_bytes("".join(",".join(r) + "\n" for r in rows).encode(encoding))
    assert staged(load(folder), "customer_id, category") == [("Zoë", category)]
    assert FilesSource(folder).describe() == f"files in {folder} (transactions.csv read as windows-1252)"


def test_a_file_utf8_on_some_lines_only_is_an_error_naming_the_line(tmp_path):
    folder = write_lines(tmp_path / "shop", [["O1", "Zoë", "2024-01-02 10:00:00", "P1", "1", "2.50", "x"]])
    path = folder / "transactions.csv"
    path.write_bytes(path.read_bytes() + "O2,Zoë,2024-01-02 11:00:00,P1,1,2.50,x\n".encode("cp1252"))
    assert "transactions.csv: line 3: not UTF-8, though other lines are" in read_error(folder)


# --- layout ----------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", "\t"], ids=["semicolon", "tab"])
def test_other_delimiters_and_quoted_fields_holding_them(tmp_path, delimiter):
    quoted = f'"shoes{delimiter} boots\nand ""more"""'
    folder = write_lines(
        tmp_path / "shop",
        [
            ["O1", "C1", "2024-01-02 10:00:00", "P1", "2", "5", quoted],
            ["O2", "C1", "2024-01-02 11:00:00", "P2", "1", "3", "toys"],
        ],
        delimiter,
    )
    con = load(folder)
    assert staged(con, "order_id, category, _source_row") == [
        ("O1", f'shoes{delimiter} boots\nand "more"', 1),
        ("O2", "toys", 2),
    ]


def test_a_quote_left_open_is_an_error_naming_the_line(tmp_path):
    rows = [
        ["O1", "C1", "2024-01-02 10:00:00", "P1", "1", "2.50", "x"],
        ["O2", "C1", "2024-01-02", "P1", "1", "1", '"x'],
    ]
    folder = write_lines(tmp_path / "shop", rows + [["O3", "C1", "2024-01-02", "P1", "1", "1", "y"]])
    assert "transactions.csv: cannot be read: line 3: a quote opens a field that never ends" in read_error(folder)


def test_an_empty_file_is_an_error(tmp_path):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "transactions.csv").write_bytes(b"")
    assert "transactions.csv: empty file (0 bytes); a table needs at least its header row" in read_error(
        tmp_path / "shop"
    )


def test_a_header_alone_is_an_empty_table(tmp_path):
    con = load(write_lines(tmp_path / "shop", []))
    assert staged(con) == []
    assert con.sql("SELECT count(*) FROM staging.quarantine").fetchall() == [(0,)]


@pytest.mark.parametrize("second", ["quantity", " Quantity "])
def test_a_column_named_twice_is_an_error_naming_file_and_column(tmp_path, second):
    folder = write_lines(tmp_path / "shop", [["O1", "C1", "2024-01-02 10:00:00", "P1", "1", "2.50", "x", "3"]])
    path = folder / "transactions.csv"
    path.write_text(path.read_text().replace("category\n", f"category,{second}\n", 1))
    assert "transactions.csv: column quantity appears 2 times in the header" in read_error(folder)


def test_unknown_columns_are_ignored(tmp_path):
    folder = write_lines(tmp_path / "shop", [["O1", "C1", "2024-01-02 10:00:00", "P1", "1", "2.50", "x", "n"]])
    path = folder / "transactions.csv"
    path.write_text(path.read_text().replace("category\n", "category,notes\n", 1))
    assert staged(load(folder), "order_id") == [("O1",)]


# --- values ----------------------------------------------------------------------------------


def test_a_required_column_of_the_wrong_type_quarantines_every_row(tmp_path):
    rows = [[f"O{i}", "C1", "2024-01-02 10:00:00", "P1", word, "2.50", "x"] for i, word in enumerate(["one", "two"])]
    con = load(write_lines(tmp_path / "shop", rows))
    assert staged(con) == []
    assert quarantine_by_reason(con, TABLES["transactions"], ALL_DAYS) == {"unparseable_value:quantity": 2}


@pytest.mark.parametrize(
    "delimiter, prices, read",
    [
        (",", ['"1,234.50"', "12.50", '"12,50"', '"1,250"'], [1234.5, 12.5, None, 1250.0]),
        (";", ["1.234,50", "12,50", "12.50", "1.250"], [1234.5, 12.5, 12.5, 1250.0]),
    ],
    ids=["comma_file", "semicolon_file"],
)
def test_numbers_follow_the_files_decimal_mark_or_are_quarantined(tmp_path, delimiter, prices, read):
    rows = [[f"O{i}", "C1", "2024-01-02 10:00:00", "P1", "1", price, "x"] for i, price in enumerate(prices)]
    con = load(write_lines(tmp_path / "shop", rows, delimiter))
    assert [r[0] for r in staged(con, "unit_price")] == [p for p in read if p is not None]
    unread = read.count(None)
    assert quarantine_by_reason(con, TABLES["transactions"], ALL_DAYS) == (
        {"unparseable_value:unit_price": unread} if unread else {}
    )


@pytest.mark.parametrize("quantity, price", [("12.5", "1"), ("12,5", "1"), ("1", "nan"), ("1", "inf"), ("0x10", "1")])
def test_a_count_that_is_not_whole_or_an_amount_that_is_not_finite_is_quarantined(tmp_path, quantity, price):
    rows = [["O1", "C1", "2024-01-02 10:00:00", "P1", quantity, price, "x"]]
    con = load(write_lines(tmp_path / "shop", rows, ";"))
    field = "quantity" if price == "1" else "unit_price"
    assert quarantine_by_reason(con, TABLES["transactions"], ALL_DAYS) == {f"unparseable_value:{field}": 1}


@pytest.mark.parametrize(
    "stamps, read",
    [
        (
            ["2024-01-02 10:00:00", "2024-01-02T10:00", "2024-01-02 10:00:00+01:00", "2024-01-02T10:00:00Z"],
            ["2024-01-02 10:00:00", "2024-01-02 10:00:00", "2024-01-02 09:00:00", "2024-01-02 10:00:00"],
        ),
        (["01/13/2024 08:26", "01/02/2024 08:26:30"], ["2024-01-13 08:26:00", "2024-01-02 08:26:30"]),
        (["13/01/2024 08:26", "01/02/2024"], ["2024-01-13 08:26:00", "2024-02-01 00:00:00"]),
    ],
    ids=["iso_and_offsets", "month_first", "day_first"],
)
def test_timestamps_in_several_formats_are_read_in_utc(tmp_path, stamps, read):
    rows = [[f"O{i}", "C1", stamp, "P1", "1", "1", "x"] for i, stamp in enumerate(stamps)]
    con = load(write_lines(tmp_path / "shop", rows))
    got = con.sql("SELECT strftime(order_ts, '%Y-%m-%d %H:%M:%S') FROM staging.transactions ORDER BY _source_row")
    assert [r[0] for r in got.fetchall()] == [r for r in read if r < "2024-02-01"]


def test_timestamps_that_cannot_be_read_right_are_quarantined_with_a_reason(tmp_path):
    stamps = ["2024-01-02 10:00 Mars/Olympus", "01/02/2024 08:26", "yesterday"]
    rows = [[f"O{i}", "C1", stamp, "P1", "1", "1", "x"] for i, stamp in enumerate(stamps)]
    con = load(write_lines(tmp_path / "shop", rows))
    reasons = con.sql("SELECT reason, raw_values->>'order_ts' FROM staging.quarantine ORDER BY source_row").fetchall()
    assert reasons == [  # slash dates whose day is never above 12 do not tell their order
        ("unknown_time_zone", "2024-01-02 10:00 Mars/Olympus"),
        ("unparseable_value", "01/02/2024 08:26"),
        ("unparseable_value", "yesterday"),
    ]


# --- other formats ---------------------------------------------------------------------------


def test_an_excel_workbook_is_read_like_its_csv_export(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append([536365, 17850, datetime(2024, 1, 2, 8, 26), "85123A", 6, 2.55, "café"])
    sheet.append([None] * len(HEADER))
    sheet.append(["536366", "C2", datetime(2024, 1, 3), 22633, 2.0, 0.1, None])
    (tmp_path / "shop").mkdir()
    workbook.save(tmp_path / "shop" / "transactions.xlsx")
    con = load(tmp_path / "shop")
    assert staged(con, "order_id, customer_id, order_ts, product_id, quantity, unit_price, category") == [
        ("536365", "17850", datetime(2024, 1, 2, 8, 26), "85123A", 6, 2.55, "café"),
        ("536366", "C2", datetime(2024, 1, 3), "22633", 2, 0.1, None),
    ]


def test_an_excel_workbook_with_two_filled_sheets_is_an_error(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER)
    workbook.create_sheet("notes").append(["ask finance"])
    (tmp_path / "shop").mkdir()
    workbook.save(tmp_path / "shop" / "transactions.xlsx")
    assert "transactions.xlsx: 2 sheets with cells (Sheet, notes)" in read_error(tmp_path / "shop")


def test_a_truncated_gzip_file_is_an_error_naming_the_file(tmp_path):
    (tmp_path / "shop").mkdir()
    lines = ",".join(HEADER) + "\n" + "O1,C1,2024-01-02 10:00:00,P1,1,2.50,x\n" * 5000
    whole = gzip.compress(lines.encode())
    (tmp_path / "shop" / "transactions.csv.gz").write_bytes(whole[: len(whole) // 2])
    assert "transactions.csv.gz: truncated or corrupt gzip file" in read_error(tmp_path / "shop")


def write_parquet(folder: Path, columns: dict[str, pa.Array]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), folder / "transactions.parquet")
    return folder


PARQUET = {
    "order_id": pa.array(["O1", "O2"]),
    "customer_id": pa.array(["C1", "C1"]),
    "order_ts": pa.array([datetime(2024, 1, 2, 10, tzinfo=UTC), datetime(2024, 1, 2, 23, 30, tzinfo=UTC)]),
    "product_id": pa.array(["P1", "P2"]),
    "quantity": pa.array([2, 1]),
    "unit_price": pa.array([2.5, 3.0]),
}


def test_parquet_without_a_required_column_is_an_error_naming_file_and_column(tmp_path):
    folder = write_parquet(tmp_path / "shop", {k: v for k, v in PARQUET.items() if k != "unit_price"})
    assert "transactions.parquet: missing required column(s) unit_price for transactions" in read_error(folder)


def test_parquet_with_a_column_of_lists_is_an_error_naming_file_and_column(tmp_path):
    folder = write_parquet(tmp_path / "shop", {**PARQUET, "quantity": pa.array([[1], [2]])})
    assert "transactions.parquet: column quantity is BIGINT[]" in read_error(folder)


def test_parquet_values_of_other_types_are_read_or_quarantined(tmp_path):
    folder = write_parquet(tmp_path / "shop", {**PARQUET, "quantity": pa.array([2.0, 1.5])})
    con = load(folder)
    assert staged(con, "order_id, order_ts, quantity") == [("O1", datetime(2024, 1, 2, 10), 2)]
    assert quarantine_by_reason(con, TABLES["transactions"], ALL_DAYS) == {"unparseable_value:quantity": 1}
