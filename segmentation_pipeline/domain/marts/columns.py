"""Every column of every mart, with its type and business meaning: the Dagster UI's column schemas and the data
dictionary (`docs/data-dictionary.md`) are both made from here, so they cannot disagree."""

from __future__ import annotations

from typing import NamedTuple

from segmentation_pipeline.domain.campaigns.targeting import UPLIFT_DECILE_COLUMNS as UPLIFT_DECILE


class Column(NamedTuple):
    type: str
    """DuckDB type, as `DESCRIBE` names it."""
    description: str


DAILY_KPIS = {
    "day": Column("DATE", "Calendar day the orders were placed (the day of an order's first line)."),
    "segment": Column("VARCHAR", "The ordering customers' segment on that day; `none` before their first segment."),
    "active_customers": Column("BIGINT", "Customers of the segment who ordered that day."),
    "orders": Column("BIGINT", "Orders placed that day."),
    "revenue": Column("DOUBLE", "Value of those orders net of discounts, before returns."),
    "units": Column("BIGINT", "Units bought in those orders."),
    "returned_units": Column(
        "BIGINT", "Units of those orders returned since (matched by order); still growing for the last 30 days."
    ),
    "repeat_orders": Column("BIGINT", "Orders by customers who had ordered before."),
}
SEGMENT_SIZES = {
    "day": Column("DATE", "Calendar day; sizes at the end of the day."),
    "segment": Column("VARCHAR", "Segment name (a segment no customer holds that day has no row)."),
    "customers": Column("BIGINT", "Customers holding the segment that day."),
}
KPI_ANOMALIES = {
    "day": Column("DATE", "Day the value belongs to."),
    "metric": Column(
        "VARCHAR",
        "Shop-wide `orders`, `revenue`, `active_customers`, `repeat_rate`, `return_rate`, or `segment_size:<segment>`.",
    ),
    "value": Column("DOUBLE", "The metric's value that day (rates as fractions)."),
    "expected": Column("DOUBLE", "Median of the same weekday in the previous weeks (8 by default)."),
    "low": Column("DOUBLE", "Lower end of the normal range: expected less the threshold (4) times the robust scale."),
    "high": Column("DOUBLE", "Upper end of the normal range: expected plus the threshold (4) times the robust scale."),
    "z": Column("DOUBLE", "(value - expected) / robust scale: how far out of line the day is."),
    "direction": Column("VARCHAR", "`high` or `low` for an anomaly, empty for a normal day."),
}
KPI_CHECKS = {
    **KPI_ANOMALIES,
    "is_anomaly": Column("BOOLEAN", "Outside [low, high], with at least 4 values of the weekday behind `expected`."),
    "history_weeks": Column("BIGINT", "Values of the same weekday behind `expected`."),
}
CUSTOMERS = {
    "customer_id": Column("VARCHAR", "Customer with at least one order."),
    "segment": Column("VARCHAR", "K-means segment on the latest segmented day; `none` when not segmented."),
    "segment_id": Column("BIGINT", "Segment id, stable across model refits; empty when not segmented."),
    "rfm_segment": Column("VARCHAR", "Named RFM segment (Champions, At Risk, ...)."),
    "r_score": Column("BIGINT", "Recency score, 1 (longest ago) to 5 (most recent)."),
    "f_score": Column("BIGINT", "Frequency score, 1 to 5."),
    "m_score": Column("BIGINT", "Monetary score, 1 to 5."),
    "recency_days": Column("DOUBLE", "Days from the last order to the end of the RFM day."),
    "frequency": Column("BIGINT", "Orders placed up to the RFM day."),
    "monetary_net": Column("DOUBLE", "Spend net of discounts up to the RFM day."),
    "expected_return_rate": Column(
        "DOUBLE", "Expected share of bought units that come back (return model, else own history smoothed)."
    ),
    "p_alive": Column("DOUBLE", "Probability the customer is still buying."),
    "clv": Column("DOUBLE", "Lifetime value: discounted expected margin over the CLV horizon."),
    "net_clv": Column("DOUBLE", "Lifetime value less the expected cost of returns."),
    "churn_probability": Column("DOUBLE", "Probability of no order within the churn horizon."),
    "churn_band": Column("VARCHAR", "Churn risk band: Low, Medium or High."),
    "next_best_action": Column("VARCHAR", "What to do next with the customer (docs/recommendations.md)."),
    "top_recommended_product": Column("VARCHAR", "First product of the customer's recommendation list, if any."),
    "first_seen_ts": Column("TIMESTAMP", "Sign-up or first order, whichever came first."),
    "last_order_ts": Column("TIMESTAMP", "When the latest order was placed."),
    "orders": Column("BIGINT", "Orders placed."),
    "units": Column("BIGINT", "Units bought."),
    "returned_units": Column("BIGINT", "Units returned."),
}
SEGMENTS = {
    "segment": Column("VARCHAR", "Segment name; `none` for customers not segmented."),
    "segment_id": Column("BIGINT", "Segment id, stable across model refits."),
    "customers": Column("BIGINT", "Customers (with an order) in the segment today."),
    "share_customers": Column("DOUBLE", "Share of all customers with an order."),
    "profiled_on": Column("DATE", "Day of the segment profile the profile columns come from."),
    "revenue_share": Column("DOUBLE", "Segment's share of net revenue to date (profile)."),
    "mean_recency_days": Column("DOUBLE", "Mean days since the last order (profile)."),
    "mean_frequency": Column("DOUBLE", "Mean orders per customer (profile)."),
    "mean_monetary_net": Column("DOUBLE", "Mean spend net of discounts (profile)."),
    "mean_avg_order_value": Column("DOUBLE", "Mean order value (profile)."),
    "mean_units_per_order": Column("DOUBLE", "Mean units per order (profile)."),
    "mean_discount_share": Column("DOUBLE", "Mean share of spend taken off by discounts (profile)."),
    "mean_unit_return_rate": Column("DOUBLE", "Mean of the customers' returned units per unit bought (profile)."),
    "mean_tenure_days": Column("DOUBLE", "Mean days since the customer was first seen (profile)."),
    "mean_category_breadth": Column("DOUBLE", "Mean number of categories bought from (profile)."),
    "mean_service_contacts": Column("DOUBLE", "Mean customer-service contacts (profile)."),
    "mean_campaign_responses": Column("DOUBLE", "Mean campaign responses (profile)."),
    "top_categories": Column("VARCHAR", "Categories with the largest share of the segment's net spend (profile)."),
    "recommended_action": Column("VARCHAR", "Marketing action of the segment playbook (profile)."),
    "mean_clv": Column("DOUBLE", "Mean lifetime value of the segment's customers."),
    "mean_net_clv": Column("DOUBLE", "Mean lifetime value net of expected returns."),
    "mean_churn_probability": Column("DOUBLE", "Mean churn probability."),
    "mean_expected_return_rate": Column("DOUBLE", "Mean expected return rate."),
}
PRODUCTS = {
    "product_id": Column("VARCHAR", "Product."),
    "category": Column("VARCHAR", "Product category; `unknown` when no order line names one."),
    "usual_price": Column("DOUBLE", "Mean unit price over its order lines."),
    "units_sold": Column("BIGINT", "Units bought."),
    "units_returned": Column("BIGINT", "Units returned."),
    "return_rate": Column("DOUBLE", "units_returned / units_sold; empty when none was sold."),
    "recommended_to_customers": Column("BIGINT", "Customers with the product on their recommendation list."),
    "mean_return_risk": Column(
        "DOUBLE", "Mean predicted return probability on those lists; empty without a return model in production."
    ),
}
CAMPAIGN_RESULTS = {
    "campaign_id": Column("VARCHAR", "Campaign."),
    "variant": Column("VARCHAR", "Offer variant compared with the campaign's control group."),
    "cut_type": Column("VARCHAR", "`all`, `segment` (segment the day before the message) or `rfm_segment`."),
    "cut": Column("VARCHAR", "`all`, or the segment the customers belonged to."),
    "metric": Column(
        "VARCHAR",
        "`conversion`, `revenue_per_customer`, `revenue_per_customer_cuped` (adjusted for pre-exposure spend) or "
        "`return_rate` (the guardrail).",
    ),
    "status": Column("VARCHAR", "`tested`, or why the cut was not tested (too small, no control group)."),
    "treated_customers": Column("BIGINT", "Customers sent the variant in the cut."),
    "control_customers": Column("BIGINT", "Control customers in the cut."),
    "treated_value": Column("DOUBLE", "The metric among customers sent the variant."),
    "control_value": Column("DOUBLE", "The metric among control customers."),
    "lift": Column("DOUBLE", "Variant minus control."),
    "lift_low": Column("DOUBLE", "Lower end of the lift's 95% interval."),
    "lift_high": Column("DOUBLE", "Upper end of the lift's 95% interval."),
    "relative_lift": Column("DOUBLE", "Variant over control, less 1."),
    "relative_lift_low": Column("DOUBLE", "Lower end of the relative lift's 95% interval."),
    "relative_lift_high": Column("DOUBLE", "Upper end of the relative lift's 95% interval."),
    "p_value": Column("DOUBLE", "Two-sided p-value of the lift."),
    "p_value_corrected": Column("DOUBLE", "p-value Holm-corrected across the campaign's segment cuts."),
    "mde": Column("DOUBLE", "Smallest lift the cut could detect at 80% power (two-sided 5%)."),
    "guardrail_breached": Column("BOOLEAN", "The variant raises the return rate beyond the guardrail's margin."),
    "is_recommended": Column("BOOLEAN", "The variant is the one recommended for the cut."),
    "recommendation": Column("VARCHAR", "Why the cut's variant was, or no variant was, recommended."),
}

