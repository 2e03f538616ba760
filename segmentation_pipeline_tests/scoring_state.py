"""The facts of new lines placed after all staged data, beside what the scoring state says they should be."""

from datetime import timedelta

import duckdb
import pandas as pd

from segmentation_pipeline.sql import query
from segmentation_pipeline.warehouse import Window

# The scoring state's counts, put in the facts' terms for lines ordered at or after observed_until.
STATE_AS_FACTS_SQL = """
SELECT f.order_id, f.line_no,
       c.customer_prior_orders, c.customer_prior_units, c.customer_prior_returned_units,
       c.customer_prior_lines, c.customer_prior_returns,
       date_diff('second', LEAST(c.first_seen_ts, f.order_ts), f.order_ts) / 86400.0 AS customer_tenure_days,
       date_diff('second', c.last_order_ts, f.order_ts) / 86400.0 AS customer_days_since_last_order,
       c.customer_prior_contacts, c.customer_segment,
       p.product_prior_units, p.product_prior_returned_units, p.product_prior_lines, p.product_prior_returns,
       p.product_usual_price, k.category_prior_units, k.category_prior_returned_units,
       s.shop_prior_units, s.shop_prior_returned_units, s.shop_prior_lines, s.shop_prior_returns
FROM new_line_facts AS f
JOIN returns.customer_state AS c USING (customer_id)
JOIN returns.product_state AS p USING (product_id)
JOIN returns.category_state AS k ON k.category = f.category
CROSS JOIN returns.shop_state AS s
ORDER BY f.order_id
"""


def facts_and_state_of_new_lines(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add one line for every customer of the scoring state, an hour after `observed_until` (the products
    taken in turn); return the facts of those lines and what the state says they should be."""
    [(observed_until, next_day)] = con.sql(
        "SELECT observed_until, covered_until('customer_segments') + 1 FROM returns.shop_state"
    ).fetchall()
    assert observed_until.date() == next_day  # the latest segments are those of the day before the new lines
    con.execute(
        "INSERT INTO staging.transactions (order_id, line_no, customer_id, order_ts, product_id, quantity, "
        "unit_price, category) "
        "SELECT 'new-' || c.customer_id, 1, c.customer_id, $ts, p.product_id, 1, 1.0, p.category "
        "FROM (SELECT customer_id, row_number() OVER (ORDER BY customer_id) AS n FROM returns.customer_state) AS c "
        "JOIN (SELECT product_id, category, row_number() OVER (ORDER BY product_id) AS n, count(*) OVER () AS k "
        "FROM returns.product_state) AS p ON p.n = 1 + c.n % p.k",
        {"ts": observed_until + timedelta(hours=1)},
    ).fetchall()
    con.execute(
        f"CREATE TEMP TABLE new_line_facts AS {query('returns/line_facts')}",
        Window(next_day, next_day + timedelta(1)).params,
    ).fetchall()
    expected = con.sql(STATE_AS_FACTS_SQL).df()
    facts = con.sql(f"SELECT {', '.join(expected.columns)} FROM new_line_facts ORDER BY order_id").df()
    assert len(facts) == con.sql("SELECT count(*) FROM returns.customer_state").fetchall()[0][0] > 0
    return facts, expected
