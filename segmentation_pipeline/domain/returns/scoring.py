"""Return risk of an order being placed now, from the latest counts of its customer and products.

The scoring service receives an order before it exists in the warehouse. ``order_facts``
describes its lines with the same ``FACT_COLUMNS`` the warehouse computes for past lines,
taking the customer, product, category and shop counts from the scoring state (counts of
everything up to the state's cut-off). ``score_orders`` turns the facts into calibrated return
probabilities and the factors behind them, per line and for the whole order.
``customer_profile`` answers what the shop knows about one customer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.returns.features import FACT_COLUMNS, SMOOTHING_UNITS, build_features, smoothed_rate
from segmentation_pipeline.domain.returns.model import ReturnModel, strongest

DAY_SECONDS = 86_400.0

RFM_COLUMNS = ("r_score", "f_score", "m_score", "rfm_segment", "recency_days", "frequency", "monetary_net")
VALUE_COLUMNS = ("p_alive", "clv", "net_clv", "churn_probability", "churn_band")
"""The customer's lifetime value and churn risk of the latest valuation (`clv.customer_value`)."""
"""Optional RFM columns of the customer state, reported as they are when present."""


def _present(value: Any) -> bool:
    return value is not None and not (np.ndim(value) == 0 and pd.isna(value))


def _count(state: Mapping[str, Any] | None, name: str) -> float:
    value = None if state is None else state.get(name)
    return float(value) if _present(value) else 0.0


def _days(later: pd.Timestamp, earlier: Any) -> float:
    return (later - pd.Timestamp(earlier)).total_seconds() / DAY_SECONDS if _present(earlier) else np.nan


def _category(line: Mapping[str, Any], product: Mapping[str, Any] | None) -> str:
    for value in (line.get("category"), None if product is None else product.get("category")):
        if _present(value) and value != "":
            return str(value)
    return "unknown"


def order_facts(
    order_lines: Sequence[Mapping[str, Any]],
    order_ts: pd.Timestamp,
    customer_state: Mapping[str, Any] | None,
    product_states: Mapping[str, Mapping[str, Any]],
    category_states: Mapping[str, Mapping[str, Any]],
    shop_state: Mapping[str, Any],
    *,
    customer_id: str,
    channel: str | None = None,
    country: str | None = None,
) -> pd.DataFrame:
    """``FACT_COLUMNS`` of the lines of a new order, one row per line in request order.

    ``order_lines`` hold product_id, quantity, unit_price and optionally discount (money off
    the line) and category. The basket columns come from the lines themselves; customer,
    product, category and shop counts from the state rows. A customer or product missing
    from the state is new: zero counts, no usual price, segment 'none'. A line's category is
    the one the order gives, else the product's, else 'unknown'. Tenure and days since the
    last order are fractional days (tenure 0 for a new customer, never negative).
    """
    order_ts = pd.Timestamp(order_ts)
    products = [product_states.get(line["product_id"]) for line in order_lines]
    categories = [_category(line, product) for line, product in zip(order_lines, products)]
    quantities = [int(line["quantity"]) for line in order_lines]
    prices = [float(line["unit_price"]) for line in order_lines]
    product_lines = Counter(line["product_id"] for line in order_lines)
    category_lines = Counter(categories)
    known = customer_state is not None
    first_seen = customer_state.get("first_seen_ts") if known else None
    segment = customer_state.get("customer_segment") if known else None
    n = len(order_lines)
    facts = {
        "order_id": [None] * n,
        "line_no": list(range(1, n + 1)),
        "customer_id": [customer_id] * n,
        "product_id": [line["product_id"] for line in order_lines],
        "order_ts": [order_ts] * n,
        "quantity": quantities,
        "unit_price": prices,
        "discount": [float(line.get("discount") or 0.0) for line in order_lines],
        "category": categories,
        "channel": [channel or "unknown"] * n,
        "country": [country or "unknown"] * n,
        "basket_lines": [n] * n,
        "basket_units": [sum(quantities)] * n,
        "basket_value": [sum(q * p for q, p in zip(quantities, prices))] * n,
        "same_product_lines": [product_lines[line["product_id"]] for line in order_lines],
        "same_category_lines": [category_lines[c] for c in categories],
        "customer_prior_orders": [_count(customer_state, "customer_prior_orders")] * n,
        "customer_prior_units": [_count(customer_state, "customer_prior_units")] * n,
        "customer_prior_returned_units": [_count(customer_state, "customer_prior_returned_units")] * n,
        "customer_prior_lines": [_count(customer_state, "customer_prior_lines")] * n,
        "customer_prior_returns": [_count(customer_state, "customer_prior_returns")] * n,
        "customer_tenure_days": [max(np.nan_to_num(_days(order_ts, first_seen)), 0.0)] * n,
        "customer_days_since_last_order": [_days(order_ts, customer_state.get("last_order_ts")) if known else np.nan]
        * n,
        "customer_prior_contacts": [_count(customer_state, "customer_prior_contacts")] * n,
        "customer_segment": [segment if _present(segment) else "none"] * n,
        "product_prior_units": [_count(p, "product_prior_units") for p in products],
        "product_prior_returned_units": [_count(p, "product_prior_returned_units") for p in products],
        "product_prior_lines": [_count(p, "product_prior_lines") for p in products],
        "product_prior_returns": [_count(p, "product_prior_returns") for p in products],
        "product_usual_price": [
            float(p["product_usual_price"]) if p is not None and _present(p.get("product_usual_price")) else np.nan
            for p in products
        ],
        "category_prior_units": [_count(category_states.get(c), "category_prior_units") for c in categories],
        "category_prior_returned_units": [
            _count(category_states.get(c), "category_prior_returned_units") for c in categories
        ],
        "shop_prior_units": [_count(shop_state, "shop_prior_units")] * n,
        "shop_prior_returned_units": [_count(shop_state, "shop_prior_returned_units")] * n,
        "shop_prior_lines": [_count(shop_state, "shop_prior_lines")] * n,
        "shop_prior_returns": [_count(shop_state, "shop_prior_returns")] * n,
    }
    return pd.DataFrame(facts, columns=list(FACT_COLUMNS))


