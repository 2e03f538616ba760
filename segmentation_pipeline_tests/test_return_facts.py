"""Order-line facts and return labels on a hand-made shop, without Dagster."""

from datetime import date, datetime

import duckdb
import pandas as pd
import pytest

from segmentation_pipeline.defs.returns.line_facts import LINE_FACTS_COLUMNS
from segmentation_pipeline.domain.returns.features import FACT_COLUMNS, RETURN_WINDOW_DAYS, build_features
from segmentation_pipeline.sources.files import FilesSource
from segmentation_pipeline.sql import query
from segmentation_pipeline.warehouse import Window, connect, record_refresh, run_in_transaction
from segmentation_pipeline_tests.scoring_state import facts_and_state_of_new_lines
from segmentation_pipeline_tests.shop_files import ALL_DAYS, build

TRANSACTIONS = """order_id,customer_id,order_ts,product_id,quantity,unit_price,category,discount,channel,country
O1,A,2024-01-02 10:00:00,P1,2,10.00,shoes,0,web,DE
O1,A,2024-01-02 10:00:00,P2,1,20.00,shoes,0,web,DE
O2,B,2024-01-03 09:00:00,P1,1,12.00,shoes,0,app,FR
O3,A,2024-01-05 12:00:00,P1,1,11.00,shoes,2.00,web,DE
O3,A,2024-01-05 12:00:00,P1,2,11.00,shoes,0,web,DE
O3,A,2024-01-05 12:00:00,P3,1,5.00,,0,,
O4,B,2024-01-05 12:00:00,P1,1,12.00,shoes,0,app,FR
O5,B,2024-01-06 10:00:00,P2,1,20.00,shoes,0,app,FR
O5,B,2024-01-06 10:01:00,P3,1,5.00,,0,app,FR
"""

RETURNS = """return_id,customer_id,product_id,return_ts,quantity
R1,A,P1,2024-01-03 15:00:00,1
R2,A,P2,2024-01-04 08:00:00,2
R3,B,P1,2024-01-05 12:00:00,1
"""

CUSTOMERS = """customer_id,signup_ts
A,2023-12-01 00:00:00
B,
C,2024-01-06 00:00:00
"""

SERVICE_INTERACTIONS = """interaction_id,customer_id,interaction_ts
S1,A,2024-01-04 09:00:00
S2,A,2024-01-06 09:00:00
"""

# segment history rows: each holds from its day until the customer's next row
SEGMENTS = [("2024-01-04", "A", 1, "VIP"), ("2024-01-05", "A", 2, "Dormant"), ("2024-01-06", "B", 3, "New")]
ORDER_DAY = Window(date(2024, 1, 5), date(2024, 1, 6))


def facts(con: duckdb.DuckDBPyConnection, window: Window) -> pd.DataFrame:
    frame = con.execute(query("returns/line_facts"), window.params).df()
    return frame.sort_values(["order_id", "line_no"], ignore_index=True)


@pytest.fixture
def shop(tmp_path) -> duckdb.DuckDBPyConnection:
    folder = tmp_path / "shop"
    folder.mkdir()
    for name, text in [
        ("transactions", TRANSACTIONS),
        ("returns", RETURNS),
        ("customers", CUSTOMERS),
        ("service_interactions", SERVICE_INTERACTIONS),
    ]:
        (folder / f"{name}.csv").write_text(text)
    con = connect()
    build(con, FilesSource(folder), [ALL_DAYS])
    con.executemany("INSERT INTO segments.segment_history VALUES (?, ?, ?, ?)", SEGMENTS)
    record_refresh(con, "customer_segments", Window(date(2024, 1, 1), date(2024, 1, 7)))  # segmented up to 01-06
    return con


def test_facts_have_the_contract_columns_and_build_features(shop):
    frame = facts(shop, ORDER_DAY)
    assert list(frame.columns) == list(LINE_FACTS_COLUMNS) == [*FACT_COLUMNS, "as_of_day"]
    assert build_features(frame).notna().all().all()


