"""Point-in-time customer snapshots on the hand-made shop."""

from datetime import date

import duckdb
import pandas as pd
import pytest

from segmentation_pipeline.domain.contract import ATTRIBUTION_DAYS
from segmentation_pipeline.domain.segments.snapshot import SNAPSHOT_COLUMNS
from segmentation_pipeline.sources.files import FilesSource
from segmentation_pipeline.sql import query
from segmentation_pipeline_tests.shop_files import ALL_DAYS, build, write_shop


def snapshot_frame(con: duckdb.DuckDBPyConnection, first: date, end: date) -> pd.DataFrame:
    frame = con.execute(
        query("segments/customer_snapshot"), {"start": first, "end": end, "attribution_days": ATTRIBUTION_DAYS}
    ).df()
    return frame.sort_values(["as_of_day", "customer_id"], ignore_index=True)


def snapshot(con: duckdb.DuckDBPyConnection, first: date, end: date) -> list[dict]:
    return snapshot_frame(con, first, end).to_dict("records")


@pytest.fixture
def shop_warehouse(tmp_path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    build(con, FilesSource(write_shop(tmp_path / "shop")), [ALL_DAYS])
    return con


def test_snapshot_columns_are_the_documented_ones(shop_warehouse):
    rows = snapshot(shop_warehouse, date(2024, 1, 3), date(2024, 1, 4))
    assert list(rows[0]) == list(SNAPSHOT_COLUMNS)


def test_snapshot_values_match_a_hand_computation(shop_warehouse):
    c1 = next(r for r in snapshot(shop_warehouse, date(2024, 1, 3), date(2024, 1, 4)) if r["customer_id"] == "C1")
    # order O1 on 2024-01-02 10:00: 1 x 10.00 shoes + 2 x 5.00 books with 1.00 off; R1 refunds 10.00 on 01-03
    assert c1["frequency"] == 1
    assert c1["monetary_gross"] == 20.0
    assert c1["monetary_net"] == 9.0
    assert c1["avg_order_value"] == 19.0
    assert c1["recency_days"] == pytest.approx(38 / 24)  # 01-02 10:00 to the end of 01-03
    assert c1["tenure_days"] == pytest.approx(34.0)  # signup 2023-12-01
    assert c1["return_rate_units"] == pytest.approx(1 / 3)
    assert c1["n_returns"] == 1
    assert c1["category_breadth"] == 2
    assert c1["mean_days_between_orders"] != c1["mean_days_between_orders"]  # NaN: a single order


def test_events_on_or_after_the_snapshot_day_end_do_not_change_it(shop_warehouse):
    before = snapshot_frame(shop_warehouse, date(2024, 1, 3), date(2024, 1, 4))
    shop_warehouse.execute(
        "INSERT INTO staging.transactions SELECT * REPLACE (order_id || '-late' AS order_id, "
        "order_ts + INTERVAL 2 DAY AS order_ts) FROM staging.transactions"
    ).fetchall()
    shop_warehouse.execute(
        "INSERT INTO staging.returns SELECT * REPLACE (return_id || '-late' AS return_id, "
        "TIMESTAMP '2024-01-04 00:00:00' AS return_ts) FROM staging.returns"
    ).fetchall()
    pd.testing.assert_frame_equal(snapshot_frame(shop_warehouse, date(2024, 1, 3), date(2024, 1, 4)), before)
    after = snapshot(shop_warehouse, date(2024, 1, 4), date(2024, 1, 5))
    assert next(r for r in after if r["customer_id"] == "C1")["n_returns"] == 2  # R1 and its late copy


def test_a_range_of_days_equals_the_days_one_by_one(shop_warehouse):
    by_range = snapshot_frame(shop_warehouse, date(2024, 1, 1), date(2024, 1, 8))
    by_day = pd.concat(
        [snapshot_frame(shop_warehouse, date(2024, 1, d), date(2024, 1, d + 1)) for d in range(1, 8)],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(by_range, by_day, check_dtype=False)  # day 1 is empty, typed object
    assert set(by_range["as_of_day"].dt.date) == {date(2024, 1, d) for d in range(2, 8)}
