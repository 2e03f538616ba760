"""Generated labelled order lines (facts and labels), where the chance of a return depends on known facts.

Each customer and product has a hidden return propensity; their earlier counts are drawn
from it, so their smoothed rates carry part of it. The chance that a line comes back rises
with the price paid over the product's usual price (the strongest driver), the customer's
and the product's propensity, the category, and several sizes of one product in the basket.
Lines of the last 30 days have an unknown label unless already returned.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.returns.features import FACT_COLUMNS

CATEGORIES = {"dresses": 0.6, "shoes": 0.4, "shirts": 0.2, "sports": 0.0, "beauty": -0.4, "home": -0.6, "books": -1.0}
SEGMENTS = ["VIP", "Regulars", "New", "Bargain Hunters", "none"]
PRICE_EFFECT = 5.0
"""Log-odds of a return per unit of log(price paid / usual price)."""


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def labelled_lines(orders: int, seed: int = 0, start: str = "2024-01-01", days: int = 365) -> pd.DataFrame:
    """``orders`` orders of 1-6 lines over ``days`` days: order-line facts with ``returned`` and ``label_known``."""
    rng = np.random.default_rng(seed)
    n_customers, n_products = max(orders // 5, 20), max(orders // 25, 30)
    categories = np.array(list(CATEGORIES))
    customer_propensity = rng.normal(0.0, 0.8, n_customers)
    customer_segment = np.where(
        customer_propensity > 1.0, "Serial Returners", rng.choice(SEGMENTS, n_customers, p=[0.1, 0.3, 0.2, 0.1, 0.3])
    )
    product_category = rng.integers(0, len(categories), n_products)
    product_propensity = rng.normal(0.0, 0.5, n_products)
    product_price = np.round(np.exp(rng.normal(3.2, 0.8, n_products)), 2)

    customer = rng.integers(0, n_customers, orders)
    order_ts = pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.uniform(0, days * 86400, orders)).round(), unit="s")
    size = np.minimum(1 + rng.poisson(1.0, orders), 6)
    order = np.repeat(np.arange(orders), size)
    n = len(order)
    line_no = np.arange(n) - np.repeat(np.cumsum(size) - size, size) + 1
    product = np.minimum(rng.zipf(1.3, n) - 1, n_products - 1)
    product = np.where(rng.random(n) < 0.5, rng.integers(0, n_products, n), product)
    lines = pd.DataFrame({"order": order, "product": product})
    same_product = lines.groupby(["order", "product"])["product"].transform("size").to_numpy()
    category = categories[product_category[product]]
    same_category = lines.assign(c=category).groupby(["order", "c"])["c"].transform("size").to_numpy()

    price_ratio = np.exp(rng.normal(0.0, 0.2, n))
    unit_price = np.round(product_price[product] * price_ratio, 2)
    quantity = 1 + rng.poisson(0.3, n)
    line_value = quantity * unit_price
    discount = np.round(np.where(rng.random(n) < 0.2, line_value * rng.uniform(0.05, 0.3, n), 0.0), 2)
    c = customer[order]
    customer_units = rng.poisson(np.exp(rng.normal(2.0, 1.0, n)))
    product_units = rng.poisson(np.exp(rng.normal(4.0, 1.0, n)))
    base_rate = sigmoid(-1.6 + np.array([CATEGORIES[k] for k in category]))
    product_rate = sigmoid(-1.6 + np.array([CATEGORIES[k] for k in category]) + product_propensity[product])
    logit = (
        -2.0
        + np.array([CATEGORIES[k] for k in category])
        + customer_propensity[c]
        + product_propensity[product]
        + PRICE_EFFECT * np.log(price_ratio)
        + 0.8 * (same_product > 1)
    )
    returned = rng.random(n) < sigmoid(logit)
    recent = order_ts[order] > order_ts.max() - pd.Timedelta(days=30)
    basket = pd.DataFrame({"order": order, "quantity": quantity, "value": line_value}).groupby("order")
    frame = pd.DataFrame(
        {
            "order_id": [f"O{i:07d}" for i in order],
            "line_no": line_no,
            "customer_id": [f"C{i:06d}" for i in c],
            "product_id": [f"P{i:05d}" for i in product],
            "order_ts": order_ts[order],
            "quantity": quantity,
            "unit_price": unit_price,
            "discount": discount,
            "category": category,
            "channel": rng.choice(["web", "app", "store"], orders, p=[0.6, 0.3, 0.1])[order],
            "country": rng.choice(["DE", "FR", "NL", "AT", "BE", "LU"], orders, p=[0.5, 0.2, 0.15, 0.1, 0.04, 0.01])[
                order
            ],
            "basket_lines": size[order],
            "basket_units": basket["quantity"].transform("sum").to_numpy(),
            "basket_value": basket["value"].transform("sum").to_numpy(),
            "same_product_lines": same_product,
            "same_category_lines": same_category,
            "customer_prior_orders": rng.poisson(customer_units / 2.5),
            "customer_prior_units": customer_units,
            "customer_prior_returned_units": rng.binomial(customer_units, sigmoid(-1.6 + customer_propensity[c])),
            "customer_tenure_days": rng.integers(0, 1500, n),
            "customer_days_since_last_order": np.where(customer_units > 0, rng.integers(1, 200, n), np.nan),
            "customer_prior_contacts": rng.poisson(0.5, n),
            "customer_segment": customer_segment[c],
            "product_prior_units": product_units,
            "product_prior_returned_units": rng.binomial(product_units, product_rate),
            "product_usual_price": np.where(product_units > 0, product_price[product], np.nan),
            "category_prior_units": 100 * product_units,
            "category_prior_returned_units": rng.binomial(100 * product_units, base_rate),
            "shop_prior_units": np.full(n, 1_000_000),
            "shop_prior_returned_units": np.full(n, 180_000),
            "returned": returned,
            "label_known": returned | ~recent,
        }
    )
    customer_lines = rng.binomial(customer_units, 0.7)
    product_lines = rng.binomial(product_units, 0.7)
    counts = {
        "customer_prior_lines": customer_lines,
        "customer_prior_returns": rng.binomial(customer_lines, sigmoid(-1.6 + customer_propensity[c])),
        "product_prior_lines": product_lines,
        "product_prior_returns": rng.binomial(product_lines, product_rate),
        "shop_prior_lines": np.full(n, 700_000),
        "shop_prior_returns": np.full(n, 126_000),
    }
    return frame.assign(**counts)[[*FACT_COLUMNS, "returned", "label_known"]]
