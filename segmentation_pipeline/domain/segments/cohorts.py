"""Acquisition cohorts: how customers won in the same month keep buying over time.

A customer's cohort is the calendar month of their first purchase. For each cohort
and each month since that first purchase (0 = the acquisition month itself) we
report the share of the cohort that bought again (retention) and the net revenue
per cohort member. The inputs may be order lines or already one row per order: a
customer counts once per month however many rows they have, and revenue is the sum
of ``net_amount``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = ("customer_id", "order_ts", "net_amount")
COHORT_RETENTION_COLUMNS = {"cohort_month": "Month of the cohort's first purchase (its first day)."}
"""The retention table's columns beside one per month since the first purchase (see ``cohort_retention_columns``)."""


@dataclass(frozen=True)
class Cohorts:
    """Cohort tables, indexed by acquisition month (first day of the month).

    ``first_purchase`` has one row per customer with their ``cohort_month``.
    ``customers`` is the number of customers acquired in each month.
    ``retention`` and ``revenue_per_customer`` have one column per month since the
    first purchase (0, 1, 2, ...): the share of the cohort buying in that month and
    the cohort's net revenue in that month divided by the cohort size. Months after
    the last month with any order are not observed yet and are NaN, not 0.
    """

    first_purchase: pd.DataFrame
    customers: pd.Series
    retention: pd.DataFrame
    revenue_per_customer: pd.DataFrame


def _month_number(ts: pd.Series) -> pd.Series:
    """Calendar month as a running number (year * 12 + month - 1), so months subtract."""
    return ts.dt.year * 12 + ts.dt.month - 1


def _month_start(numbers: pd.Series | pd.Index) -> pd.DatetimeIndex:
    """First day of the month for each running month number."""
    values = np.asarray(numbers, dtype="int64")
    return pd.DatetimeIndex(pd.to_datetime(pd.DataFrame({"year": values // 12, "month": values % 12 + 1, "day": 1})))


def cohort_matrices(orders: pd.DataFrame) -> Cohorts:
    """Cohort sizes, retention and revenue per customer from order lines or orders.

    ``orders`` needs ``customer_id``, ``order_ts`` and ``net_amount``. The observed
    horizon ends with the month of the latest order in ``orders``; later months of a
    cohort are NaN, while observed months without purchases are 0.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in orders.columns]
    if missing:
        raise ValueError(f"orders table lacks columns {missing}")
    if orders.empty:
        raise ValueError("cannot build cohorts without orders")
    month = _month_number(pd.to_datetime(orders["order_ts"]))
    last_month = month.max()
    cohort = month.groupby(orders["customer_id"]).transform("min")
    by_month = orders.groupby([cohort.rename("cohort"), (month - cohort).rename("age")])
    active = by_month["customer_id"].nunique().unstack("age", fill_value=0)
    revenue = by_month["net_amount"].sum().unstack("age", fill_value=0.0)
    customers = active[0]
    ages = range(int(last_month - customers.index.min()) + 1)
    unobserved = np.add.outer(customers.index.to_numpy(), np.asarray(ages)) > last_month

    cohort_months = _month_start(customers.index).rename("cohort_month")

    def per_member(totals: pd.DataFrame) -> pd.DataFrame:
        shares = totals.reindex(columns=ages, fill_value=0).div(customers, axis=0).astype("float64")
        return shares.mask(unobserved).set_axis(cohort_months).rename_axis(columns="months_since_first")

    first_purchase = cohort.groupby(orders["customer_id"]).first()
    return Cohorts(
        first_purchase=pd.DataFrame(
            {"customer_id": first_purchase.index, "cohort_month": _month_start(first_purchase)}
        ),
        customers=customers.set_axis(cohort_months).rename("customers").astype("int64"),
        retention=per_member(active),
        revenue_per_customer=per_member(revenue),
    )


def segment_mix(first_purchase: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """Share of each segment within each acquisition cohort; each row sums to 1.

    ``first_purchase`` has ``customer_id`` and ``cohort_month``; ``segments`` has
    ``customer_id`` and ``segment`` (one row per customer). Customers without a
    segment are left out of the shares. Rows are cohorts, columns segments sorted by
    name.
    """
    if segments["customer_id"].duplicated().any():
        raise ValueError("segments must hold one row per customer_id")
    joined = first_purchase[["customer_id", "cohort_month"]].merge(
        segments[["customer_id", "segment"]], on="customer_id", how="inner"
    )
    mix = pd.crosstab(joined["cohort_month"], joined["segment"], normalize="index")
    return mix.sort_index(axis=1).rename_axis(index="cohort_month", columns="segment")


def cohort_retention_columns(columns: Iterable[str]) -> dict[str, str]:
    """The meaning of each column of the retention table of ``cohort_tables``: a column ``m<n>`` is the share
    of the cohort buying in month n since its first purchase."""
    return {
        c: COHORT_RETENTION_COLUMNS.get(
            c,
            f"Share of the cohort that bought in month {c.removeprefix('m')} since its first purchase "
            "(month 0: the month of the first purchase); empty until that month is observed.",
        )
        for c in columns
    }


def cohort_tables(orders: pd.DataFrame, segments: pd.DataFrame) -> tuple[Cohorts, dict[str, pd.DataFrame]]:
    """The cohorts of ``orders`` and their tables for the warehouse (``retention``,
    ``revenue_per_customer``, ``segment_mix``), one row per cohort and one column per month
    since acquisition (``m0``, ``m1``, ...) or per segment."""
    cohorts = cohort_matrices(orders)
    frames = {
        "retention": cohorts.retention,
        "revenue_per_customer": cohorts.revenue_per_customer,
        "segment_mix": segment_mix(cohorts.first_purchase, segments),
    }
    tables = {}
    for name, frame in frames.items():
        wide = frame.copy()
        wide.columns = [f"m{c}" if not isinstance(c, str) else c for c in wide.columns]
        tables[name] = wide.reset_index()
    return cohorts, tables
