"""The synthetic shop keeps the raw-data contract, is reproducible and behaves like a real shop."""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.domain import contract
from segmentation_pipeline.sources.synthetic_shop import ShopSpec, _catalogue, generate_shop

SPEC = ShopSpec(n_customers=3_000, days=365, seed=7, campaign_reach=0.8)
START = datetime.combine(SPEC.start, time())
END = START + timedelta(days=SPEC.days)
ARROW_TYPES = {
    "VARCHAR": (pa.string(), pa.large_string()),
    "TIMESTAMP": (pa.timestamp("us"),),
    "BIGINT": (pa.int64(),),
    "DOUBLE": (pa.float64(),),
    "BOOLEAN": (pa.bool_(),),
    "INTEGER": (pa.int32(),),
}
TRUTH_FILES = ("customer_truth", "campaign_truth", "line_truth")


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("shop")
    return out, generate_shop(SPEC, out)


@pytest.fixture(scope="module")
def con(shop) -> duckdb.DuckDBPyConnection:
    out, _ = shop
    db = duckdb.connect()
    for name in contract.TABLES:
        db.execute(f"CREATE VIEW {name} AS SELECT * FROM '{out / name}.parquet'")
    for name in TRUTH_FILES:
        db.execute(f"CREATE VIEW {name} AS SELECT * FROM '{out / 'ground_truth' / name}.parquet'")
    db.execute("""CREATE VIEW typed_lines AS
                  SELECT t.*, c.latent_type FROM transactions t JOIN customer_truth c USING (customer_id)""")
    db.execute("""CREATE VIEW typed_returns AS
                  SELECT r.*, c.latent_type FROM returns r JOIN customer_truth c USING (customer_id)""")
    return db


def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def read_all(out: Path) -> dict[str, pa.Table]:
    tables = {name: pq.read_table(out / f"{name}.parquet") for name in contract.TABLES}
    tables |= {name: pq.read_table(out / "ground_truth" / f"{name}.parquet") for name in TRUTH_FILES}
    return tables


# --- reproducibility -------------------------------------------------------------------------


def test_same_spec_gives_identical_tables(shop, tmp_path):
    out, counts = shop
    assert generate_shop(SPEC, tmp_path) == counts
    first, second = read_all(out), read_all(tmp_path)
    for name in first:
        assert first[name].equals(second[name]), name


def test_other_seed_gives_other_tables(shop, tmp_path):
    out, _ = shop
    generate_shop(
        ShopSpec(n_customers=SPEC.n_customers, days=SPEC.days, seed=SPEC.seed + 1, campaign_reach=SPEC.campaign_reach),
        tmp_path,
    )
    first, second = read_all(out), read_all(tmp_path)
    for name in ("transactions", "returns", "customers", "campaign_exposures", "service_interactions"):
        assert not first[name].equals(second[name]), name


# --- contract --------------------------------------------------------------------------------


def test_writes_exactly_the_expected_files(shop):
    out, counts = shop
    expected = [f"{name}.parquet" for name in contract.TABLES] + ["ground_truth"]
    assert sorted(p.name for p in out.iterdir()) == sorted(expected)
    truth = sorted(p.name for p in (out / "ground_truth").iterdir())
    assert truth == sorted(f"{name}.parquet" for name in TRUTH_FILES)
    assert counts.keys() == contract.TABLES.keys()
    for name, rows in counts.items():
        assert pq.ParquetFile(out / f"{name}.parquet").metadata.num_rows == rows > 0


@pytest.mark.parametrize("table", contract.TABLES.values(), ids=lambda t: t.name)
def test_tables_have_contract_columns_and_types(shop, table):
    out, _ = shop
    schema = pq.read_schema(out / f"{table.name}.parquet")
    assert schema.names == table.column_names
    for column in table.columns:
        assert schema.field(column.name).type in ARROW_TYPES[column.sql_type], column.name


@pytest.mark.parametrize("table", contract.EVENT_TABLES, ids=lambda t: t.name)
def test_event_tables_sorted_inside_window_in_small_row_groups(shop, con, table):
    out, _ = shop
    ts = pq.read_table(out / f"{table.name}.parquet", columns=[table.event_ts]).column(0).to_pylist()
    assert ts == sorted(ts)
    assert START <= ts[0] and ts[-1] < END
    metadata = pq.ParquetFile(out / f"{table.name}.parquet").metadata
    assert all(metadata.row_group(i).num_rows <= 100_000 for i in range(metadata.num_row_groups))
    for column in table.required:
        assert scalar(con, f"SELECT count(*) FROM {table.name} WHERE {column} IS NULL") == 0, column


def test_signups_inside_window_and_before_first_order(con):
    assert scalar(con, f"SELECT min(signup_ts) >= '{START}' AND max(signup_ts) < '{END}' FROM customers")
    assert (
        scalar(
            con,
            """SELECT count(*) FROM transactions t JOIN customers c USING (customer_id)
                          WHERE t.order_ts < c.signup_ts""",
        )
        == 0
    )
    assert scalar(con, "SELECT count(*) FROM transactions ANTI JOIN customers USING (customer_id)") == 0
    buyers = scalar(con, "SELECT count(DISTINCT customer_id) FROM transactions")
    assert buyers < scalar(con, "SELECT count(*) FROM customers")


