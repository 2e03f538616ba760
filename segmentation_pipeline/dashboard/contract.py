"""What the dashboard shows: one pandas DataFrame per chart family, holding only aggregates and top-N rows.

Every frame may be empty; its charts then say "No data yet". A non-empty frame must carry the columns listed
below; other columns are ignored, except in `segments` and `customers`, where every further column is shown.
Rates are never sent as rates: each comes as a numerator and a denominator, so that the "All segments" view
can add segments up. Where a rate or probability is sent (profile and score columns, `return_risk`,
calibration), it is a fraction in [0, 1].

Kinds of column: a *day* is an ISO date (`YYYY-MM-DD`; a `date`, a `Timestamp` or a day `Period` works too),
a *month* is `YYYY-MM` (or a date, Timestamp or month Period), a *count* is a whole number, an *amount* is
any number (NaN is shown as missing), *text* is any value shown as its string.

daily_kpis
    day, segment, active_customers, orders, revenue, units, returned_units, repeat_orders: one row per day and
    segment. `active_customers` counts the segment's customers who ordered that day; `repeat_orders` counts
    orders by customers who had ordered before. Overview's KPI tiles compare the latest 30 days with the 30
    before; its trend lines show customers, orders, revenue, return rate (returned_units / units) and
    repeat-purchase rate (repeat_orders / orders).
anomalies
    day, metric, value, expected, low, high, direction: days the checks flagged, shop-wide. Listed on Overview
    and marked on the trend whose metric is named `active_customers`, `orders`, `revenue`, `return_rate` or
    `repeat_rate` (rates as fractions).
segments
    segment, customers, then any numeric profile columns (recency_days, frequency, monetary_net, return_rate,
    clv, ...): one row per segment; sets the order of segments (largest first) in every chart.
rfm_cells
    segment, r_score (1-5), f_score (1-5), customers: customers per recency x frequency cell.
cluster_points
    segment, x, y: a 2-D projection of a sample of customers (at most 5,000 points).
returns_by
    segment, dimension ('category', 'price_band' or 'month'), value (text; a month as YYYY-MM), units,
    returned_units. Each dimension splits the same units; the by-segment bar uses the first dimension present
    in the order category, price band, month. Price bands are shown in the order of their first row.
return_factors
    feature, importance: what drives the return-risk model.
return_calibration
    predicted (mean predicted probability of a bin), observed (observed return share), lines (order lines in
    the bin).
return_metrics
    name, model, value: e.g. ROC AUC of the model and of its baseline, shown as one row per name.
value_bands
    segment, churn_band ('Low', 'Medium', 'High'), customers, clv, net_clv (sums over the band's customers).
campaign_lifts
    campaign_id, variant, cut ('overall' or a segment name), lift, low, high (its interval), p_adjusted,
    recommended (bool).
cohorts
    cohort (month), months_since (count), segment, customers (of the cohort active that month), cohort_size
    (the cohort's customers in that segment); retention is customers / cohort_size, both summed over segments.
transitions
    from_segment, to_segment, customers: moves between the previous and the latest segmentation.
actions
    segment, action, customers: next best actions.
recommended_products
    segment, product_id, category, customers (of the segment with the product in their top 10), return_risk
    (mean predicted return probability).
customers
    customer_id, segment, then any score columns (rfm_segment, clv, net_clv, churn_probability, churn_band,
    expected_return_rate, next_best_action, orders, revenue, recommendations, ...): each segment's top
    customers only (a few hundred per segment at most). Columns whose name ends in rate, probability, risk or
    share are shown as percentages.
customer_months
    customer_id, month, orders, revenue, returned_units: the monthly history of the customers above.
    Customer ids are matched as text across both frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

TEXT = "text"
DAY = "day"
MONTH = "month"
COUNT = "count"
AMOUNT = "amount"
FLAG = "flag"

FRAME_COLUMNS: dict[str, dict[str, str]] = {
    "daily_kpis": {
        "day": DAY,
        "segment": TEXT,
        "active_customers": COUNT,
        "orders": COUNT,
        "revenue": AMOUNT,
        "units": COUNT,
        "returned_units": COUNT,
        "repeat_orders": COUNT,
    },
    "anomalies": {
        "day": DAY,
        "metric": TEXT,
        "value": AMOUNT,
        "expected": AMOUNT,
        "low": AMOUNT,
        "high": AMOUNT,
        "direction": TEXT,
    },
    "segments": {"segment": TEXT, "customers": COUNT},
    "rfm_cells": {"segment": TEXT, "r_score": COUNT, "f_score": COUNT, "customers": COUNT},
    "cluster_points": {"segment": TEXT, "x": AMOUNT, "y": AMOUNT},
    "returns_by": {"segment": TEXT, "dimension": TEXT, "value": TEXT, "units": COUNT, "returned_units": COUNT},
    "return_factors": {"feature": TEXT, "importance": AMOUNT},
    "return_calibration": {"predicted": AMOUNT, "observed": AMOUNT, "lines": COUNT},
    "return_metrics": {"name": TEXT, "model": TEXT, "value": AMOUNT},
    "value_bands": {"segment": TEXT, "churn_band": TEXT, "customers": COUNT, "clv": AMOUNT, "net_clv": AMOUNT},
    "campaign_lifts": {
        "campaign_id": TEXT,
        "variant": TEXT,
        "cut": TEXT,
        "lift": AMOUNT,
        "low": AMOUNT,
        "high": AMOUNT,
        "p_adjusted": AMOUNT,
        "recommended": FLAG,
    },
    "cohorts": {"cohort": MONTH, "months_since": COUNT, "segment": TEXT, "customers": COUNT, "cohort_size": COUNT},
    "transitions": {"from_segment": TEXT, "to_segment": TEXT, "customers": COUNT},
    "actions": {"segment": TEXT, "action": TEXT, "customers": COUNT},
    "recommended_products": {
        "segment": TEXT,
        "product_id": TEXT,
        "category": TEXT,
        "customers": COUNT,
        "return_risk": AMOUNT,
    },
    "customers": {"customer_id": TEXT, "segment": TEXT},
    "customer_months": {
        "customer_id": TEXT,
        "month": MONTH,
        "orders": COUNT,
        "revenue": AMOUNT,
        "returned_units": COUNT,
    },
}
"""The columns each frame must carry, with their kind."""

FRAMES_WITH_OPEN_COLUMNS = frozenset({"segments", "customers"})
"""Frames whose further columns are shown too (profile and score columns)."""


def _empty() -> pd.DataFrame:
    return pd.DataFrame()


@dataclass(frozen=True)
class DashboardData:
    """Everything one dashboard shows: a title (the shop), the day the data runs to, and one frame per chart family.

    Frames left out are empty. The columns of each frame are listed in this module's docstring."""

    title: str
    as_of: str
    daily_kpis: pd.DataFrame = field(default_factory=_empty)
    anomalies: pd.DataFrame = field(default_factory=_empty)
    segments: pd.DataFrame = field(default_factory=_empty)
    rfm_cells: pd.DataFrame = field(default_factory=_empty)
    cluster_points: pd.DataFrame = field(default_factory=_empty)
    returns_by: pd.DataFrame = field(default_factory=_empty)
    return_factors: pd.DataFrame = field(default_factory=_empty)
    return_calibration: pd.DataFrame = field(default_factory=_empty)
    return_metrics: pd.DataFrame = field(default_factory=_empty)
    value_bands: pd.DataFrame = field(default_factory=_empty)
    campaign_lifts: pd.DataFrame = field(default_factory=_empty)
    cohorts: pd.DataFrame = field(default_factory=_empty)
    transitions: pd.DataFrame = field(default_factory=_empty)
    actions: pd.DataFrame = field(default_factory=_empty)
    recommended_products: pd.DataFrame = field(default_factory=_empty)
    customers: pd.DataFrame = field(default_factory=_empty)
    customer_months: pd.DataFrame = field(default_factory=_empty)


