"""Raw loading, staging and quarantine on a hand-made shop, without Dagster."""

from datetime import date, datetime

import duckdb
import pytest

from segmentation_pipeline.defs.resources import Warehouse
from segmentation_pipeline.domain.contract import EVENT_TABLES, TABLES
from segmentation_pipeline.sources.base import SourceError
from segmentation_pipeline.sources.files import FilesSource
from segmentation_pipeline.warehouse import (
    OutdatedWarehouse,
    Window,
    connect,
    load_raw_window,
    quarantine_by_reason,
    quarantine_unplaced_rows,
    reconcile,
    table_totals,
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


def test_table_totals_count_every_source_row_once(shop):
    con = connect()
    build(con, shop, [ALL_DAYS])
    quarantine_unplaced_rows(con, shop, EVENT_TABLES, date(2024, 1, 1), date(2024, 2, 1), datetime(2026, 1, 1))

    totals = {t.table: t for t in table_totals(con, list(TABLES.values()))}

    transactions = totals["transactions"]
    source_rows = con.sql(f"SELECT count(*) FROM ({shop.table_sql(con, TABLES['transactions'])})").fetchall()[0][0]
    assert transactions.raw == source_rows
    assert transactions.staged == EXPECTED_STAGED["transactions"]
    assert transactions.quarantined == sum(EXPECTED_QUARANTINE["transactions"].values())
    assert transactions.unplaced == sum(EXPECTED_UNPLACED.values())
    assert all(t.unaccounted == 0 for t in totals.values())
    assert totals["customers"].unplaced == 0


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


def test_customer_labels_of_a_files_source_are_read_by_header_name(tmp_path):
    con = connect()
    assert FilesSource(tmp_path).customer_labels_sql(con) is None  # no labels file: no ground truth
    (tmp_path / "customer_labels.csv").write_text(" Label ,Customer_ID\nvip,C1\n,C2\nbargain,C3\n")
    labels = con.sql(FilesSource(tmp_path).customer_labels_sql(con) + " ORDER BY customer_id").fetchall()
    assert labels == [("C1", "vip"), ("C3", "bargain")]  # a customer without a label is not compared


def test_customer_labels_without_a_label_column_name_the_file(tmp_path):
    (tmp_path / "customer_labels.csv").write_text("customer_id,type\nC1,vip\n")
    with pytest.raises(SourceError, match=r"customer_labels\.csv: missing column\(s\) label for customer labels"):
        FilesSource(tmp_path).customer_labels_sql(connect())


def test_a_warehouse_from_an_earlier_version_is_named_with_what_to_do(tmp_path):
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA features; CREATE TABLE features.customer_history (as_of_day DATE)")
    with pytest.raises(OutdatedWarehouse, match=f"(?s){path}: built by an earlier version.*delete the warehouse file"):
        connect(path)


def test_work_beyond_the_memory_limit_fails_naming_the_setting_to_raise(tmp_path):
    config = {"memory_limit": "30MB", "temp_directory": str(tmp_path / "spill")}
    small = Warehouse(database=str(tmp_path / "small.duckdb"), connection_config=config)
    expected = r"memory limit \(30MB\).*raise SEGMENTATION_DUCKDB_MEMORY_LIMIT"
    with pytest.raises(MemoryError, match=expected), small.get_connection() as con:
        con.sql("SELECT list(i) FROM range(20000000) AS t(i)").fetchall()  # one value that cannot spill