def test_values_are_sane(con):
    assert scalar(con, "SELECT min(quantity) FROM transactions") >= 1
    assert scalar(con, "SELECT min(quantity) FROM returns") >= 1
    assert scalar(con, "SELECT min(unit_price) FROM transactions") >= 0
    assert scalar(con, "SELECT count(*) FROM transactions WHERE discount < 0 OR discount > quantity * unit_price") == 0
    for table, money in (
        ("transactions", "unit_price"),
        ("transactions", "discount"),
        ("returns", "refund_amount"),
        ("campaign_exposures", "revenue"),
    ):
        assert scalar(con, f"SELECT max(abs({money} * 100 - round({money} * 100))) FROM {table}") < 1e-6, money
    assert scalar(con, "SELECT count(*) FROM campaign_exposures WHERE revenue > 0 AND NOT converted") == 0
    assert scalar(con, "SELECT count(*) FROM campaign_exposures WHERE is_control <> (variant = 'control')") == 0
    assert scalar(con, "SELECT count(*) FROM service_interactions WHERE csat NOT BETWEEN 1 AND 5") == 0
    assert scalar(con, "SELECT bool_and(regexp_full_match(customer_id, 'C[0-9]{6}')) FROM customers")
    assert scalar(con, "SELECT bool_and(regexp_full_match(order_id, 'O[0-9]{7}')) FROM transactions")
    assert scalar(con, "SELECT bool_and(regexp_full_match(product_id, 'P[0-9]{5}')) FROM transactions")


@pytest.mark.parametrize(
    "table, key",
    [
        ("customers", "customer_id"),
        ("returns", "return_id"),
        ("service_interactions", "interaction_id"),
        ("campaign_exposures", "campaign_id, customer_id"),
    ],
)
def test_ids_are_unique(con, table, key):
    assert scalar(con, f"SELECT count(*) FROM {table}") == scalar(con, f"SELECT count(DISTINCT ({key})) FROM {table}")


def test_orders_belong_to_one_customer_at_one_time(con):
    assert (
        scalar(
            con,
            """SELECT count(*) FROM (SELECT order_id FROM transactions GROUP BY order_id
                          HAVING count(DISTINCT customer_id) > 1 OR count(DISTINCT order_ts) > 1)""",
        )
        == 0
    )


def test_every_return_matches_an_earlier_purchase(con):
    unmatched = scalar(
        con,
        """
        SELECT count(*) FROM returns r WHERE NOT EXISTS (
            SELECT 1 FROM transactions t
            WHERE t.order_id = r.order_id AND t.customer_id = r.customer_id AND t.product_id = r.product_id
              AND t.order_ts < r.return_ts AND r.quantity <= t.quantity
              AND r.refund_amount <= t.quantity * t.unit_price - t.discount + 0.005)""",
    )
    assert unmatched == 0
    assert (
        scalar(
            con,
            """SELECT max(date_diff('day', t.order_ts, r.return_ts)) FROM returns r
                          JOIN (SELECT DISTINCT order_id, order_ts FROM transactions) t USING (order_id)""",
        )
        <= 30
    )


# --- realism ---------------------------------------------------------------------------------


def return_rate(con: duckdb.DuckDBPyConnection, where: str) -> float:
    returned = scalar(
        con,
        f"""SELECT count(*) FROM typed_returns
                               JOIN (SELECT DISTINCT order_id, product_id, category FROM transactions)
                               USING (order_id, product_id) WHERE {where}""",
    )
    return returned / scalar(con, f"SELECT count(*) FROM typed_lines WHERE {where}")


def test_overall_return_rate_is_plausible(con):
    assert 0.08 < return_rate(con, "true") < 0.2
    assert return_rate(con, "category IN ('apparel', 'shoes')") > 0.18


def test_serial_returners_return_more_than_twice_as_often(con):
    serial = return_rate(con, "latent_type = 'serial_returner'")
    assert serial > 2 * return_rate(con, "latent_type <> 'serial_returner'")


def test_apparel_and_shoes_returned_more_than_books(con):
    assert return_rate(con, "category IN ('apparel', 'shoes')") > 3 * return_rate(con, "category = 'books'")


def test_true_return_probability_ranks_lines(con):
    returned, kept = con.execute("""
        SELECT avg(true_return_probability) FILTER (WHERE r.order_id IS NOT NULL),
               avg(true_return_probability) FILTER (WHERE r.order_id IS NULL)
        FROM line_truth l LEFT JOIN (SELECT DISTINCT order_id, product_id FROM returns) r USING (order_id, product_id)
    """).fetchone()
    assert returned > 2 * kept


def test_bargain_hunters_buy_on_discount_more_than_vips(con):
    share = "SELECT avg((discount > 0)::INT) FROM typed_lines WHERE latent_type = '{}'"
    assert scalar(con, share.format("bargain_hunter")) > 3 * scalar(con, share.format("vip"))