def table_payload(name: str, frame: pd.DataFrame) -> dict:
    """A frame as the page reads it: column names, their kinds and the rows as lists of JSON values.

    Raises ValueError when a non-empty frame lacks a required column or a count is not a whole number."""
    required = FRAME_COLUMNS[name]
    missing = [column for column in required if column not in frame.columns]
    if missing and not frame.empty:
        raise ValueError(f"dashboard frame {name!r} lacks the columns {missing}")
    kinds = dict(required)
    if name in FRAMES_WITH_OPEN_COLUMNS:
        kinds |= {str(column): _inferred_kind(frame[column]) for column in frame.columns if column not in required}
    rows: list[list] = []
    if not frame.empty:
        frame = frame.rename(columns=str)
        columns = [_cells(name, column, frame[column], kind) for column, kind in kinds.items()]
        rows = [list(row) for row in zip(*columns, strict=True)]
    return {"columns": list(kinds), "kinds": list(kinds.values()), "rows": rows}


def _inferred_kind(series: pd.Series) -> str:
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    if inferred == "boolean":
        return FLAG
    if inferred in {"integer", "floating", "mixed-integer-float", "decimal"}:
        return AMOUNT
    return TEXT


def _cells(frame_name: str, column: str, series: pd.Series, kind: str) -> list:
    convert = _CONVERTERS[kind]
    try:
        return [None if pd.isna(value) else convert(value) for value in series.tolist()]
    except ValueError as error:
        raise ValueError(f"dashboard frame {frame_name!r}, column {column!r}: {error}") from error


def _count(value) -> int:
    number = float(value)
    if not number.is_integer():
        raise ValueError(f"{value!r} is not a whole number")
    return int(number)


def _amount(value) -> float | None:
    number = float(value)
    return float(f"{number:.10g}") if math.isfinite(number) else None


_CONVERTERS = {
    TEXT: str,
    DAY: lambda value: str(value)[:10],
    MONTH: lambda value: str(value)[:7],
    COUNT: _count,
    AMOUNT: _amount,
    FLAG: bool,
}