@dataclass(frozen=True)
class LineRisk:
    """One order line: its return probability and the features that move it most."""

    product_id: str
    return_probability: float
    top_factors: list[tuple[str, float]]


@dataclass(frozen=True)
class OrderRisk:
    """An order's lines and the order as a whole.

    ``expected_returned_lines`` is the sum of the line probabilities. The order's
    ``top_factors`` sum each feature's effect over the lines: how much that feature moves
    the expected number of returned lines.
    """

    model_version: str
    lines: list[LineRisk]
    expected_returned_lines: float
    max_line_probability: float
    top_factors: list[tuple[str, float]]


def score_orders(model: ReturnModel, orders: Sequence[pd.DataFrame], top: int = 3) -> list[OrderRisk]:
    """Calibrated return probability and top factors of every line of each order, and of each order.

    ``orders`` are the facts of each order (``order_facts``). They are scored together in one
    model call, whose fixed cost dominates for a few lines, so a batch costs little more
    than one order.
    """
    probabilities, effects = model.effects(build_features(pd.concat(orders, ignore_index=True)))
    risks, start = [], 0
    for facts in orders:
        end = start + len(facts)
        line_effects = effects[start:end]
        risks.append(
            OrderRisk(
                model_version=model.version,
                lines=[
                    LineRisk(str(product_id), float(probability), strongest(effect, top))
                    for product_id, probability, effect in zip(
                        facts["product_id"], probabilities[start:end], line_effects
                    )
                ],
                expected_returned_lines=float(probabilities[start:end].sum()),
                max_line_probability=float(probabilities[start:end].max()),
                top_factors=strongest(line_effects.sum(axis=0), top),
            )
        )
        start = end
    return risks


def _value(state: Mapping[str, Any] | None, name: str) -> Any:
    value = None if state is None else state.get(name)
    if not _present(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


def customer_profile(
    customer_id: str, customer_state: Mapping[str, Any] | None, shop_state: Mapping[str, Any]
) -> dict[str, Any]:
    """What the shop knows about a customer: segment, RFM, lifetime value and churn risk, expected return
    rate and counts.

    An unknown customer (``customer_state`` None) gets ``known: False``, segment 'none', zero
    counts and the shop's return rate. The expected return rate is the state's
    ``expected_return_rate`` when present, else the customer's unit return rate smoothed
    toward the shop's, as the return model sees it.
    """
    shop_units = _count(shop_state, "shop_prior_units")
    shop_rate = _count(shop_state, "shop_prior_returned_units") / shop_units if shop_units > 0 else 0.0
    units = _count(customer_state, "customer_prior_units")
    returned = _count(customer_state, "customer_prior_returned_units")
    expected = _value(customer_state, "expected_return_rate")
    if expected is None:
        expected = float(smoothed_rate(returned, units, shop_rate, SMOOTHING_UNITS))
    return {
        "customer_id": customer_id,
        "known": customer_state is not None,
        "segment": _value(customer_state, "customer_segment") or "none",
        "segment_id": _value(customer_state, "segment_id"),
        "rfm": {name: _value(customer_state, name) for name in RFM_COLUMNS},
        "value": {name: _value(customer_state, name) for name in VALUE_COLUMNS},
        "expected_return_rate": float(expected),
        "prior_orders": int(_count(customer_state, "customer_prior_orders")),
        "prior_units": int(units),
        "prior_returned_units": int(returned),
        "prior_contacts": int(_count(customer_state, "customer_prior_contacts")),
        "first_seen_ts": _value(customer_state, "first_seen_ts"),
        "last_order_ts": _value(customer_state, "last_order_ts"),
    }