def test_vips_spend_over_three_times_the_average(con):
    revenue = "SELECT sum(quantity * unit_price - discount) FROM typed_lines WHERE {}"
    customers = "SELECT count(*) FROM customer_truth WHERE {}"
    vip = scalar(con, revenue.format("latent_type = 'vip'")) / scalar(con, customers.format("latent_type = 'vip'"))
    overall = scalar(con, revenue.format("true")) / scalar(con, customers.format("true"))
    assert vip > 3 * overall


def test_purchase_counts_are_heavy_tailed(con):
    ratio = scalar(
        con,
        """SELECT max(n) / median(n) FROM
                           (SELECT count(DISTINCT order_id) AS n FROM transactions GROUP BY customer_id)""",
    )
    assert ratio > 5
    assert (
        scalar(
            con,
            """SELECT avg(n) FROM (SELECT count(DISTINCT order_id) AS n FROM typed_lines
                          WHERE latent_type = 'one_time' GROUP BY customer_id)""",
        )
        < 1.5
    )


def test_customers_keep_to_two_styles(con):
    """Customers with ten or more lines place over 40% of them in their two most bought styles, where
    style-blind picks put about a quarter, so what someone bought says what else they buy."""
    style = _catalogue(SPEC).style
    db = con.cursor()
    db.register(
        "product_styles", pa.table({"product_id": [f"P{i + 1:05d}" for i in range(style.size)], "style": style})
    )
    share = scalar(
        db,
        """WITH bought AS (SELECT customer_id, style, count(*) AS n FROM transactions JOIN product_styles
                          USING (product_id) GROUP BY ALL),
                ranked AS (SELECT n, row_number() OVER (PARTITION BY customer_id ORDER BY n DESC, style) AS rank,
                                  sum(n) OVER (PARTITION BY customer_id) AS lines FROM bought)
           SELECT sum(n) FILTER (WHERE rank <= 2) / sum(n) FROM ranked WHERE lines >= 10""",
    )
    assert share > 0.4


def test_an_offer_moves_bargain_hunters_in_truth_and_in_exposures(con):
    offer, effect = con.execute("""
        SELECT variant, avg(true_conversion_rate) FROM campaign_truth
        WHERE latent_type = 'bargain_hunter' AND variant <> 'control' GROUP BY variant ORDER BY 2 DESC LIMIT 1
    """).fetchone()
    control_effect = scalar(
        con,
        """SELECT max(true_conversion_rate) FROM campaign_truth
                                    WHERE latent_type = 'bargain_hunter' AND variant = 'control'""",
    )
    assert effect > control_effect + 0.05
    observed = dict(
        con.execute("""
        SELECT variant, [count(*), avg(converted::INT)] FROM campaign_exposures JOIN customer_truth USING (customer_id)
        WHERE latent_type = 'bargain_hunter' GROUP BY variant
    """).fetchall()
    )
    (n_offer, p_offer), (n_control, p_control) = observed[offer], observed["control"]
    standard_error = math.sqrt(p_offer * (1 - p_offer) / n_offer + p_control * (1 - p_control) / n_control)
    assert (p_offer - p_control) / standard_error > 2


def test_conversions_are_visible_as_orders(con):
    mismatched = scalar(
        con,
        """
        SELECT count(*) FROM campaign_exposures e WHERE e.converted <> EXISTS (
            SELECT 1 FROM transactions t WHERE t.customer_id = e.customer_id
              AND t.order_ts >= e.sent_ts AND t.order_ts < e.sent_ts + INTERVAL 14 DAY)""",
    )
    assert mismatched == 0
    assert scalar(con, "SELECT count(*) FROM campaign_exposures WHERE is_control AND engaged") == 0


def test_return_contacts_lie_near_a_return(con):
    near = scalar(
        con,
        """
        SELECT avg(EXISTS (SELECT 1 FROM returns r WHERE r.customer_id = s.customer_id
                           AND abs(epoch(r.return_ts) - epoch(s.interaction_ts)) <= 5 * 86400)::INT)
        FROM service_interactions s WHERE topic = 'return'""",
    )
    assert near > 0.95
    assert scalar(con, "SELECT count(*) FROM service_interactions WHERE topic = 'return'") > 100


def test_unresolved_contacts_score_lower(con):
    resolved, unresolved = con.execute("""
        SELECT avg(csat) FILTER (WHERE resolved), avg(csat) FILTER (WHERE NOT resolved) FROM service_interactions
    """).fetchone()
    assert resolved > unresolved + 1


# --- size ------------------------------------------------------------------------------------


def test_lines_per_customer_do_not_depend_on_shop_size(tmp_path):
    per_customer = []
    for n in (1_000, 4_000):
        counts = generate_shop(ShopSpec(n_customers=n, days=365, seed=11), tmp_path / str(n))
        per_customer.append(counts["transactions"] / n)
    small, large = per_customer
    assert 0.75 < small / large < 1.25
