"""A small hand-made shop in contract files, with one row for each quarantine rule."""

from datetime import date
from pathlib import Path

import duckdb

from segmentation_pipeline.domain.contract import TABLES
from segmentation_pipeline.sources.files import FilesSource
from segmentation_pipeline.warehouse import Window, load_raw_window, stage_window

TRANSACTIONS = """order_id,customer_id,order_ts,product_id,quantity,unit_price,category,discount,channel,country
O1,C1,2024-01-02 10:00:00,P1,1,10.00,shoes,0,web,DE
O1,C1,2024-01-02 10:00:00,P2,2,5.00,books,1.00,web,DE
O1,C1,2024-01-02 10:00:00,P2,2,5.00,books,1.00,web,DE
O2,C2,2024-01-02 12:30:00,P1,1,12.00,shoes,0,app,FR
O3,,2024-01-03 09:00:00,P1,1,10.00,shoes,0,web,DE
O4,C1,2024-01-03 11:00:00,P3,0,10.00,home,0,web,DE
O5,C2,2024-01-03 11:00:00,P3,1,-2.00,home,0,web,DE
O6,C2,2024-01-03 13:00:00,P3,lots,2.00,home,0,web,DE
O7,C9,2024-01-04 08:00:00,P1,1,10.00,shoes,0,web,DE
O8,C2,2024-01-04 09:00:00,P3,1,20.00,home,25.00,web,DE
O9,C1,not a date,P1,1,10.00,shoes,0,web,DE
O10,C1,2030-01-01 00:00:00,P1,1,10.00,shoes,0,web,DE
O11,C2,2024-01-04 10:00:00,P4,1,3.50,toys,0,web,DE,surplus
"""

RETURNS = """return_id,customer_id,product_id,return_ts,quantity,order_id,refund_amount,reason
R1,C1,P1,2024-01-03 15:00:00,1,,10.00,size
R2,C2,P1,2024-01-04 10:00:00,1,O2,12.00,damaged
R3,C2,P2,2024-01-04 10:00:00,1,,5.00,size
R4,C1,P1,2024-01-02 09:00:00,1,,10.00,size
"""

CUSTOMERS = """customer_id,signup_ts,birth_year,gender,country,acquisition_channel
C1,2023-12-01,1980,f,DE,search
C2,2023-12-15,1990,m,FR,social
C2,2023-12-16,1991,m,FR,social
"""

# Expected outcome per table: staged rows and quarantined rows by reason.
EXPECTED_STAGED = {"transactions": 3, "returns": 2, "customers": 2}
EXPECTED_QUARANTINE = {
    "transactions": {
        "exact_duplicate": 1,
        "missing_value:customer_id": 1,
        "non_positive_quantity:quantity": 1,
        "negative_price:unit_price": 1,
        "unparseable_value:quantity": 1,
        "unknown_customer:customer_id": 1,
        "out_of_range:discount": 1,
        "malformed_row": 1,
    },
    "returns": {"unmatched_return:order_id": 2},
    "customers": {"duplicate_key:customer_id": 1},
}
# Rows that belong to no event day, quarantined by `unplaced_raw_rows`.
EXPECTED_UNPLACED = {"transactions:unparseable_value": 1, "transactions:future_timestamp": 1}


def write_shop(folder: Path, gzip_transactions: bool = False) -> Path:
    import gzip

    folder.mkdir(parents=True, exist_ok=True)
    if gzip_transactions:
        with gzip.open(folder / "transactions.csv.gz", "wt") as handle:
            handle.write(TRANSACTIONS)
    else:
        (folder / "transactions.csv").write_text(TRANSACTIONS)
    (folder / "returns.csv").write_text(RETURNS)
    (folder / "customers.csv").write_text(CUSTOMERS)
    return folder


ALL_DAYS = Window(date(2024, 1, 1), date(2024, 2, 1))
ORDER = ["customers", "transactions", "returns", "campaign_exposures", "service_interactions"]


def build(con: duckdb.DuckDBPyConnection, source: FilesSource, windows: list[Window]) -> None:
    """Load and stage every table, one window after another, like a day-by-day schedule."""
    for name in ORDER:
        for window in windows if TABLES[name].partitioned else windows[:1]:
            load_raw_window(con, source, TABLES[name], window)
            stage_window(con, TABLES[name], window)
