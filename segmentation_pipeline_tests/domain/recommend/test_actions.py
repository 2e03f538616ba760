"""The next-best-action rules: each fires on its own customer, and the first that matches decides."""

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.recommend.actions import ACTION_RULES, next_best_actions
from segmentation_pipeline.domain.recommend.settings import ActionSettings

BASE = {
    "segment": "Loyal", "churn_band": "Medium", "clv": 100.0, "net_clv": 80.0, "expected_return_rate": 0.05,
    "customer_prior_units": 10, "customer_prior_returned_units": 0, "campaign_id": None, "top_product": None,
}  # fmt: skip
CUSTOMERS = {
    "loses money": {"net_clv": -5.0, "expected_return_rate": 0.9},
    "returns a lot": {"expected_return_rate": 0.4, "campaign_id": "CMP9"},
    "in the audience": {"campaign_id": "CMP9", "churn_band": "High", "clv": 500.0},
    "valuable and leaving": {"churn_band": "High", "clv": 500.0, "top_product": "P1"},
    "valuable and staying": {"churn_band": "Low", "clv": 900.0, "top_product": "P1"},
    "has a list": {"top_product": "P1"},
    "nothing to say": {},
    "not valued yet": {"clv": np.nan, "net_clv": np.nan, "churn_band": None, "expected_return_rate": np.nan},
}
FILLER = [{**BASE, "customer_id": f"f{i}", "clv": float(i)} for i in range(20)]


def test_each_rule_fires_for_its_customer_in_table_order():
    rows = [{**BASE, **changes, "customer_id": name} for name, changes in CUSTOMERS.items()] + FILLER
    actions = next_best_actions(pd.DataFrame(rows), 0.1, ActionSettings()).set_index("customer_id")["action"]
    assert actions["loses money"] == "no contact"
    assert actions["returns a lot"] == "size and fit advice"  # before the campaign offer
    assert actions["in the audience"] == "campaign offer"  # before the win-back offer
    assert actions["valuable and leaving"] == "win-back offer"
    assert actions["valuable and staying"] == "loyalty offer"
    assert actions["has a list"] == "recommend products"
    assert actions["nothing to say"] == "no contact"
    assert set(actions) <= {action for action, _ in ACTION_RULES}


def test_a_customer_without_a_value_skips_the_value_rules_and_gets_the_smoothed_return_rate():
    rows = [{**BASE, **CUSTOMERS["not valued yet"], "customer_id": "x", "customer_prior_units": 100,
             "customer_prior_returned_units": 80}] + FILLER  # fmt: skip
    actions = next_best_actions(pd.DataFrame(rows), 0.1, ActionSettings()).set_index("customer_id")
    assert actions.loc["x", "action"] == "size and fit advice"
    assert actions.loc["x", "expected_return_rate"] == (80 + 20 * 0.1) / (100 + 20)
