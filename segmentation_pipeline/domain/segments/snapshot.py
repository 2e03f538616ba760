"""Customer features "as of" the end of a day: what each column of the snapshot means.

The snapshot is computed in DuckDB (`sql/segments/customer_snapshot.sql`) from staged data
dated on or before the snapshot day only, so a feature never sees the future.
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
