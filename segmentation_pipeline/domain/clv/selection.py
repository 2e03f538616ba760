"""Fitting lifetime value: every model on the calibration period, the purchase model chosen on the
holdout, then every model refitted on all data up to the latest day for predictions."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.clv import gamma_gamma
from segmentation_pipeline.domain.clv.fitting import PURCHASE_MODELS, Fit, fit_purchases, fit_spend
from segmentation_pipeline.domain.clv.settings import TIME_UNIT_DAYS
from segmentation_pipeline.domain.clv.validation import (
    choose_purchase_model,
    holdout_by_frequency,
    holdout_scores,
    spend_frequency_correlation,
)


@dataclass(frozen=True)
class LifetimeValueModels:
    """The calibration and full fits, the holdout comparison and the model chosen for predictions."""

    calibration_fits: dict[str, Fit]
    full_fits: dict[str, Fit]
    chosen: str
    """The purchase model predictions use: the one closest to the holdout."""
    holdout: pd.DataFrame
    """Mean actual and predicted holdout purchases by calibration repeat purchases, and totals."""
    scores: pd.DataFrame
    """Per purchase model: holdout totals, relative error of the total, RMSE and MAE per customer."""
    spend_correlation: float
    """Correlation of repeat purchases and mean spend in the full data (Gamma-Gamma assumes about 0)."""

    def params(self) -> pd.DataFrame:
        """One row per fit and parameter: estimate, standard error, log-likelihood and customers."""
        rows = [
            {
                "fit": label,
                "model": fit.model,
                "parameter": name,
                "estimate": value,
                "standard_error": fit.standard_errors[name],
                "log_likelihood": fit.log_likelihood,
                "customers": fit.customers,
                "chosen": fit.model in (self.chosen, "gamma_gamma"),
            }
            for label, fits in (("calibration", self.calibration_fits), ("full", self.full_fits))
            for fit in fits.values()
            for name, value in fit.params.items()
        ]
        return pd.DataFrame(rows)


def ordered(fit: Fit) -> list[float]:
    """A fit's estimates in its model's parameter order."""
    module = gamma_gamma if fit.model == "gamma_gamma" else PURCHASE_MODELS[fit.model]
    return [fit.params[name] for name in module.PARAMS]


def _columns(customers: pd.DataFrame) -> tuple[np.ndarray, ...]:
    x, t_x, T = (customers[c].to_numpy(dtype=np.float64) for c in ("x", "t_x", "T"))
    return x, t_x, T, customers["m"].to_numpy(dtype=np.float64, na_value=np.nan)


def _fits(customers: pd.DataFrame) -> dict[str, Fit]:
    x, t_x, T, m = _columns(customers)
    return {name: fit_purchases(name, x, t_x, T) for name in PURCHASE_MODELS} | {"gamma_gamma": fit_spend(x, m)}


def fit_lifetime_value(calibration: pd.DataFrame, full: pd.DataFrame, holdout_length: float) -> LifetimeValueModels:
    """Fit on ``calibration`` (customers as of the calibration end, with their holdout purchases
    ``x_holdout`` over the following ``holdout_length`` time units), choose the purchase model on the
    holdout, and refit everything on ``full`` (customers as of the latest day)."""
    calibration_fits = _fits(calibration)
    x, t_x, T, _ = _columns(calibration)
    actual = calibration["x_holdout"].to_numpy(dtype=np.float64)
    predicted = {
        name: PURCHASE_MODELS[name].expected_purchases(
            list(calibration_fits[name].params.values()), holdout_length, x, t_x, T
        )
        for name in PURCHASE_MODELS
    }
    scores = {name: holdout_scores(actual, p) for name, p in predicted.items()}
    full_x, _, _, full_m = _columns(full)
    return LifetimeValueModels(
        calibration_fits=calibration_fits,
        full_fits=_fits(full),
        chosen=choose_purchase_model(scores),
        holdout=holdout_by_frequency(x, actual, predicted),
        scores=pd.DataFrame(scores).T.rename_axis("model"),
        spend_correlation=spend_frequency_correlation(full_x, full_m),
    )


@dataclass(frozen=True)
class ModelsInForce:
    """The chosen purchase model and Gamma-Gamma of the latest full fit."""

    purchase_model: str
    purchase_params: list[float]
    spend_params: list[float]
    time_unit: str

    @property
    def unit_days(self) -> int:
        return TIME_UNIT_DAYS[self.time_unit]


def models_in_force(rows: pd.DataFrame) -> ModelsInForce | None:
    """The models in force from the parameter rows of ``clv/params_in_force.sql``; None before the first fit."""
    if rows.empty:
        return None
    by_model = {name: dict(zip(group["parameter"], group["estimate"])) for name, group in rows.groupby("model")}
    (purchase_model,) = set(by_model) & set(PURCHASE_MODELS)
    return ModelsInForce(
        purchase_model=purchase_model,
        purchase_params=[by_model[purchase_model][p] for p in PURCHASE_MODELS[purchase_model].PARAMS],
        spend_params=[by_model["gamma_gamma"][p] for p in gamma_gamma.PARAMS],
        time_unit=str(rows["time_unit"].iloc[0]),
    )


def lifetime_value_baselines(customers: pd.DataFrame, purchase_model: str, horizon: float) -> dict[str, np.ndarray]:
    """Churn scores of a day's customers from the purchase model fitted on them: 1 - P(alive), and the chance
    of no purchase in the next ``horizon`` time units were purchases Poisson, exp(-expected purchases)."""
    x, t_x, T, _ = _columns(customers)
    fit = fit_purchases(purchase_model, x, t_x, T)
    model = PURCHASE_MODELS[purchase_model]
    return {
        "1 - P(alive)": 1.0 - model.probability_alive(ordered(fit), x, t_x, T),
        "exp(-expected purchases)": no_purchase_chance(model, ordered(fit), horizon, x, t_x, T),
    }


def no_purchase_chance(
    model: ModuleType, params: list[float], horizon: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """exp(-expected purchases in the horizon): a churn score that, unlike 1 - P(alive), sees that a long
    silent one-time buyer is unlikely to buy (BG/NBD gives them a P(alive) of 1)."""
    return np.exp(-model.expected_purchases(params, horizon, x, t_x, T))