def test_facts_match_a_hand_computation(shop):
    lines = {(r["order_id"], r["line_no"]): r for r in facts(shop, ORDER_DAY).to_dict("records")}
    assert set(lines) == {("O3", 1), ("O3", 2), ("O3", 3), ("O4", 1)}
    first = lines["O3", 1]
    expected = {
        "customer_id": "A",
        "product_id": "P1",
        "quantity": 1,
        "unit_price": 11.0,
        "discount": 2.0,
        "category": "shoes",
        "channel": "web",
        "country": "DE",
        "basket_lines": 3,
        "basket_units": 4,
        "basket_value": 38.0,  # 11 + 2 x 11 + 5
        "same_product_lines": 2,
        "same_category_lines": 2,  # P3 has no category
        "customer_prior_orders": 1,  # O1
        "customer_prior_units": 3,
        "customer_prior_returned_units": 3,  # R1 (1 unit), R2 (2 units)
        "customer_prior_lines": 2,  # the two lines of O1
        "customer_prior_returns": 2,  # R1, R2
        "customer_tenure_days": 35.5,  # signup 2023-12-01 00:00
        "customer_days_since_last_order": 3 + 2 / 24,  # O1 on 01-02 10:00
        "customer_prior_contacts": 1,  # S1; S2 is later
        "customer_segment": "VIP",  # the day before; 'Dormant' on the order day is not known yet
        "product_prior_units": 3,  # O1 and O2; O4 at the same moment is not before
        "product_prior_returned_units": 1,  # R1; R3 at the order's moment is not before
        "product_prior_lines": 2,  # O1 and O2
        "product_prior_returns": 1,  # R1
        "product_usual_price": 11.0,  # mean of 10 and 12
        "category_prior_units": 4,
        "category_prior_returned_units": 3,  # R1 (P1) and R2 (P2) are shoes
        "shop_prior_units": 4,
        "shop_prior_returned_units": 3,
        "shop_prior_lines": 3,  # O1 and O2
        "shop_prior_returns": 2,  # R1, R2; R3 at the order's moment is not before
    }
    assert {k: first[k] for k in expected} == pytest.approx(expected)
    assert (first["order_ts"], first["as_of_day"]) == (pd.Timestamp("2024-01-05 12:00"), pd.Timestamp("2024-01-05"))
    uncategorised = lines["O3", 3]
    assert (uncategorised["category"], uncategorised["channel"], uncategorised["country"]) == ("unknown",) * 3
    assert (uncategorised["product_prior_units"], uncategorised["category_prior_units"]) == (0, 0)
    assert pd.isna(uncategorised["product_usual_price"])
    second_order_of_b = lines["O4", 1]
    assert second_order_of_b["customer_tenure_days"] == pytest.approx(2 + 3 / 24)  # no signup: from O2
    assert second_order_of_b["customer_segment"] == "none"
    assert (second_order_of_b["customer_prior_lines"], second_order_of_b["customer_prior_returns"]) == (1, 0)
    assert (second_order_of_b["product_prior_lines"], second_order_of_b["product_prior_returns"]) == (2, 1)


def test_a_first_order_has_no_history(shop):
    [first] = facts(shop, Window(date(2024, 1, 3), date(2024, 1, 4))).to_dict("records")
    assert first["order_id"] == "O2"
    assert (first["customer_prior_orders"], first["customer_prior_units"], first["customer_tenure_days"]) == (0, 0, 0)
    assert pd.isna(first["customer_days_since_last_order"])
    assert (first["product_prior_units"], first["product_prior_returned_units"]) == (2, 0)  # R1 comes later
    assert (first["customer_prior_lines"], first["customer_prior_returns"]) == (0, 0)
    assert (first["product_prior_lines"], first["product_prior_returns"]) == (1, 0)
    assert (first["shop_prior_lines"], first["shop_prior_returns"]) == (2, 0)


def test_a_range_of_days_equals_the_days_one_by_one(shop):
    by_range = facts(shop, ALL_DAYS)
    by_day = pd.concat([facts(shop, Window(date(2024, 1, d), date(2024, 1, d + 1))) for d in range(1, 8)])
    by_day = by_day.sort_values(["order_id", "line_no"], ignore_index=True)
    pd.testing.assert_frame_equal(by_range, by_day, check_dtype=False)  # empty days are typed object
    assert len(by_range) == 9


def test_an_order_spread_over_two_moments_is_one_basket_placed_at_its_first_line(shop):
    lines = facts(shop, Window(date(2024, 1, 6), date(2024, 1, 7)))
    assert list(lines["order_ts"]) == [pd.Timestamp("2024-01-06 10:00")] * 2
    assert list(lines["basket_lines"]) == [2, 2]
    assert list(lines["customer_prior_orders"]) == [2, 2]  # O2 and O4; the first line is not history
    assert list(lines["product_prior_units"]) == [1, 1]  # P2 in O1, P3 in O3
    assert list(lines["customer_prior_lines"]) == [2, 2]
    assert list(lines["product_prior_lines"]) == [1, 1]


