"""Customer features "as of" the end of a day: what each column of the snapshot means.

The warehouse stores each customer's state only on the days it changed
(`features.customer_history`, from `sql/segments/customer_history.sql`), computed from staged
data dated on or before that day only, so a feature never sees the future. A day's snapshot
is each customer's latest row on or before it, with recency and tenure counted to the end of
the day (the `snapshot_on(day)` macro of `sql/segments/history_tables.sql`).
"""

SNAPSHOT_COLUMNS: dict[str, str] = {
    "as_of_day": "The day the snapshot describes; every event up to the end of this day counts.",
    "customer_id": "Customer with at least one purchase on or before the snapshot day.",
    "recency_days": "Days from the last purchase to the end of the snapshot day.",
    "frequency": "Distinct orders placed.",
    "monetary_gross": "Money spent before discounts and returns: quantity x unit price over all lines.",
    "monetary_net": "Money kept: line value after discounts, minus refunds of returns registered so far.",
    "tenure_days": "Days from signup (or first purchase, whichever is earlier) to the end of the snapshot day.",
    "avg_order_value": "Line value after discounts per order (before returns).",
    "units_per_order": "Units bought per order.",
    "discount_share": "Share of the order lines bought with a discount.",
    "lines_bought": "Order lines bought.",
    "units_bought": "Units bought.",
    "purchase_days": "Days with at least one order (repeat purchases, as lifetime-value models count them, are "
    "these less one).",
    "repeat_spend": "Line value after discounts of the purchase days after the first (before returns).",
    "mean_days_between_orders": "Mean gap between consecutive orders in days; empty for one-order customers.",
    "return_rate_units": "Units returned / units bought (capped at 1).",
    "return_rate_value": "Money refunded / line value after discounts (capped at 1; 0 without sales).",
    "n_returns": "Returned lines registered.",
    "service_contacts": "Customer-service contacts.",
    "campaign_responses": "Campaign exposures that converted, counted once the attribution window has closed.",
    "category_breadth": "Distinct product categories bought.",
    "first_purchase_ts": "First purchase.",
    "last_purchase_ts": "Latest purchase.",
}

HISTORY_COLUMNS: dict[str, str] = {
    **{name: text for name, text in SNAPSHOT_COLUMNS.items() if name not in ("recency_days", "tenure_days")},
    "as_of_day": "First day the row holds: a day on which the customer ordered, returned, contacted customer "
    "service or responded to a campaign (the row holds until the customer's next row).",
    "first_seen_ts": "Signup or first purchase, whichever is earlier: tenure is counted from it.",
}
"""Columns of the customer history; recency and tenure are derived for each day from the timestamps."""
