"""What the return model knows about an order line, and how those facts become model features.

An order line is described by *facts*: the line itself, its basket, and counts of what the
customer, the product, its category and the whole shop did strictly before the order was
placed. The warehouse computes facts for past lines in DuckDB (point in time); the scoring
service computes the same facts for a new order from the latest counts. Both turn facts into
features with ``build_features``, so training and serving cannot drift apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FACT_COLUMNS: dict[str, str] = {
    # the line
    "order_id": "Order the line belongs to.",
    "line_no": "Line number inside the order.",
    "customer_id": "Customer who placed the order.",
    "product_id": "Product ordered.",
    "order_ts": "When the order was placed; every count below is of events strictly before it.",
    "quantity": "Units on the line.",
    "unit_price": "Price per unit before discount.",
    "discount": "Money taken off the line (0 when none).",
    "category": "Product category ('unknown' when none).",
    "channel": "Sales channel ('unknown' when none).",
    "country": "Shipping country ('unknown' when none).",
    # the basket (the whole order, this line included)
    "basket_lines": "Lines in the order.",
    "basket_units": "Units in the order.",
    "basket_value": "Value of the order before discounts: quantity x unit price over its lines.",
    "same_product_lines": "Lines of this product in the order (more than 1: several sizes or variants).",
    "same_category_lines": "Lines of this line's category in the order.",
    # the customer before the order
    "customer_prior_orders": "Distinct orders the customer placed before this one.",
    "customer_prior_units": "Units the customer bought before this order.",
    "customer_prior_returned_units": "Units the customer returned before this order.",
    "customer_prior_lines": "Order lines the customer placed before this order.",
    "customer_prior_returns": "Returns the customer made before this order (one per returned line, whatever the units).",
    "customer_tenure_days": "Days from signup (or first purchase, whichever is earlier) to the order; 0 for a first order without an earlier signup.",
    "customer_days_since_last_order": "Days since the customer's previous order; empty for a first order.",
    "customer_prior_contacts": "Customer-service contacts before the order.",
    "customer_segment": "The customer's segment name on the day before the order ('none' when not yet segmented).",
    # the product, its category and the shop before the order
    "product_prior_units": "Units of the product sold before the order.",
    "product_prior_returned_units": "Units of the product returned before the order.",
    "product_prior_lines": "Order lines of the product before the order.",
    "product_prior_returns": "Returns of the product before the order.",
    "product_usual_price": "Mean unit price of the product's earlier lines; empty for a product never sold.",
    "category_prior_units": "Units of the category sold before the order.",
    "category_prior_returned_units": "Units of the category returned before the order.",
    "shop_prior_units": "Units the whole shop sold before the order.",
    "shop_prior_returned_units": "Units the whole shop had returned before the order.",
    "shop_prior_lines": "Order lines the whole shop had before the order.",
    "shop_prior_returns": "Returns the whole shop had before the order.",
}

RETURN_WINDOW_DAYS = 30
"""A line counts as returned when the customer returns the product within this many days after the order."""

CATEGORICAL_FEATURES: tuple[str, ...] = ("category", "channel", "country", "customer_segment")

FEATURE_COLUMNS: dict[str, str] = {
    "customer_return_rate": "Customer's earlier unit return rate, smoothed toward the shop's rate.",
    "customer_return_share": "Customer's earlier returns per line bought, smoothed toward the shop's.",
    "orders_per_month": "Customer's earlier orders per month since they were first seen.",
    "customer_days_since_last_order": "Days since the previous order (-1 for a first order).",
    "customer_prior_contacts": FACT_COLUMNS["customer_prior_contacts"],
    "product_return_rate": "Product's earlier unit return rate, smoothed toward its category's rate.",
    "product_return_share": "Product's earlier returns per line sold, smoothed toward the shop's.",
    "category_return_rate": "Category's earlier unit return rate, smoothed toward the shop's rate.",
    "price_vs_usual": "Unit price over the product's usual price (1 for a product never sold).",
    "unit_price": FACT_COLUMNS["unit_price"],
    "discount_share": "Discount over the line value before discount.",
    "quantity": FACT_COLUMNS["quantity"],
    "line_value_log": "log(1 + quantity x unit price).",
    "value_share": "Share of the order's value on this line (0 when the order is worth nothing).",
    "basket_lines": FACT_COLUMNS["basket_lines"],
    "basket_units": FACT_COLUMNS["basket_units"],
    "basket_value_log": "log(1 + basket value).",
    "same_product_lines": FACT_COLUMNS["same_product_lines"],
    "same_category_lines": FACT_COLUMNS["same_category_lines"],
    **{name: FACT_COLUMNS[name] for name in CATEGORICAL_FEATURES},
}
"""Model features in order; the categorical ones are ``CATEGORICAL_FEATURES``."""

SMOOTHING_UNITS = 20.0
"""Pseudo-units of the prior added to every smoothed rate: a customer with 20 units bought
sits halfway between their own rate and the prior."""

CUSTOMER_SMOOTHING_LINES = 5.0
"""Pseudo-lines at the shop's share of returns per line added to a customer's own returns and lines."""

PRODUCT_SMOOTHING_LINES = 20.0
"""Pseudo-lines at the shop's share of returns per line added to a product's own returns and lines."""


def smoothed_rate(returned: np.ndarray, bought: np.ndarray, prior: np.ndarray, strength: float) -> np.ndarray:
    """Return rate shrunk toward a prior: (returned + strength x prior) / (bought + strength).

    With nothing bought it is the prior; with much bought it tends to returned / bought.
    The result is clipped to [0, 1] (returns of earlier stock can exceed recent sales).
    """
    returned = np.asarray(returned, dtype=np.float64)
    bought = np.asarray(bought, dtype=np.float64)
    rate = (returned + strength * np.asarray(prior, dtype=np.float64)) / (bought + strength)
    return np.clip(rate, 0.0, 1.0)


def build_features(facts: pd.DataFrame, strength: float = SMOOTHING_UNITS) -> pd.DataFrame:
    """Model features (``FEATURE_COLUMNS``, in order) of order lines described by ``FACT_COLUMNS``.

    Depends on each row's own facts only, so a line scores the same in a batch or alone.
    """
    missing = [c for c in FACT_COLUMNS if c not in facts.columns and c not in ("order_id", "line_no")]
    if missing:
        raise KeyError(f"order-line facts lack columns {missing}")

    def number(name: str) -> np.ndarray:
        column = facts[name]
        if not pd.api.types.is_numeric_dtype(column):
            column = pd.to_numeric(column, errors="coerce")
        return column.to_numpy(dtype=np.float64, na_value=np.nan)

    def count(name: str) -> np.ndarray:
        return np.nan_to_num(number(name), nan=0.0)

    shop_bought = count("shop_prior_units")
    shop_rate = np.divide(
        count("shop_prior_returned_units"), shop_bought, out=np.zeros(len(facts)), where=shop_bought > 0
    )
    shop_lines = count("shop_prior_lines")
    shop_share = np.divide(count("shop_prior_returns"), shop_lines, out=np.zeros(len(facts)), where=shop_lines > 0)

    def return_share(who: str, strength_lines: float) -> np.ndarray:
        returns, lines = count(f"{who}_prior_returns"), count(f"{who}_prior_lines")
        return (returns + strength_lines * shop_share) / (lines + strength_lines)

    category_rate = smoothed_rate(
        count("category_prior_returned_units"), count("category_prior_units"), shop_rate, strength
    )
    quantity = count("quantity")
    unit_price = count("unit_price")
    line_value = quantity * unit_price
    usual = number("product_usual_price")
    basket_value = count("basket_value")
    columns = {
        "customer_return_rate": smoothed_rate(
            count("customer_prior_returned_units"), count("customer_prior_units"), shop_rate, strength
        ),
        "customer_return_share": return_share("customer", CUSTOMER_SMOOTHING_LINES),
        "orders_per_month": count("customer_prior_orders") / (count("customer_tenure_days") / 30.0 + 1.0),
        "customer_days_since_last_order": np.nan_to_num(number("customer_days_since_last_order"), nan=-1.0),
        "customer_prior_contacts": count("customer_prior_contacts"),
        "product_return_rate": smoothed_rate(
            count("product_prior_returned_units"), count("product_prior_units"), category_rate, strength
        ),
        "product_return_share": return_share("product", PRODUCT_SMOOTHING_LINES),
        "category_return_rate": category_rate,
        "price_vs_usual": np.where(usual > 0, unit_price / np.where(usual > 0, usual, 1.0), 1.0),
        "unit_price": unit_price,
        "discount_share": np.divide(count("discount"), line_value, out=np.zeros(len(facts)), where=line_value > 0),
        "quantity": quantity,
        "line_value_log": np.log1p(np.clip(line_value, 0.0, None)),
        "value_share": np.divide(line_value, basket_value, out=np.zeros(len(facts)), where=basket_value > 0),
        "basket_lines": count("basket_lines"),
        "basket_units": count("basket_units"),
        "basket_value_log": np.log1p(np.clip(basket_value, 0.0, None)),
        "same_product_lines": count("same_product_lines"),
        "same_category_lines": count("same_category_lines"),
    }
    for name in CATEGORICAL_FEATURES:
        default = "none" if name == "customer_segment" else "unknown"
        columns[name] = facts[name].fillna(default).astype(str).to_numpy()
    return pd.DataFrame({name: columns[name] for name in FEATURE_COLUMNS}, index=facts.index)
