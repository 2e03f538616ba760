"""The Online Retail reader: column spellings, cancellations, adjustments and the real file."""

from datetime import date

import duckdb
import pytest

from segmentation_pipeline.domain.contract import TABLES
from segmentation_pipeline.sources.base import SourceError
from segmentation_pipeline.sources.online_retail import OnlineRetailSource
from segmentation_pipeline.warehouse import (
    Window,
    connect,
    load_raw_window,
    quarantine_by_reason,
    reconcile,
    stage_window,
)

HEADER_I = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
HEADER_II = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country"
LINES = """536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom
536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom
536365,POST,POSTAGE,1,2010-12-01 08:26:00,18.00,17850,United Kingdom
536366,22633,HAND WARMER,6,2010-12-01 08:28:00,1.85,,United Kingdom
536367,21730,LANTERN,-12,2010-12-01 09:00:00,0,,United Kingdom
A563185,B,Adjust bad debt,1,2010-12-02 14:50:00,11062.06,,United Kingdom
C536379,85123A,WHITE HANGING HEART,-2,2010-12-02 09:41:00,2.55,17850,United Kingdom
C536380,22632,HAND WARMER RED,-1,2010-12-02 09:45:00,1.85,17850,United Kingdom
C536381,D,Discount,-1,2010-12-02 09:50:00,27.50,17850,United Kingdom
536368,gift_0001_20,Gift Voucher,1,2010-12-02 10:00:00,20.00,17850,United Kingdom
"""
WINDOW = Window(date(2010, 12, 1), date(2010, 12, 3))


def stage_all(con: duckdb.DuckDBPyConnection, source: OnlineRetailSource, window: Window) -> None:
    for name in ("customers", "transactions", "returns"):
        load_raw_window(con, source, TABLES[name], window)
        stage_window(con, TABLES[name], window)


@pytest.mark.parametrize("header", [HEADER_I, HEADER_II], ids=["online_retail", "online_retail_ii"])
def test_both_spellings_follow_the_documented_rules(tmp_path, header):
    path = tmp_path / "retail.csv"
    path.write_text(header + "\n" + LINES)
    con = connect()
    stage_all(con, OnlineRetailSource(path), WINDOW)
    assert con.sql("SELECT order_id, product_id, quantity FROM staging.transactions ORDER BY ALL").fetchall() == [
        ("536365", "71053", 6),
        ("536365", "85123A", 6),
    ]
    assert quarantine_by_reason(con, TABLES["transactions"], WINDOW) == {
        "non_product_line": 2,
        "missing_value:customer_id": 1,
        "stock_adjustment": 1,
        "bad_debt_adjustment": 1,
    }
    returns = con.sql("SELECT product_id, quantity, order_id, refund_amount FROM staging.returns").fetchall()
    assert returns == [("85123A", 2, "536365", 5.1)]
    assert quarantine_by_reason(con, TABLES["returns"], WINDOW) == {
        "unmatched_return:order_id": 1,
        "non_product_line": 1,
    }
    assert con.sql("SELECT customer_id, country FROM staging.customers").fetchall() == [("17850", "United Kingdom")]


def test_unknown_layout_names_the_missing_column(tmp_path):
    path = tmp_path / "retail.csv"
    path.write_text(HEADER_I.replace("UnitPrice", "Cost") + "\n" + LINES)
    with pytest.raises(SourceError, match="no column UnitPrice or Price"):
        OnlineRetailSource(path).table_sql(duckdb.connect(), TABLES["transactions"])


@pytest.mark.slow
def test_real_file_keeps_every_line(online_retail_file):
    """Every line of the UCI file is staged or quarantined; lines without a customer are all quarantined."""
    con = connect()
    window = Window(date(2010, 12, 1), date(2011, 12, 10))
    stage_all(con, OnlineRetailSource(online_retail_file), window)
    raw_total = sum(reconcile(con, TABLES[n], window).raw for n in ("transactions", "returns"))
    assert raw_total == 541_909
    for name in ("transactions", "returns"):
        assert reconcile(con, TABLES[name], window).balanced
    no_customer = con.sql(
        "SELECT count(*) FROM staging.quarantine WHERE NULLIF(raw_values->>'customer_id', '') IS NULL"
    ).fetchall()[0][0]
    assert no_customer == 135_080
    assert con.sql("SELECT count(*) FROM staging.transactions WHERE customer_id IS NULL").fetchall() == [(0,)]
    assert con.sql("SELECT count(DISTINCT customer_id) FROM staging.customers").fetchall() == [(4_372,)]
