"""Lifetime value and churn risk materialised with Dagster on the test shop, and on a transactions-only folder."""

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.domain.clv.fitting import fit_purchases, fit_spend
from segmentation_pipeline.serving.state import current_state
from segmentation_pipeline_tests.pipeline_runs import (
    SHORT_CHURN,
    materialisation_metadata,
    open_warehouse,
    run,
    shop_through,
)


def test_every_model_is_fitted_on_calibration_and_on_all_data_with_standard_errors(shop_run):
    folder, result = shop_run
    assert result.success
    with open_warehouse(folder) as con:
        params = con.sql("SELECT * FROM clv.model_params").df()
        first, latest = con.sql(
            "SELECT min(CAST(first_purchase_ts AS DATE)), covered_until('customer_history') "
            "FROM features.customer_history"
        ).fetchall()[0]
    assert set(params["fit"]) == {"calibration", "full"}
    assert set(params["model"]) == {"bg_nbd", "pareto_nbd", "gamma_gamma"}
    assert len(params) == 2 * (4 + 4 + 3)
    assert (params["estimate"] > 0).all()
    # two months say little about dropout (its parameters may sit at a boundary, where the Hessian is singular),
    # enough about purchase rates and spend once all of it is used
    identified = params[params["parameter"].isin(["r", "alpha", "p", "q"]) & (params["fit"] == "full")]
    assert np.isfinite(identified["standard_error"]).all() and (identified["standard_error"] > 0).all()
    assert set(params["time_unit"]) == {"weeks"} and set(params["data_through"]) == {pd.Timestamp(latest)}
    chosen = params[params["chosen"] & (params["model"] != "gamma_gamma")]
    assert chosen["model"].nunique() == 1  # one purchase model chosen, in both fits
    half = (latest - first).days // 2  # a history shorter than a year: the latter half is the holdout
    assert set(params["calibration_end"]) == {pd.Timestamp(latest - timedelta(days=half))}
    metadata = materialisation_metadata(result, "clv_model")
    assert metadata["chosen purchase model"].value == chosen["model"].iloc[0]
    holdout = metadata["holdout purchases per customer by calibration repeat purchases"].value
    assert "| total " in holdout and "bg_nbd" in holdout and "pareto_nbd" in holdout


def test_the_calibration_fit_sees_only_customers_and_purchases_up_to_the_calibration_end(shop_run):
    folder, _ = shop_run
    with open_warehouse(folder) as con:
        params = con.sql("SELECT * FROM clv.model_params WHERE fit = 'calibration'").df()
        end = params["calibration_end"].iloc[0]
        summary = con.execute(
            "SELECT customer_id, date_diff('day', CAST(min(order_ts) AS DATE), $end) / 7 AS T, "
            "count(DISTINCT CAST(order_ts AS DATE)) - 1 AS x, "
            "date_diff('day', CAST(min(order_ts) AS DATE), CAST(max(order_ts) AS DATE)) / 7 AS t_x "
            "FROM staging.transactions WHERE CAST(order_ts AS DATE) <= $end GROUP BY customer_id",
            {"end": end},
        ).df()
        spend = con.execute(
            "WITH days AS (SELECT customer_id, CAST(order_ts AS DATE) AS day, sum(net_amount) AS spend "
            "FROM staging.transactions WHERE CAST(order_ts AS DATE) <= $end GROUP BY ALL), "
            "numbered AS (SELECT *, row_number() OVER (PARTITION BY customer_id ORDER BY day) AS n FROM days) "
            "SELECT customer_id, count(*) AS x, avg(spend) AS m FROM numbered WHERE n > 1 GROUP BY customer_id",
            {"end": end},
        ).df()
    # the same fits from the staged transactions up to the calibration end, counted here independently
    direct = fit_purchases("bg_nbd", *(summary[c].to_numpy(float) for c in ("x", "t_x", "T")))
    fitted = params[params["model"] == "bg_nbd"].set_index("parameter")
    assert direct.customers == fitted["customers"].iloc[0]
    assert direct.log_likelihood == pytest.approx(fitted["log_likelihood"].iloc[0], rel=1e-8)
    # the dropout parameters of two months may sit far out on a flat ridge: compare the purchase rate's
    assert [fitted.loc[p, "estimate"] for p in ("r", "alpha")] == pytest.approx(
        [direct.params["r"], direct.params["alpha"]], rel=1e-3
    )
    gamma_gamma = fit_spend(spend["x"].to_numpy(float), spend["m"].to_numpy(float))
    spent = params[params["model"] == "gamma_gamma"].set_index("parameter")["estimate"]
    assert [spent[p] for p in gamma_gamma.params] == pytest.approx(list(gamma_gamma.params.values()), rel=1e-3)


