"""Point-in-time customer snapshots on the hand-made shop."""

from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from segmentation_pipeline.domain.contract import ATTRIBUTION_DAYS
from segmentation_pipeline.domain.segments.snapshot import SNAPSHOT_COLUMNS
from segmentation_pipeline.sources.files import FilesSource
from segmentation_pipeline.sql import catalog, query
from segmentation_pipeline.warehouse import Window, connect, replace_days
from segmentation_pipeline_tests.shop_files import ALL_DAYS, build, write_shop


def build_history(con: duckdb.DuckDBPyConnection, windows: list[Window]) -> None:
    for window in windows:
        replace_days(
            con,
            catalog.CUSTOMER_HISTORY,
            window,
            query("segments/customer_history"),
            {"attribution_days": ATTRIBUTION_DAYS},
        )


def snapshot_frame(con: duckdb.DuckDBPyConnection, first: date, end: date) -> pd.DataFrame:
    """The snapshots of the days in [first, end), from the history of every day up to them."""
    build_history(con, [Window(ALL_DAYS.start, end)])
    days = [first + timedelta(days=d) for d in range((end - first).days)]
    frame = pd.concat([con.execute("FROM snapshot_on($day)", {"day": day}).df() for day in days], ignore_index=True)
    return frame.sort_values(["as_of_day", "customer_id"], ignore_index=True)


def snapshot(con: duckdb.DuckDBPyConnection, first: date, end: date) -> list[dict]:
    return snapshot_frame(con, first, end).to_dict("records")


@pytest.fixture
def shop_warehouse(tmp_path) -> duckdb.DuckDBPyConnection:
    con = connect()
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


def test_a_range_of_days_equals_the_days_one_by_one(shop_warehouse, tmp_path):
    history = f"SELECT * FROM {catalog.CUSTOMER_HISTORY} ORDER BY ALL"
    build_history(shop_warehouse, [Window(date(2024, 1, 1), date(2024, 1, 8))])
    by_range = shop_warehouse.sql(history).fetchall()
    day_by_day = connect()
    build(day_by_day, FilesSource(write_shop(tmp_path / "again")), [ALL_DAYS])
    build_history(day_by_day, [Window(date(2024, 1, d), date(2024, 1, d + 1)) for d in range(1, 8)])
    assert day_by_day.sql(history).fetchall() == by_range
    assert by_range and {row[0] for row in by_range} <= {date(2024, 1, d) for d in range(2, 8)}


def test_the_history_holds_a_row_only_on_days_a_customer_changed(shop_warehouse):
    build_history(shop_warehouse, [ALL_DAYS])
    rows = shop_warehouse.sql(f"SELECT customer_id, as_of_day FROM {catalog.CUSTOMER_HISTORY}").fetchall()
    active = shop_warehouse.sql(
        "SELECT customer_id, day FROM (SELECT customer_id, CAST(order_ts AS DATE) AS day FROM staging.transactions "
        "UNION SELECT customer_id, CAST(return_ts AS DATE) FROM staging.returns "
        "UNION SELECT customer_id, CAST(interaction_ts AS DATE) FROM staging.service_interactions) "
        "WHERE day >= (SELECT min(CAST(order_ts AS DATE)) FROM staging.transactions t WHERE t.customer_id = customer_id)"
    ).fetchall()
    assert len(rows) == len(set(rows)) and set(rows) <= set(active)
    days = (ALL_DAYS.end - ALL_DAYS.start).days
    customers = shop_warehouse.sql("SELECT count(*) FROM snapshot_on(DATE '2024-01-31')").fetchall()[0][0]
    assert 0 < len(rows) < customers * days / 4  # a full copy a day would be customers x days


def test_repeat_purchases_are_counted_per_day(shop_warehouse):
    # two more orders of C1 like O1 (19.00 after discounts), both on 2024-01-05: one more purchase day
    shop_warehouse.execute(
        "INSERT INTO staging.transactions SELECT t.* REPLACE (order_id || suffix AS order_id, "
        "TIMESTAMP '2024-01-05 08:00:00' + INTERVAL (hours) HOUR AS order_ts) "
        "FROM staging.transactions AS t, (VALUES ('-b', 0), ('-c', 5)) AS more(suffix, hours) "
        "WHERE customer_id = 'C1'"
    ).fetchall()
    days = {
        str(r["as_of_day"])[:10]: r
        for r in snapshot(shop_warehouse, date(2024, 1, 4), date(2024, 1, 6))
        if r["customer_id"] == "C1"
    }
    assert (days["2024-01-04"]["purchase_days"], days["2024-01-04"]["repeat_spend"]) == (1, 0.0)
    assert days["2024-01-05"]["frequency"] == 3
    assert (days["2024-01-05"]["purchase_days"], days["2024-01-05"]["repeat_spend"]) == (2, 38.0)
