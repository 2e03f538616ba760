"""Whatever happens to a shop's files (cells, lines or bytes corrupted, a file cut short), loading and
staging either refuse a file with a SourceError naming it, or account for every source row: each is
staged, quarantined, unplaced, or waits for a later partition."""

from __future__ import annotations

import gzip
import tempfile
from datetime import datetime
from pathlib import Path

from hypothesis import event, given, settings
from hypothesis import strategies as st

from segmentation_pipeline.domain.contract import EVENT_TABLES, TABLES
from segmentation_pipeline.sources.base import SourceError
from segmentation_pipeline.sources.files import FilesSource
from segmentation_pipeline.warehouse import connect, quarantine_unplaced_rows, table_totals
from segmentation_pipeline_tests.shop_files import ALL_DAYS, CUSTOMERS, RETURNS, TRANSACTIONS, build

SHOP = {"transactions.csv": TRANSACTIONS, "returns.csv": RETURNS, "customers.csv": CUSTOMERS}
NOW = datetime(2026, 1, 1)
# Cell values that break files in known ways, besides random text.
HOSTILE_CELLS = [
    *("", " ", ",", ";", "\t", '"', '""', '"a,b"', "\n", "\r\n", "é", "😀", "\ufeff"),
    *("NULL", "nan", "inf", "-1", "12.5", "1,234.50", "12,50", "C1", "O1"),
    *("2024-01-02T10:00:00+01:00", "2024-01-02 10:00 Mars/Olympus", "13/01/2024 08:26", "01/02/2024", "9999-99-99"),
]
cells = st.one_of(st.sampled_from(HOSTILE_CELLS), st.text(max_size=6))


@st.composite
def corruption(draw: st.DrawFn) -> tuple[str, str, int, bytes]:
    """One change to one file: which file, what kind, where (an index into its lines, fields or bytes, taken
    modulo their count) and what it writes."""
    name = draw(st.sampled_from(sorted(SHOP)))
    kind = draw(st.sampled_from(["cell", "drop_line", "copy_line", "insert_bytes", "replace_byte", "cut"]))
    at = draw(st.integers(min_value=0, max_value=10_000))
    payload = draw(cells).encode() if kind == "cell" else draw(st.binary(min_size=1, max_size=3))
    return name, kind, at, payload


def corrupt(data: bytes, kind: str, at: int, payload: bytes) -> bytes:
    """The file's bytes after one change."""
    lines = data.split(b"\n")
    line = at % len(lines)
    if kind == "cell":
        fields = lines[line].split(b",")
        fields[at % len(fields)] = payload
        lines[line] = b",".join(fields)
    elif kind == "drop_line":
        del lines[line]
    elif kind == "copy_line":
        lines.insert(line, lines[line])
    else:
        position = at % (len(data) + 1)
        tail = {"insert_bytes": payload + data[position:], "replace_byte": payload[:1] + data[position + 1 :]}
        return data[:position] + tail.get(kind, b"")
    return b"\n".join(lines)


def check_shop(folder: Path, broken: set[str]) -> None:
    con = connect()
    source = FilesSource(folder, folder.parent / "cache")
    try:
        build(con, source, [ALL_DAYS])
        summary = quarantine_unplaced_rows(con, source, EVENT_TABLES, ALL_DAYS.start, ALL_DAYS.end, NOW)
    except SourceError as error:
        assert any(f"{folder / name}:" in str(error) for name in broken), str(error)
        event("refused")
        return
    event("accounted for")
    for totals in table_totals(con, list(TABLES.values())):
        assert totals.unaccounted == 0, totals
        select = source.table_sql(con, TABLES[totals.table])
        source_rows = con.sql(f"SELECT count(*) FROM ({select})").fetchall()[0][0]
        assert source_rows == totals.raw + summary.get(f"{totals.table}:pending", 0), totals


@settings(max_examples=60, derandomize=True, deadline=None, database=None)
@given(changes=st.lists(corruption(), min_size=1, max_size=3), compress=st.booleans())
def test_broken_files_are_refused_by_name_or_every_row_is_accounted_for(changes, compress):
    files = {name: text.encode() for name, text in SHOP.items()}
    for name, kind, at, payload in changes:
        files[name] = corrupt(files[name], kind, at, payload)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "shop"
        folder.mkdir()
        for name, data in files.items():
            (folder / name).write_bytes(data)
        if compress:  # the transactions as gzip, cut short when the change cuts that file
            cut = [at for name, kind, at, _ in changes if name == "transactions.csv" and kind == "cut"]
            packed = gzip.compress(files["transactions.csv"])
            (folder / "transactions.csv").unlink()
            (folder / "transactions.csv.gz").write_bytes(packed[: 10 + cut[0] % len(packed)] if cut else packed)
        broken = {name for name, *_ in changes} | ({"transactions.csv.gz"} if compress else set())
        check_shop(folder, broken)