def test_every_customer_is_valued_and_the_churn_model_is_split_by_time(shop_run):
    folder, result = shop_run
    with open_warehouse(folder) as con:
        values = con.sql("SELECT * FROM clv.customer_value").df()
        customers = con.sql("SELECT count(*) FROM snapshot_on(covered_until('customer_history'))").fetchall()[0][0]
        churn = con.sql("SELECT * FROM clv.churn_models").df()
        bands = con.sql("SELECT * FROM clv.churn_bands_by_segment WHERE segment_name = 'all customers'").df()
    assert len(values) == customers and values["customer_id"].is_unique
    assert (values["net_clv"] <= values["clv"] + 1e-9).all() and (values["clv"] >= 0).all()
    assert values["p_alive"].between(0, 1).all() and values["churn_probability"].between(0, 1).all()
    assert {"expected_purchases_90d", "expected_purchases_365d"} <= set(values.columns)
    assert (values["expected_purchases_365d"] >= values["expected_purchases_90d"]).all()
    assert set(values["return_rate_source"]) <= {"return model", "history"}
    assert bands[["low", "medium", "high"]].sum(axis=1).item() == customers
    (model,) = churn.itertuples()
    assert model.train_cutoff + pd.Timedelta(days=14) <= model.test_cutoff
    assert model.test_cutoff + pd.Timedelta(days=14) == model.data_through
    assert materialisation_metadata(result, "churn_model")["test customers"].value > 0


def test_the_scoring_state_serves_each_customers_value(shop_run):
    folder, _ = shop_run
    state = pd.read_parquet(current_state(folder / "serving") / "customers.parquet")
    with open_warehouse(folder) as con:
        values = con.sql("SELECT customer_id, clv, net_clv, churn_band FROM clv.customer_value").df()
    served = state.merge(values, on="customer_id", suffixes=("", "_valued"))
    assert len(served) == len(values)
    assert (
        np.allclose(served["clv"], served["clv_valued"]) and (served["churn_band"] == served["churn_band_valued"]).all()
    )


def test_a_folder_with_transactions_only_gets_lifetime_value(tmp_path):
    source = shop_through(tmp_path / "shop", "2024-02-29")
    for path in Path(source.path).iterdir():
        if not path.name.startswith("transactions"):
            path.unlink()

    result = run(tmp_path / "run", source=source, run_config=SHORT_CHURN)

    assert result.success
    with open_warehouse(tmp_path / "run") as con:
        sources = con.sql("SELECT DISTINCT return_rate_source FROM clv.customer_value").fetchall()
        valued = con.sql("SELECT count(*) FROM clv.customer_value").fetchall()[0][0]
    assert valued > 0 and sources == [("history",)]


def test_campaigns_are_analysed_and_their_split_checked_in_the_same_run(shop_run):
    folder, result = shop_run
    (srm,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "sample_ratio_as_planned"]
    with open_warehouse(folder) as con:
        exposures = con.sql("SELECT count(*) FROM staging.campaign_exposures").fetchall()[0][0]
        analysed = con.sql("SELECT count(*) FROM campaigns.exposure_outcomes").fetchall()[0][0]
        checked = con.sql("SELECT count(*) FROM campaigns.sample_ratios").fetchall()[0][0]
    assert analysed == exposures > 0
    assert srm.metadata["campaigns checked"].value == checked
    assert "campaign_targeting" in {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def test_recommendations_and_next_best_actions_are_published_in_the_same_run(shop_run):
    folder, result = shop_run
    with open_warehouse(folder) as con:
        lists = con.sql("FROM recommend.lists").df()
        actions = con.sql("FROM recommend.next_best_actions").df()
        buyers = con.sql("SELECT count(DISTINCT customer_id) FROM staging.transactions").fetchall()[0][0]
        recent = con.sql(
            "SELECT DISTINCT customer_id, product_id FROM staging.transactions "
            "WHERE order_ts >= (SELECT observed_until() - INTERVAL 30 DAY)"
        ).df()
    assert len(lists) and lists.groupby("customer_id").size().max() <= 10
    assert lists.merge(recent, on=["customer_id", "product_id"]).empty  # nothing bought within the exclusion window
    served_by = materialisation_metadata(result, "recommendations")["return model"].value
    if lists["return_risk"].isna().all():  # two months hold too few returns to promote a return model
        assert "none in production" in served_by
    else:
        assert (lists["return_risk"] <= 0.5).all()
    assert len(actions) == actions["customer_id"].nunique() == buyers
    counts = materialisation_metadata(result, "next_best_actions")["customers per action"].value
    assert sum(counts.values()) == buyers
    for action, count in counts.items():
        audience = pd.read_csv(
            folder / "exports" / "audiences" / "next_best_action" / f"{action.replace(' ', '_')}.csv"
        )
        assert len(audience) == count and (audience["action"] == action).all()
    published = pd.read_parquet(current_state(folder / "serving" / "recommendations") / "recommendations.parquet")
    assert len(published) == len(lists)


WITHOUT_TABLE = {
    "data_quality_report": "writes a markdown report, no table",
    "dashboard": "writes an HTML page, no table",
}
"""Assets whose output is a file, not a table: they have no column schema."""


def test_every_asset_shows_its_table_with_a_description_of_every_column(shop_run):
    _, result = shop_run
    undescribed = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        schema = materialization.metadata.get("dagster/column_schema")
        name = materialization.asset_key.to_user_string()
        if name in WITHOUT_TABLE:
            continue
        if schema is None:
            undescribed[name] = "no column schema"
        elif missing := [c.name for c in schema.value.columns if not c.description]:
            undescribed[name] = missing
    assert undescribed == {}