LATER_EVENTS = [  # at or after O3's moment (2024-01-05 12:00): none may change O3's facts
    (
        "INSERT INTO staging.transactions SELECT * REPLACE ('O9' AS order_id, TIMESTAMP '2024-01-05 12:00:01' AS order_ts) "
        "FROM staging.transactions WHERE order_id = 'O1'"
    ),
    (
        "INSERT INTO staging.transactions SELECT * REPLACE ('O8' AS order_id, TIMESTAMP '2024-01-05 12:00:00' AS order_ts) "
        "FROM staging.transactions WHERE order_id = 'O1'"
    ),  # another order of A at O3's moment
    (
        "INSERT INTO staging.returns SELECT * REPLACE ('R9' AS return_id, TIMESTAMP '2024-01-05 12:00:00' AS return_ts) "
        "FROM staging.returns WHERE return_id = 'R1'"
    ),
    (
        "INSERT INTO staging.service_interactions SELECT * REPLACE ('S9' AS interaction_id, "
        "TIMESTAMP '2024-01-05 12:00:00' AS interaction_ts) FROM staging.service_interactions WHERE interaction_id = 'S1'"
    ),
    "UPDATE segments.segment_history SET segment_name = 'Serial Returners' WHERE as_of_day = '2024-01-05'",
    "INSERT INTO segments.segment_history VALUES ('2024-01-05', 'B', 3, 'New')",
]


def test_events_at_or_after_the_order_do_not_change_its_facts(shop):
    before = facts(shop, ORDER_DAY)
    for statement in LATER_EVENTS:
        shop.execute(statement).fetchall()
    after = facts(shop, ORDER_DAY)
    pd.testing.assert_frame_equal(after[after["order_id"].isin(["O3", "O4"])].reset_index(drop=True), before)
    shop.execute(
        "INSERT INTO staging.returns SELECT * REPLACE ('R10' AS return_id, TIMESTAMP '2024-01-05 11:59:59' AS return_ts) "
        "FROM staging.returns WHERE return_id = 'R1'"
    ).fetchall()
    earlier = facts(shop, ORDER_DAY).set_index(["order_id", "line_no"])
    assert earlier.loc[("O3", 1), "customer_prior_returned_units"] == 4
    assert earlier.loc[("O3", 1), "customer_prior_returns"] == 3
    assert earlier.loc[("O3", 1), "product_prior_returned_units"] == 2
    assert earlier.loc[("O3", 1), "product_prior_returns"] == 2
    assert earlier.loc[("O4", 1), "shop_prior_returned_units"] == 4
    assert earlier.loc[("O4", 1), "shop_prior_returns"] == 3


def test_scoring_state_gives_the_facts_of_a_line_placed_after_all_data(shop):
    run_in_transaction(shop, query("returns/scoring_state"), {})
    facts, expected = facts_and_state_of_new_lines(shop)
    pd.testing.assert_frame_equal(facts, expected, check_dtype=False)
    assert list(facts["product_usual_price"]) == pytest.approx([20.0, 5.0, 11.2])  # P1: mean of 10, 12, 11, 11, 12
    assert list(facts["customer_tenure_days"]) == pytest.approx([37 + 1 / 24, 3 + 16 / 24, 1 + 1 / 24])
    assert list(facts["customer_prior_lines"]) == [5, 4, 0]  # A: O1, O3; B: O2, O4, O5
    assert list(facts["customer_prior_returns"]) == [2, 1, 0]
    assert list(facts["product_prior_lines"]) == [2, 2, 5]  # P2, P3, P1 in turn
    assert list(facts["product_prior_returns"]) == [1, 0, 2]
    assert (set(facts["shop_prior_lines"]), set(facts["shop_prior_returns"])) == ({9}, {3})


LABEL_LINES = [  # (order_id, customer_id, product_id, order_ts)
    ("L1", "C1", "P1", "2024-01-01 00:00:00"),
    ("L2", "C2", "P1", "2024-01-01 00:00:00"),
    ("L3", "C3", "P1", "2024-01-01 00:00:00"),
    ("L4", "C1", "P2", "2024-01-10 00:00:00"),
    ("L5", "C5", "P2", "2024-01-10 00:00:01"),
    ("L6", "C4", "P1", "2024-01-20 00:00:00"),
]
LABEL_RETURNS = [  # (customer_id, product_id, return_ts)
    ("C1", "P1", "2024-01-31 00:00:00"),  # exactly 30 days after L1
    ("C2", "P1", "2024-01-31 00:00:01"),  # one second too late for L2
    ("C3", "P1", "2024-01-01 00:00:00"),  # at L3's own moment: not after it
    ("C4", "P1", "2024-02-10 00:00:00"),  # inside L6's window, but after what is observed
]


def test_labels_count_returns_inside_the_window_once_it_has_closed():
    con = connect()
    con.executemany(
        "INSERT INTO staging.transactions (order_id, line_no, customer_id, product_id, order_ts, quantity, unit_price) "
        "VALUES (?, 1, ?, ?, ?, 1, 10.0)",
        LABEL_LINES,
    )
    con.executemany(
        "INSERT INTO staging.returns (return_id, customer_id, product_id, return_ts, quantity) VALUES (?, ?, ?, ?, 1)",
        [(f"R{i}", *r) for i, r in enumerate(LABEL_RETURNS)],
    )
    params = {
        "start": date(2024, 1, 1),
        "end": date(2024, 2, 1),
        "window_days": RETURN_WINDOW_DAYS,
        "observed_until": datetime(2024, 2, 9),
    }
    labels = {row[0]: row[2:] for row in con.execute(f"{query('returns/labels')} ORDER BY ALL", params).fetchall()}
    assert labels == {
        "L1": (True, True),
        "L2": (False, True),
        "L3": (False, True),
        "L4": (False, True),  # its window closes exactly at observed_until
        "L5": (False, False),
        "L6": (False, False),
    }


