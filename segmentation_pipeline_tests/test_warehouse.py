"""Raw loading, staging and quarantine on a hand-made shop, without Dagster."""

from datetime import date, datetime

import duckdb
import pytest

from segmentation_pipeline.domain.contract import EVENT_TABLES, TABLES
from segmentation_pipeline.sources.base import SourceError
from segmentation_pipeline.sources.files import FilesSource
from segmentation_pipeline.warehouse import (
    Window,
    connect,
    load_raw_window,
    quarantine_by_reason,
    quarantine_unplaced_rows,
    reconcile,
)
from segmentation_pipeline_tests.shop_files import (
    ALL_DAYS,
    EXPECTED_QUARANTINE,
    EXPECTED_STAGED,
    EXPECTED_UNPLACED,
    ORDER,
    build,
    write_shop,
)


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    tables = [f"staging.{n}" for n in ORDER] + [f"raw.{n}" for n in ORDER] + ["staging.quarantine"]
    return {t: con.sql(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}


@pytest.fixture(params=[False, True], ids=["csv", "csv.gz"])
def shop(tmp_path, request) -> FilesSource:
    return FilesSource(write_shop(tmp_path / "shop", gzip_transactions=request.param))


def test_every_rule_sends_its_row_to_quarantine(shop):
    con = connect()
    build(con, shop, [ALL_DAYS])
    for name, expected in EXPECTED_QUARANTINE.items():
        assert quarantine_by_reason(con, TABLES[name], ALL_DAYS) == expected, name
        counts = reconcile(con, TABLES[name], ALL_DAYS)
        assert counts.staged == EXPECTED_STAGED[name], name
        assert counts.balanced, counts


def test_quarantine_keeps_original_values_and_source_row(shop):
    con = connect()
    build(con, shop, [ALL_DAYS])
    source_row, raw_values = con.sql(
        "SELECT source_row, raw_values->>'quantity' FROM staging.quarantine WHERE field = 'quantity' "
        "AND reason = 'unparseable_value'"
    ).fetchall()[0]
    assert (source_row, raw_values) == (8, "lots")


def test_staging_types_and_matches_returns(shop):
    con = connect()
    build(con, shop, [ALL_DAYS])
    lines = con.sql("SELECT order_id, line_no, net_amount FROM staging.transactions ORDER BY ALL").fetchall()
    assert lines == [("O1", 1, 10.0), ("O1", 2, 9.0), ("O2", 1, 12.0)]
    returns = con.sql("SELECT return_id, order_id, matched_by FROM staging.returns ORDER BY 1").fetchall()
    assert returns == [("R1", "O1", "latest_purchase"), ("R2", "O2", "order_id")]


def test_rows_without_an_event_day_are_quarantined_once(shop):
    con = connect()
    for _ in range(2):
        summary = quarantine_unplaced_rows(
            con, shop, EVENT_TABLES, date(2024, 1, 1), date(2024, 2, 1), datetime(2026, 1, 1)
        )
    assert summary == EXPECTED_UNPLACED
    assert con.sql("SELECT count(*) FROM staging.quarantine WHERE partition_date IS NULL").fetchall() == [(2,)]


def test_rerunning_a_window_replaces_it(shop):
    con = connect()
    build(con, shop, [ALL_DAYS])
    first = snapshot(con)
    build(con, shop, [ALL_DAYS])
    assert snapshot(con) == first


def test_backfill_of_a_range_equals_day_by_day(shop):
    by_range, by_day = connect(), connect()
    build(by_range, shop, [ALL_DAYS])
    days = [Window(date(2024, 1, d), date(2024, 1, d + 1)) for d in range(1, 31)]
    build(by_day, shop, days)
    assert snapshot(by_day) == snapshot(by_range)


def test_missing_required_column_names_file_and_column(tmp_path):
    folder = write_shop(tmp_path / "shop")
    text = (folder / "transactions.csv").read_text().replace("unit_price", "price")
    (folder / "transactions.csv").write_text(text)
    with pytest.raises(SourceError, match=r"transactions\.csv: missing required column\(s\) unit_price"):
        load_raw_window(connect(), FilesSource(folder), TABLES["transactions"], ALL_DAYS)


def test_parquet_and_csv_give_the_same_staging(tmp_path):
    csv_folder, parquet_folder = write_shop(tmp_path / "csv"), write_shop(tmp_path / "parquet")
    con = connect()
    for folder in (csv_folder, parquet_folder):  # parquet has no notion of a surplus field
        lines = (folder / "transactions.csv").read_text().splitlines(keepends=True)
        (folder / "transactions.csv").write_text("".join(line for line in lines if "surplus" not in line))
    for name in ("transactions", "returns", "customers"):
        csv = parquet_folder / f"{name}.csv"
        con.execute(
            f"COPY (SELECT * FROM read_csv('{csv}', all_varchar = true)) "
            f"TO '{parquet_folder / name}.parquet' (FORMAT parquet)"
        ).fetchall()
        csv.unlink()
    from_parquet, from_csv = connect(), connect()
    build(from_parquet, FilesSource(parquet_folder), [ALL_DAYS])
    build(from_csv, FilesSource(csv_folder), [ALL_DAYS])
    staged = [f"staging.{n}" for n in ORDER]
    project = "* EXCLUDE (_source_file)"
    assert from_csv.sql("SELECT count(*) FROM staging.transactions").fetchall() == [(3,)]
    assert [from_parquet.sql(f"SELECT {project} FROM {t} ORDER BY ALL").fetchall() for t in staged] == [
        from_csv.sql(f"SELECT {project} FROM {t} ORDER BY ALL").fetchall() for t in staged
    ]


def test_missing_transactions_file_is_a_clear_error(tmp_path):
    with pytest.raises(SourceError, match="no transactions.csv"):
        FilesSource(tmp_path).prepare()