MART_COLUMNS: dict[str, dict[str, Column]] = {
    "marts.daily_kpis": DAILY_KPIS,
    "marts.segment_sizes": SEGMENT_SIZES,
    "marts.kpi_anomalies": KPI_ANOMALIES,
    "marts.kpi_checks": KPI_CHECKS,
    "marts.customers": CUSTOMERS,
    "marts.segments": SEGMENTS,
    "marts.products": PRODUCTS,
    "marts.campaign_results": CAMPAIGN_RESULTS,
}
"""Mart table -> column -> type and meaning, in the order of the table's columns."""

MART_PURPOSES = {
    "marts.daily_kpis": "The shop's daily KPIs per segment: one row per day and segment with orders.",
    "marts.segment_sizes": "How many customers hold each segment, day by day.",
    "marts.kpi_anomalies": "Days a KPI was out of line with the same weekday of the previous weeks.",
    "marts.kpi_checks": "Every day of every KPI judged against its seasonal baseline, anomalous or not.",
    "marts.customers": "One row per customer who has ordered: segment, scores, value, risk and next best action.",
    "marts.segments": "One row per segment today: size, profile, value and risk.",
    "marts.products": "One row per product: sales, returns and its place on recommendation lists.",
    "marts.campaign_results": "One row per campaign, variant, cut and metric: lift, interval, p-values, verdict.",
}

AUDIENCE_COLUMNS = {
    name: CUSTOMERS[name]
    for name in (
        "customer_id",
        "segment",
        "churn_band",
        "churn_probability",
        "clv",
        "net_clv",
        "expected_return_rate",
        "next_best_action",
    )
}
"""Columns of every audience CSV."""
UPLIFT_AUDIENCE_COLUMNS = {
    **AUDIENCE_COLUMNS,
    "campaign_id": Column("VARCHAR", UPLIFT_DECILE["campaign_id"]),
    "variant": Column("VARCHAR", UPLIFT_DECILE["variant"]),
    "uplift": Column("DOUBLE", UPLIFT_DECILE["uplift"]),
    "uplift_decile": Column("BIGINT", UPLIFT_DECILE["uplift_decile"]),
}
"""Columns of the uplift-decile audience CSVs."""


def descriptions(columns: dict[str, Column]) -> dict[str, str]:
    """Column -> business meaning, as the Dagster UI's column schema shows it."""
    return {name: column.description for name, column in columns.items()}