def candidate_facts(con: duckdb.DuckDBPyConnection, pairs: list[tuple[str, str]], before: datetime) -> pd.DataFrame:
    frame = pd.DataFrame(pairs, columns=["customer_id", "product_id"])
    con.register("candidate_pairs", frame.assign(pair_no=range(len(frame))))
    frame = con.execute(query("recommend/candidate_facts"), {"before": before}).df()
    con.unregister("candidate_pairs")
    return frame


HISTORY_FACTS = [c for c in FACT_COLUMNS if c.startswith(("customer_", "product_", "category_prior", "shop_"))]


def test_a_recommended_product_is_described_as_a_real_line_ordered_at_the_same_moment(shop):
    real = facts(shop, ORDER_DAY).set_index(["order_id", "line_no"])
    hypothetical = candidate_facts(shop, [("A", "P1"), ("B", "P1")], datetime(2024, 1, 5, 12))
    assert list(hypothetical.columns) == list(FACT_COLUMNS)
    for row, line in zip(hypothetical.itertuples(), [("O3", 1), ("O4", 1)]):
        expected = real.loc[line, HISTORY_FACTS]
        assert pd.Series(row._asdict())[HISTORY_FACTS].tolist() == pytest.approx(expected.tolist(), nan_ok=True)
    assert hypothetical[["quantity", "basket_lines", "same_product_lines"]].eq(1).all().all()
    assert list(hypothetical["unit_price"]) == pytest.approx([11.0, 11.0])  # P1's mean price before: 10, 12


def test_a_recommended_product_gets_the_facts_the_scoring_service_builds_for_a_one_line_order(shop):
    from segmentation_pipeline.domain.returns.scoring import order_facts

    run_in_transaction(shop, query("returns/scoring_state"), {})
    observed_until = shop.sql("SELECT observed_until FROM returns.shop_state").fetchall()[0][0]
    state = {
        name: shop.sql(f"FROM returns.{name}_state").df()
        for name in ("customer", "product", "category", "shop")
    }  # fmt: skip
    rows = {name: frame.set_index(frame.columns[0]).to_dict("index") for name, frame in state.items() if name != "shop"}
    pairs = [("A", "P2"), ("B", "P3"), ("C", "P1")]
    hypothetical = candidate_facts(shop, pairs, observed_until)
    for (customer, product), (_, row) in zip(pairs, hypothetical.iterrows()):
        price = rows["product"][product]["product_usual_price"]
        expected = order_facts(
            [{"product_id": product, "quantity": 1, "unit_price": price}],
            pd.Timestamp(observed_until),
            rows["customer"].get(customer),
            rows["product"],
            rows["category"],
            state["shop"].iloc[0].to_dict(),
            customer_id=customer,
        ).iloc[0]
        for column in FACT_COLUMNS:
            if column in ("order_id", "order_ts"):
                continue
            if isinstance(expected[column], str):
                assert row[column] == expected[column], column
            else:
                assert float(row[column]) == pytest.approx(float(expected[column]), nan_ok=True), column


def test_the_recommenders_inputs_at_a_cutoff_hold_nothing_from_after_it(shop):
    cutoff = datetime(2024, 1, 5, 12)
    window = {"cutoff": cutoff, "lookback_start": datetime(2023, 1, 1), "recent_start": datetime(2024, 1, 3)}
    purchases = shop.execute(query("recommend/purchases"), window).df().sort_values(["customer_id", "product_id"])
    assert purchases.values.tolist() == [["A", "P1", False], ["A", "P2", False], ["B", "P1", True]]
    prices = shop.execute(query("recommend/prices"), {"cutoff": cutoff}).df().set_index("product_id")["price"]
    assert prices.to_dict() == pytest.approx({"P1": 11.0, "P2": 20.0})  # P3 is first sold at the cutoff
    after = shop.execute(query("recommend/window_outcomes"), {"start": cutoff, "end": datetime(2024, 1, 7)}).df()
    assert sorted(map(tuple, after[["customer_id", "product_id", "units"]].values.tolist())) == [
        ("A", "P1", 3), ("A", "P3", 1), ("B", "P1", 1), ("B", "P2", 1), ("B", "P3", 1),
    ]  # fmt: skip
