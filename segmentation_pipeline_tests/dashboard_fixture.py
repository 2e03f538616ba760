"""A made-up shop's dashboard data: every frame filled, from seeded randomness, in the shapes the pipeline sends."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from segmentation_pipeline.dashboard import DashboardData

SEGMENT_NAMES = (
    "Champions",
    "Loyal customers",
    "Potential loyalists",
    "At risk",
    "Hibernating",
    "New customers",
    "Bargain hunters",
)
CATEGORIES = ("Dresses", "Shoes", "Knitwear", "Accessories", "Home")
PRICE_BANDS = ("under 10", "10-25", "25-50", "50-100", "over 100")
ACTIONS = ("Loyalty reward", "Win-back offer", "Cross-sell", "Size advice", "No action")
AS_OF = date(2024, 6, 30)


def dashboard_data(
    segments: int = 3, customers_per_segment: int = 100, days: int = 120, seed: int = 7
) -> DashboardData:
    """A dashboard for `segments` segments of `customers_per_segment` top customers over `days` days to AS_OF."""
    rng = np.random.default_rng(seed)
    names = list(SEGMENT_NAMES[:segments])
    customers = _customers(rng, names, customers_per_segment)
    daily = _daily_kpis(rng, names, days)
    return DashboardData(
        title="Northwind Apparel",
        as_of=AS_OF.isoformat(),
        daily_kpis=daily,
        anomalies=_anomalies(daily),
        segments=_segments(rng, names, customers),
        rfm_cells=_rfm_cells(rng, names),
        cluster_points=_cluster_points(rng, names, customers_per_segment),
        returns_by=_returns_by(rng, names),
        return_factors=pd.DataFrame(
            {
                "feature": ["size_variance", "price", "category_return_rate", "customer_return_rate", "discount"],
                "importance": [0.31, 0.22, 0.19, 0.17, 0.11],
            }
        ),
        return_calibration=_calibration(rng),
        return_metrics=pd.DataFrame(
            {
                "name": ["roc_auc", "roc_auc", "brier_score", "brier_score"],
                "model": ["model", "baseline", "model", "baseline"],
                "value": [0.78, 0.61, 0.142, 0.171],
            }
        ),
        value_bands=_value_bands(rng, names),
        campaign_lifts=_campaign_lifts(rng, names),
        cohorts=_cohorts(rng, names),
        transitions=pd.DataFrame(
            [
                {"from_segment": source, "to_segment": target, "customers": int(rng.integers(5, 200))}
                for source in names
                for target in names
            ]
        ),
        actions=pd.DataFrame(
            [
                {"segment": name, "action": action, "customers": int(rng.integers(10, 400))}
                for name in names
                for action in rng.choice(ACTIONS, size=3, replace=False)
            ]
        ),
        recommended_products=pd.DataFrame(
            [
                {
                    "segment": name,
                    "product_id": f"P{product:04d}",
                    "category": CATEGORIES[product % len(CATEGORIES)],
                    "customers": int(rng.integers(5, 150)),
                    "return_risk": round(float(rng.uniform(0.05, 0.4)), 3),
                }
                for name in names
                for product in rng.choice(60, size=10, replace=False)
            ]
        ),
        customers=customers,
        customer_months=_customer_months(rng, customers["customer_id"]),
    )


def _customers(rng: np.random.Generator, names: list[str], per_segment: int) -> pd.DataFrame:
    count = len(names) * per_segment
    clv = rng.gamma(2.0, 150.0, count).round(2)
    return pd.DataFrame(
        {
            "customer_id": [f"C{number:05d}" for number in range(1, count + 1)],
            "segment": np.repeat(names, per_segment),
            "rfm_segment": rng.choice(["555", "454", "344", "233", "121"], count),
            "clv": clv,
            "net_clv": (clv * rng.uniform(0.7, 0.95, count)).round(2),
            "churn_probability": rng.uniform(0, 1, count).round(3),
            "churn_band": rng.choice(["Low", "Medium", "High"], count),
            "expected_return_rate": rng.uniform(0.02, 0.45, count).round(3),
            "next_best_action": rng.choice(ACTIONS, count),
            "orders": rng.integers(1, 40, count),
            "revenue": rng.gamma(2.0, 200.0, count).round(2),
            "recommendations": [", ".join(f"P{p:04d}" for p in rng.choice(60, 3, replace=False)) for _ in range(count)],
        }
    )


def _daily_kpis(rng: np.random.Generator, names: list[str], days: int) -> pd.DataFrame:
    rows = []
    for index, name in enumerate(names):
        base = 40 + 25 * index
        for offset in range(days):
            day = AS_OF - timedelta(days=days - 1 - offset)
            active = int(rng.poisson(base * (1.15 if day.weekday() >= 5 else 1.0)))
            orders = active + int(rng.poisson(active * 0.1))
            units = orders * 2 + int(rng.poisson(orders * 0.5))
            rows.append(
                {
                    "day": day.isoformat(),
                    "segment": name,
                    "active_customers": active,
                    "orders": orders,
                    "revenue": round(float(orders * rng.gamma(6.0, 9.0)), 2),
                    "units": units,
                    "returned_units": int(rng.binomial(units, 0.12 + 0.03 * index)),
                    "repeat_orders": int(rng.binomial(orders, 0.4 + 0.1 * index)),
                }
            )
    return pd.DataFrame(rows)


def _anomalies(daily: pd.DataFrame) -> pd.DataFrame:
    """Three flagged days: two on metrics with a trend chart, one (checked on order lines) listed only."""
    totals = daily.groupby("day")[["orders", "units", "returned_units"]].sum()
    series = {
        "orders": totals["orders"],
        "return_rate": totals["returned_units"] / totals["units"],
        "returned lines per order line": totals["returned_units"] / totals["units"] * 1.1,
    }
    flagged = [(metric, totals.index[-position]) for metric, position in zip(series, (20, 45, 5), strict=True)]
    return pd.DataFrame(
        [
            {
                "day": day,
                "metric": metric,
                "value": float(series[metric][day]),
                "expected": float(series[metric][day]) * 0.8,
                "low": float(series[metric][day]) * 0.6,
                "high": float(series[metric][day]) * 0.95,
                "direction": "above",
            }
            for metric, day in flagged
        ]
    )


def _segments(rng: np.random.Generator, names: list[str], customers: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment": names,
            "customers": rng.integers(500, 5000, len(names)),
            "recency_days": rng.uniform(5, 200, len(names)).round(1),
            "frequency": rng.uniform(1, 12, len(names)).round(2),
            "monetary_net": rng.uniform(50, 2000, len(names)).round(2),
            "return_rate": rng.uniform(0.05, 0.35, len(names)).round(3),
            "clv": customers.groupby("segment", sort=False)["clv"].mean().round(2).to_numpy(),
        }
    )


def _rfm_cells(rng: np.random.Generator, names: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"segment": name, "r_score": r, "f_score": f, "customers": int(rng.integers(0, 300))}
            for name in names
            for r in range(1, 6)
            for f in range(1, 6)
        ]
    )


def _cluster_points(rng: np.random.Generator, names: list[str], per_segment: int) -> pd.DataFrame:
    centres = rng.normal(0, 4, (len(names), 2))
    return pd.DataFrame(
        {
            "segment": np.repeat(names, per_segment),
            "x": (np.repeat(centres[:, 0], per_segment) + rng.normal(0, 1, len(names) * per_segment)).round(4),
            "y": (np.repeat(centres[:, 1], per_segment) + rng.normal(0, 1, len(names) * per_segment)).round(4),
        }
    )


def _returns_by(rng: np.random.Generator, names: list[str]) -> pd.DataFrame:
    months = [f"2024-{month:02d}" for month in range(1, 7)]
    rows = []
    for name in names:
        for dimension, values in (("category", CATEGORIES), ("price_band", PRICE_BANDS), ("month", months)):
            for value in values:
                units = int(rng.integers(200, 2000))
                rows.append(
                    {
                        "segment": name,
                        "dimension": dimension,
                        "value": value,
                        "units": units,
                        "returned_units": int(rng.binomial(units, rng.uniform(0.05, 0.35))),
                    }
                )
    return pd.DataFrame(rows)


def _calibration(rng: np.random.Generator) -> pd.DataFrame:
    predicted = np.linspace(0.05, 0.65, 10)
    return pd.DataFrame(
        {
            "predicted": predicted.round(3),
            "observed": np.clip(predicted + rng.normal(0, 0.03, 10), 0, 1).round(3),
            "lines": rng.integers(50, 3000, 10),
        }
    )


def _value_bands(rng: np.random.Generator, names: list[str]) -> pd.DataFrame:
    rows = []
    for name in names:
        for band in ("Low", "Medium", "High"):
            customers = int(rng.integers(50, 2000))
            clv = customers * float(rng.uniform(80, 600))
            rows.append(
                {
                    "segment": name,
                    "churn_band": band,
                    "customers": customers,
                    "clv": round(clv, 2),
                    "net_clv": round(clv * 0.85, 2),
                }
            )
    return pd.DataFrame(rows)


def _campaign_lifts(rng: np.random.Generator, names: list[str]) -> pd.DataFrame:
    rows = []
    for campaign in ("SPRING-EMAIL", "FREE-RETURNS"):
        for variant in ("discount_10", "free_shipping", "reminder"):
            for cut in ["overall", *names]:
                lift = float(rng.normal(0.02, 0.03))
                width = float(rng.uniform(0.01, 0.04))
                rows.append(
                    {
                        "campaign_id": campaign,
                        "variant": variant,
                        "cut": cut,
                        "lift": round(lift, 4),
                        "low": round(lift - width, 4),
                        "high": round(lift + width, 4),
                        "p_adjusted": round(float(rng.uniform(0, 0.5)), 4),
                        "recommended": lift - width > 0,
                    }
                )
    return pd.DataFrame(rows)


def _cohorts(rng: np.random.Generator, names: list[str]) -> pd.DataFrame:
    rows = []
    for cohort_month in range(1, 7):
        for name in names:
            size = int(rng.integers(50, 400))
            for months_since in range(7 - cohort_month):
                share = 1.0 if months_since == 0 else float(rng.uniform(0.1, 0.5)) / months_since**0.5
                rows.append(
                    {
                        "cohort": f"2024-{cohort_month:02d}",
                        "months_since": months_since,
                        "segment": name,
                        "customers": round(size * share),
                        "cohort_size": size,
                    }
                )
    return pd.DataFrame(rows)


def _customer_months(rng: np.random.Generator, customer_ids: pd.Series) -> pd.DataFrame:
    months = [f"2024-{month:02d}" for month in range(1, 7)]
    rows = []
    for customer_id in customer_ids:
        for month in months:
            orders = int(rng.poisson(1.2))
            if orders:
                rows.append(
                    {
                        "customer_id": customer_id,
                        "month": month,
                        "orders": orders,
                        "revenue": round(float(orders * rng.gamma(3.0, 25.0)), 2),
                        "returned_units": int(rng.binomial(orders * 2, 0.15)),
                    }
                )
    return pd.DataFrame(rows)
