"""The lifetime-value models: BG/NBD, Pareto/NBD and Gamma-Gamma fitted on a calibration period, judged on
the holdout that follows, and refitted on all data for predictions."""

from datetime import UTC, date, datetime

import dagster as dg
import duckdb

from segmentation_pipeline.defs.helpers import area, frame_markdown, iso_day, table_schema, write_frame
from segmentation_pipeline.defs.resources import Warehouse
from segmentation_pipeline.domain.cadence import RETRAIN_EVERY_DAYS
from segmentation_pipeline.domain.clv.settings import ClvSettings
from segmentation_pipeline.sql import catalog, query

PARAM_COLUMNS = {
    "fitted_at": "When the fit ran.",
    "fit": "`calibration` (data up to the calibration end, judged on the holdout) or `full` (all data up to "
    "data_through, used for predictions).",
    "model": "`bg_nbd` or `pareto_nbd` (repeat purchases), `gamma_gamma` (spend per purchase).",
    "parameter": "The model's parameter (r, alpha, a, b; r, alpha, s, beta; p, q, gamma).",
    "estimate": "Maximum-likelihood estimate; rate parameters are per time_unit.",
    "standard_error": "From the inverse of the observed information (Hessian of the log-likelihood).",
    "log_likelihood": "Log-likelihood of the fit at the estimate.",
    "customers": "Customers the fit saw (Gamma-Gamma: those with a repeat purchase).",
    "calibration_end": "Last day of the calibration period.",
    "data_through": "Last day of data of the run.",
    "time_unit": "Unit of recency, customer age and the rate parameters.",
    "chosen": "Whether predictions use this model (the purchase model closest to the holdout, and Gamma-Gamma).",
}

PARAMS_SHOWN = ["fit", "model", "parameter", "estimate", "standard_error", "log_likelihood", "customers", "chosen"]
"""The parameter table's columns shown in the metadata."""


class ClvModelConfig(dg.Config):
    time_unit: str = ClvSettings.time_unit
    """`weeks` or `days`: the unit of recency, customer age and the rate parameters."""
    holdout_weeks: int = ClvSettings.holdout_weeks
    """The holdout is the last this many weeks (at most half the history)."""
    calibration_end: str | None = None
    """Last day of the calibration period (ISO date); empty: from `holdout_weeks`."""
    max_holdout_error: float = ClvSettings.max_holdout_error
    """Relative error of total holdout purchases above which the validation check warns."""
    max_spend_frequency_correlation: float = ClvSettings.max_spend_frequency_correlation
    """Absolute correlation of repeat purchases and spend above which Gamma-Gamma's independence does not hold."""
    refit_every_days: int = RETRAIN_EVERY_DAYS
    """The models are refitted once this many more days of data have arrived."""
    refit_now: bool = False
    """Refit in this run, whatever the cadence."""


def history_span(con: duckdb.DuckDBPyConnection) -> tuple[date | None, date | None, date | None]:
    """The first purchase day, the latest day of customer history, and the data the last fit saw."""
    return con.sql(
        f"SELECT (SELECT min(CAST(first_purchase_ts AS DATE)) FROM {catalog.CUSTOMER_HISTORY}), "
        f"covered_until('customer_history'), (SELECT max(data_through) FROM {catalog.CLV_MODEL_PARAMS})"
    ).fetchall()[0]


def customer_summary(con: duckdb.DuckDBPyConnection, as_of: date, holdout_end: date | None, unit_days: int):
    """Customers as of a day as the purchase models see them (`clv/customer_summary.sql`)."""
    params = {"as_of": as_of, "holdout_end": holdout_end, "unit_days": unit_days}
    return con.execute(query("clv/customer_summary"), params).df()


