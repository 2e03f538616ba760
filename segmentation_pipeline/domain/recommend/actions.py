"""The next best action per customer: one rule table over segment, churn risk, lifetime value, return
habit, campaign uplift and recommendations; the first rule a customer meets decides.

| order | action | when |
|---|---|---|
| 1 | no contact | net CLV is 0 or less: returns cost more than the customer brings |
| 2 | size and fit advice | expected return rate at or above `high_return_rate` |
| 3 | campaign offer | in the latest campaign's uplift audience (its offer changes what they do) |
| 4 | win-back offer | churn band High and CLV at or above the shop's median CLV |
| 5 | loyalty offer | churn band Low and CLV in the top `top_value_share` of the shop |
| 6 | recommend products | has a recommendation list |
| 7 | no contact | none of the above |

A customer without a lifetime value (not valued yet) skips the rules that need it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.recommend.settings import ActionSettings
from segmentation_pipeline.domain.returns.features import SMOOTHING_UNITS, smoothed_rate

ACTION_RULES: tuple[tuple[str, str], ...] = (
    ("no contact", "net CLV is 0 or less: returns cost more than the customer brings"),
    ("size and fit advice", "expected return rate at or above the threshold"),
    ("campaign offer", "in the latest campaign's uplift audience"),
    ("win-back offer", "churn band High and CLV at or above the shop's median"),
    ("loyalty offer", "churn band Low and CLV in the shop's top share"),
    ("recommend products", "has a recommendation list"),
    ("no contact", "nothing worth saying"),
)
"""(action, when) in the order they are tried."""

ACTION_COLUMNS = {
    "customer_id": "Customer.",
    "action": "The next best action: the first rule of the table the customer meets.",
    "rule": "The rule that decided it.",
    "segment": "The customer's segment.",
    "churn_band": "Churn risk band (Low, Medium, High).",
    "clv": "Expected margin over the CLV horizon.",
    "net_clv": "CLV less the expected cost of returns.",
    "expected_return_rate": "Expected share of units the customer sends back.",
    "campaign_id": "The latest campaign, when the customer is in its uplift audience.",
    "top_product": "The first product of the customer's recommendation list, if any.",
}


def expected_return_rates(customers: pd.DataFrame, shop_rate: float) -> np.ndarray:
    """The state's expected return rate, else the customer's unit return rate smoothed toward the shop's."""
    smoothed = smoothed_rate(
        customers["customer_prior_returned_units"].fillna(0),
        customers["customer_prior_units"].fillna(0),
        shop_rate,
        SMOOTHING_UNITS,
    )
    return customers["expected_return_rate"].fillna(pd.Series(smoothed, index=customers.index)).to_numpy(float)


def next_best_actions(customers: pd.DataFrame, shop_rate: float, settings: ActionSettings) -> pd.DataFrame:
    """One action per customer of ``customers`` (customer_id, segment, churn_band, clv, net_clv,
    expected_return_rate, customer_prior_units, customer_prior_returned_units, campaign_id, top_product),
    with the rule that decided it."""
    rate = expected_return_rates(customers, shop_rate)
    clv = customers["clv"].to_numpy(float)
    valued = np.isfinite(clv)
    median = np.nanmedian(clv) if valued.any() else np.inf
    top = np.nanquantile(clv, 1 - settings.top_value_share) if valued.any() else np.inf
    band = customers["churn_band"].astype(object).to_numpy()
    conditions = [
        valued & (customers["net_clv"].to_numpy(float) <= 0),
        rate >= settings.high_return_rate,
        customers["campaign_id"].notna().to_numpy(),
        valued & (band == "High") & (clv >= median),
        valued & (band == "Low") & (clv >= top),
        customers["top_product"].notna().to_numpy(),
        np.ones(len(customers), dtype=bool),
    ]
    decided = np.argmax(np.vstack(conditions), axis=0)
    actions = np.array([action for action, _ in ACTION_RULES], dtype=object)
    rules = np.array([f"{i + 1}. {when}" for i, (_, when) in enumerate(ACTION_RULES)], dtype=object)
    frame = customers.assign(action=actions[decided], rule=rules[decided], expected_return_rate=rate)
    return frame[list(ACTION_COLUMNS)].reset_index(drop=True)
