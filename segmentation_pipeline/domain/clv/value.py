"""What a customer is worth: expected purchases and spend, discounted lifetime value, and value net of returns.

Lifetime value counts ``horizon_months`` of expected purchases, month by month, each month's expected
purchases times the expected spend per purchase times the margin, discounted at the annual rate.
Net lifetime value also subtracts what the customer's returns are expected to cost: a returned unit
refunds its price (its margin is lost) and costs ``return_cost_share`` of its price to handle, so

    net CLV = CLV - discounted spend x expected return rate x (margin + return_cost_share).
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.clv import gamma_gamma
from segmentation_pipeline.domain.clv.churn import ChurnModel, risk_bands
from segmentation_pipeline.domain.clv.fitting import PURCHASE_MODELS
from segmentation_pipeline.domain.clv.selection import no_purchase_chance
from segmentation_pipeline.domain.clv.settings import ChurnSettings, ClvSettings
from segmentation_pipeline.domain.returns.features import SMOOTHING_UNITS, smoothed_rate

MONTH_DAYS = 365.25 / 12

VALUE_COLUMNS: dict[str, str] = {
    "customer_id": "Customer with at least one purchase.",
    "p_alive": "Probability the customer is still buying (has not silently lapsed), from the purchase model.",
    "expected_spend": "Expected spend per future purchase (Gamma-Gamma; the population mean without a repeat "
    "purchase).",
    "clv": "Lifetime value: discounted expected profit (spend x margin) of the horizon's expected purchases.",
    "expected_return_rate": "Expected share of what the customer buys that comes back.",
    "return_rate_source": "`return model` (mean score of the customer's recent lines) or `history` (their own "
    "unit return rate, smoothed towards the shop's).",
    "net_clv": "Lifetime value less the expected cost of returns: lost margin plus handling, "
    "clv - discounted spend x expected_return_rate x (margin + return_cost_share).",
    "churn_probability": "Probability of no purchase within the churn horizon.",
    "churn_source": "`churn model`, or `exp(-expected purchases)` in the churn horizon while no churn model beats "
    "its baselines.",
    "churn_band": "Low, Medium or High churn risk (cut-offs in docs/clv.md).",
    "purchase_model": "The purchase model in force (bg_nbd or pareto_nbd).",
    "as_of_day": "The day the values are as of.",
}
"""Columns of a customer's value (`clv.customer_value`) beside the expected purchases per prediction horizon."""


def customer_value_columns(prediction_days: Iterable[int]) -> dict[str, str]:
    """``VALUE_COLUMNS`` with the expected purchases over each prediction horizon."""
    horizons = {
        f"expected_purchases_{days}d": f"Expected purchases (days with an order) in the next {days} days, from the "
        "purchase model."
        for days in prediction_days
    }
    return VALUE_COLUMNS | horizons


def discounted_purchases(
    model: ModuleType, params: list[float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray, settings: ClvSettings
) -> np.ndarray:
    """Expected repeat purchases over the horizon, each month's weighted by its discount factor."""
    total = np.zeros(len(np.asarray(x)), dtype=np.float64)
    before = np.zeros_like(total)
    for month in range(1, settings.horizon_months + 1):
        upto = model.expected_purchases(params, month * MONTH_DAYS / settings.unit_days, x, t_x, T)
        total += (upto - before) / (1 + settings.annual_discount_rate) ** (month / 12)
        before = upto
    return total


def customer_values(
    model: ModuleType,
    purchase_params: list[float],
    spend_params: list[float],
    customers: pd.DataFrame,
    return_rate: np.ndarray,
    settings: ClvSettings,
) -> pd.DataFrame:
    """Per customer: probability alive, expected purchases over each prediction horizon, expected spend
    per purchase, lifetime value and lifetime value net of expected returns.

    ``customers`` holds ``x``, ``t_x``, ``T`` (in the settings' time unit) and ``m`` (mean spend per
    repeat purchase); ``return_rate`` is each customer's expected share of bought value returned.
    """
    x, t_x, T = (customers[c].to_numpy(dtype=np.float64) for c in ("x", "t_x", "T"))
    m = customers["m"].to_numpy(dtype=np.float64, na_value=np.nan)
    out = pd.DataFrame(index=customers.index)
    out["p_alive"] = model.probability_alive(purchase_params, x, t_x, T)
    for days in settings.prediction_days:
        out[f"expected_purchases_{days}d"] = model.expected_purchases(
            purchase_params, days / settings.unit_days, x, t_x, T
        )
    out["expected_spend"] = gamma_gamma.expected_spend(spend_params, x, np.where(x > 0, m, 0.0))
    spend = out["expected_spend"].to_numpy() * discounted_purchases(model, purchase_params, x, t_x, T, settings)
    rate = np.clip(np.asarray(return_rate, dtype=np.float64), 0.0, 1.0)
    out["clv"] = settings.margin * spend
    out["expected_return_rate"] = rate
    out["net_clv"] = out["clv"] - spend * rate * (settings.margin + settings.return_cost_share)
    return out


def expected_return_rates(customers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's expected return rate and where it comes from: the return model's mean score of
    their recent lines (``model_return_rate``) when present, else their own unit return rate smoothed
    towards the shop's, as the return model's features smooth it."""
    from_model = customers["model_return_rate"].to_numpy(dtype=np.float64, na_value=np.nan)
    bought = np.nan_to_num(customers["units_bought"].to_numpy(dtype=np.float64, na_value=np.nan))
    returned = bought * np.nan_to_num(customers["return_rate_units"].to_numpy(dtype=np.float64, na_value=np.nan))
    shop_rate = returned.sum() / bought.sum() if bought.sum() > 0 else 0.0
    history = smoothed_rate(returned, bought, shop_rate, SMOOTHING_UNITS)
    known = np.isfinite(from_model)
    return np.where(known, from_model, history), np.where(known, "return model", "history")


def score_customers(
    customers: pd.DataFrame,
    purchase_model: str,
    purchase_params: list[float],
    spend_params: list[float],
    churn: ChurnModel | None,
    settings: ClvSettings,
    churn_settings: ChurnSettings,
) -> pd.DataFrame:
    """Every customer's value and churn risk today: ``customer_values``, the expected return rate and
    its source, churn probability (the churn model's when there is one that beat its baselines on its
    test cutoff, else exp(-expected purchases in the churn horizon)) with its source, and the Low /
    Medium / High risk band."""
    rate, rate_source = expected_return_rates(customers)
    values = customer_values(PURCHASE_MODELS[purchase_model], purchase_params, spend_params, customers, rate, settings)
    if churn is not None and churn.beats_baseline():
        probability, source = churn.churn_probability(customers), "churn model"
    else:
        horizon = churn_settings.horizon_days / settings.unit_days
        x, t_x, T = (customers[c].to_numpy(dtype=np.float64) for c in ("x", "t_x", "T"))
        model = PURCHASE_MODELS[purchase_model]
        probability = no_purchase_chance(model, purchase_params, horizon, x, t_x, T)
        source = "exp(-expected purchases)"
    values.insert(0, "customer_id", customers["customer_id"].to_numpy())
    values.insert(values.columns.get_loc("net_clv"), "return_rate_source", rate_source)
    values["churn_probability"] = probability
    values["churn_source"] = source
    values["churn_band"] = risk_bands(probability, churn_settings.band_cutoffs)
    values["purchase_model"] = purchase_model
    return values
