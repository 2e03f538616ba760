"""What a customer is worth: lifetime value by hand, net of returns, and the expected return rate's source."""

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.domain.clv import bgnbd
from segmentation_pipeline.domain.clv.settings import ChurnSettings, ClvSettings
from segmentation_pipeline.domain.clv.value import (
    MONTH_DAYS,
    customer_values,
    expected_return_rates,
    score_customers,
)

PURCHASES = [0.25, 4.0, 0.8, 2.5]
SPEND = [6.0, 4.0, 15.0]
CUSTOMERS = pd.DataFrame(
    {
        "customer_id": ["lapsed", "loyal", "new"],
        "x": [3.0, 3.0, 0.0],
        "t_x": [5.0, 50.0, 0.0],
        "T": [52.0, 52.0, 2.0],
        "m": [40.0, 40.0, np.nan],
    }
)


def test_undiscounted_value_is_margin_times_spend_times_expected_purchases():
    settings = ClvSettings(annual_discount_rate=0.0, horizon_months=12, margin=0.25)
    values = customer_values(bgnbd, PURCHASES, SPEND, CUSTOMERS, np.zeros(3), settings)

    x, t_x, T = (CUSTOMERS[c].to_numpy() for c in ("x", "t_x", "T"))
    year = bgnbd.expected_purchases(PURCHASES, 12 * MONTH_DAYS / 7, x, t_x, T)
    assert values["clv"].to_numpy() == pytest.approx(0.25 * values["expected_spend"].to_numpy() * year)
    assert values["net_clv"].to_numpy() == pytest.approx(values["clv"].to_numpy())
    assert values["expected_spend"].iloc[2] == pytest.approx(6.0 * 15.0 / 3.0)  # no repeat: the population mean


def test_discounting_and_returns_lower_value_and_net_value_never_exceeds_value():
    plain = customer_values(bgnbd, PURCHASES, SPEND, CUSTOMERS, np.zeros(3), ClvSettings(annual_discount_rate=0.0))
    settings = ClvSettings(annual_discount_rate=0.2, margin=0.3, return_cost_share=0.1)
    rate = np.array([0.5, 0.1, 1.0])
    values = customer_values(bgnbd, PURCHASES, SPEND, CUSTOMERS, rate, settings)

    assert (values["clv"] < plain["clv"]).all()
    assert (values["net_clv"] <= values["clv"]).all()
    # all returned: the margin is lost and each unit costs 10% of its price to handle
    assert values["net_clv"].iloc[2] == pytest.approx(-values["clv"].iloc[2] * 0.1 / 0.3)
    assert values["net_clv"].iloc[1] == pytest.approx(values["clv"].iloc[1] * (1 - 0.1 * (0.3 + 0.1) / 0.3))
    assert values.loc[1, "p_alive"] > values.loc[0, "p_alive"]  # the loyal customer bought recently
    assert values.loc[1, "clv"] > values.loc[0, "clv"]


def test_the_return_model_rate_is_used_where_present_else_the_smoothed_history():
    customers = pd.DataFrame(
        {"model_return_rate": [0.4, np.nan, np.nan], "return_rate_units": [0.9, 1.0, 0.0], "units_bought": [10, 20, 20]}
    )
    rate, source = expected_return_rates(customers)

    shop = (9 + 20 + 0) / 50
    assert rate[0] == 0.4 and source[0] == "return model"
    assert rate[1] == pytest.approx((20 + 20 * shop) / 40) and source[1] == "history"
    assert rate[2] == pytest.approx(20 * shop / 40)


def test_without_a_churn_model_churn_is_the_chance_of_no_expected_purchase_and_banded():
    customers = CUSTOMERS.assign(model_return_rate=np.nan, return_rate_units=0.0, units_bought=5)
    scored = score_customers(customers, "bg_nbd", PURCHASES, SPEND, None, ClvSettings(), ChurnSettings())

    assert list(scored["customer_id"]) == ["lapsed", "loyal", "new"]
    x, t_x, T = (CUSTOMERS[c].to_numpy() for c in ("x", "t_x", "T"))
    in_horizon = bgnbd.expected_purchases(PURCHASES, 90 / 7, x, t_x, T)
    assert scored["churn_probability"].to_numpy() == pytest.approx(np.exp(-in_horizon))
    assert set(scored["churn_source"]) == {"exp(-expected purchases)"}
    assert list(scored["churn_band"]) == ["High", "Medium", "High"]