@dg.asset(**area("clv"), kinds={"scipy", "duckdb"}, deps=["customer_history"])
def clv_model(config: ClvModelConfig, warehouse: Warehouse) -> dg.MaterializeResult:
    """Lifetime-value models fitted by maximum likelihood on one row per customer from the customer
    history: BG/NBD and Pareto/NBD for repeat purchases (counted per day), Gamma-Gamma for spend per
    purchase. Each is fitted on the calibration period and judged on the holdout after it; the purchase
    model closest to the holdout is chosen, and every model is refitted on all data for predictions.
    Refitted every `refit_every_days` days of data; between fits the parameters in force are used."""
    from segmentation_pipeline.domain.cadence import next_training, training_due
    from segmentation_pipeline.domain.clv.selection import fit_lifetime_value
    from segmentation_pipeline.domain.clv.validation import calibration_end, holdout_chart, too_little_history

    settings = ClvSettings(time_unit=config.time_unit, holdout_weeks=config.holdout_weeks)
    asked_end = iso_day("calibration_end", config.calibration_end)
    with warehouse.get_connection() as con:
        first, latest, last_fit = history_span(con)
        asked = config.refit_now or asked_end is not None
        why = training_due(last_fit, latest, config.refit_every_days, asked) if latest else None
        if why is None:
            due = next_training(last_fit, config.refit_every_days) if last_fit else "once customers have bought"
            return dg.MaterializeResult(
                metadata={"decision": "not refitted: the parameters in force hold", "next fit": str(due)}
            )
        end = calibration_end(first, latest, settings.holdout_weeks, asked_end)
        calibration = customer_summary(con, end, latest, settings.unit_days)
        refusal = too_little_history(first, latest, end, calibration)
        if refusal:
            return dg.MaterializeResult(metadata={"decision": f"not fitted: {refusal}", "why fitted": why})
        full = customer_summary(con, latest, None, settings.unit_days)
        models = fit_lifetime_value(calibration, full, (latest - end).days / settings.unit_days)
        params = models.params().assign(
            fitted_at=datetime.now(UTC).replace(tzinfo=None),
            calibration_end=end,
            data_through=latest,
            time_unit=settings.time_unit,
        )
        scores = models.scores.assign(
            chosen=lambda s: s.index == models.chosen,
            max_total_error=config.max_holdout_error,
            calibration_end=end,
            data_through=latest,
        )
        con.execute("BEGIN TRANSACTION").fetchall()
        con.register("new_params", params)
        con.execute(f"INSERT INTO {catalog.CLV_MODEL_PARAMS} BY NAME SELECT * FROM new_params").fetchall()
        con.unregister("new_params")
        write_frame(con, catalog.CLV_HOLDOUT, models.holdout.reset_index())
        write_frame(con, catalog.CLV_HOLDOUT_SCORES, scores.reset_index())
        con.execute("COMMIT").fetchall()
        schema = table_schema(con, catalog.CLV_MODEL_PARAMS, PARAM_COLUMNS)
    correlation = models.spend_correlation
    independent = abs(correlation) <= config.max_spend_frequency_correlation
    chosen_scores = models.scores.loc[models.chosen]
    return dg.MaterializeResult(
        metadata={
            "why fitted": why,
            "chosen purchase model": models.chosen,
            "calibration end": str(end),
            "data through": str(latest),
            "time unit": settings.time_unit,
            "holdout total error (chosen)": float(chosen_scores["total_error"]),
            "parameters (calibration and full fit)": dg.MetadataValue.md(
                frame_markdown(params[PARAMS_SHOWN].set_index(["fit", "model", "parameter"]), 4)
            ),
            "holdout scores per purchase model": dg.MetadataValue.md(frame_markdown(models.scores, 3)),
            "holdout purchases per customer by calibration repeat purchases": dg.MetadataValue.md(
                frame_markdown(models.holdout, 3)
            ),
            "holdout chart (mean purchases per customer)": dg.MetadataValue.md(
                holdout_chart(models.holdout, list(models.scores.index))
            ),
            "spend-frequency correlation": correlation,
            "Gamma-Gamma independence": (
                f"holds: |r| = {abs(correlation):.3f} <= {config.max_spend_frequency_correlation}"
                if independent
                else f"does not hold: |r| = {abs(correlation):.3f} > {config.max_spend_frequency_correlation}; "
                "expected spend is biased for customers far from the typical frequency"
            ),
            "dagster/column_schema": schema,
        }
    )


@dg.asset_check(
    asset=clv_model,
    name="holdout_error_within_threshold",
    description="Warns when the chosen purchase model's total predicted holdout purchases miss the actual total "
    "by more than `max_holdout_error` (15% by default).",
)
def holdout_error_within_threshold(warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        rows = con.sql(
            "SELECT model, total_error, max_total_error, actual_total, predicted_total "
            f"FROM {catalog.CLV_HOLDOUT_SCORES} WHERE chosen"
        ).fetchall()
    if not rows:
        return dg.AssetCheckResult(passed=True, metadata={"note": "no model validated yet"})
    model, error, threshold, actual, predicted = rows[0]
    return dg.AssetCheckResult(
        passed=bool(error <= threshold),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "model": model,
            "total error": float(error),
            "threshold": float(threshold),
            "actual holdout purchases": float(actual),
            "predicted holdout purchases": float(predicted),
        },
    )
