"""The marts, KPI anomaly alerts and audience exports materialised with Dagster on the test shop, and the anomaly
check on a small warehouse of steady KPIs with planted spikes."""

from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.domain.campaigns.uplift import uplift_deciles
from segmentation_pipeline.domain.marts.columns import AUDIENCE_COLUMNS, MART_COLUMNS, UPLIFT_AUDIENCE_COLUMNS
from segmentation_pipeline.domain.marts.kpis import newest_anomalies
from segmentation_pipeline.domain.returns.features import RETURN_WINDOW_DAYS
from segmentation_pipeline.run import flagged_lines
from segmentation_pipeline.warehouse import connect
from segmentation_pipeline_tests.pipeline_runs import copy_of, materialisation_metadata, open_warehouse, run, warehouse

CHECK = "kpis_within_seasonal_range"
KPI_ASSETS = dg.AssetSelection.assets("mart_kpi_anomalies")
SHOP_METRICS = {"orders", "revenue", "active_customers", "repeat_rate", "return_rate"}


def check_evaluation(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.check_name == CHECK]
    return evaluation


def test_every_mart_has_the_columns_and_types_of_the_data_dictionary_and_a_parquet_export(shop_run):
    folder, result = shop_run
    assert result.success
    with open_warehouse(folder) as con:
        for table, columns in MART_COLUMNS.items():
            described = [(name, sql_type) for name, sql_type, *_ in con.sql(f"DESCRIBE {table}").fetchall()]
            assert described == [(name, column.type) for name, column in columns.items()], table
            rows = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            export = pq.read_table(folder / "exports" / "marts" / f"{table.split('.')[1]}.parquet")
            assert export.column_names == list(columns) and export.num_rows == rows, table
    schema = materialisation_metadata(result, "mart_customers")["dagster/column_schema"].value
    assert [(c.name, c.description) for c in schema.columns] == [
        (name, column.description) for name, column in MART_COLUMNS["marts.customers"].items()
    ]


def test_daily_kpis_add_up_to_the_staged_orders_and_returns_and_follow_the_segments_of_each_day(shop_run):
    folder, _ = shop_run
    with open_warehouse(folder) as con:
        kpis = con.sql("FROM marts.daily_kpis").df()
        orders, units, revenue, customers = con.sql(
            "SELECT count(DISTINCT order_id), sum(quantity), sum(net_amount), count(DISTINCT customer_id) "
            "FROM staging.transactions"
        ).fetchall()[0]
        returned = con.sql(
            "SELECT sum(quantity) FROM staging.returns WHERE order_id IN (SELECT order_id FROM staging.transactions)"
        ).fetchall()[0][0]
        days = con.sql("SELECT DISTINCT CAST(day AS VARCHAR) FROM marts.daily_kpis").fetchall()
        independent = {}
        for (day,) in days:
            independent |= {
                (day, segment): active
                for segment, active in con.execute(
                    "WITH orders AS (SELECT customer_id, CAST(min(order_ts) AS DATE) AS day FROM staging.transactions "
                    "GROUP BY order_id, customer_id) SELECT COALESCE(s.segment_name, 'none'), count(DISTINCT o.customer_id) "
                    "FROM orders AS o LEFT JOIN segments_on($day) AS s USING (customer_id) WHERE o.day = $day GROUP BY 1",
                    {"day": day},
                ).fetchall()
            }
    assert kpis["orders"].sum() == orders and kpis["units"].sum() == units
    assert kpis["revenue"].sum() == pytest.approx(revenue) and kpis["returned_units"].sum() == returned > 0
    assert kpis["repeat_orders"].sum() == orders - customers
    assert not kpis.duplicated(["day", "segment"]).any() and (kpis["returned_units"] <= kpis["units"]).all()
    by_day_and_segment = {(str(row.day.date()), row.segment): row.active_customers for row in kpis.itertuples()}
    assert by_day_and_segment == independent and len(set(kpis["segment"]) - {"none"}) >= 2


def test_segment_sizes_are_the_customers_holding_each_segment_each_day(shop_run):
    folder, _ = shop_run
    with open_warehouse(folder) as con:
        sizes = con.sql("SELECT CAST(day AS VARCHAR), segment, customers FROM marts.segment_sizes").fetchall()
        held = con.sql(
            "SELECT CAST(d.day AS VARCHAR), s.segment_name, count(*) FROM "
            "(SELECT DISTINCT day FROM marts.segment_sizes) AS d, LATERAL segments_on(d.day) AS s GROUP BY ALL"
        ).fetchall()
        last = con.sql("SELECT max(day) = covered_until('customer_segments') FROM marts.segment_sizes").fetchall()[0][0]
    assert sorted(sizes) == sorted(held) and len(sizes) > 0 and last


def test_kpi_anomalies_are_the_judged_days_out_of_range_and_the_return_rate_waits_for_its_window(shop_run):
    folder, result = shop_run
    with open_warehouse(folder) as con:
        checks = con.sql("FROM marts.kpi_checks").df()
        anomalies = con.sql("FROM marts.kpi_anomalies").df()
        last_day = con.sql("SELECT CAST(observed_until() AS DATE) - 1").fetchall()[0][0]
    metrics = set(checks["metric"])
    assert SHOP_METRICS <= metrics and any(m.startswith("segment_size:") for m in metrics)
    assert checks.loc[checks["metric"] == "return_rate", "day"].max() == pd.Timestamp(
        last_day - timedelta(days=RETURN_WINDOW_DAYS)
    )
    assert checks.loc[checks["metric"] == "orders", "day"].max() == pd.Timestamp(last_day)
    flagged = checks[checks["is_anomaly"]]
    assert len(anomalies) == len(flagged)
    assert ((flagged["value"] < flagged["low"]) | (flagged["value"] > flagged["high"])).all()
    inside = checks[~checks["is_anomaly"] & (checks["history_weeks"] >= 4)]
    assert inside["value"].between(inside["low"], inside["high"]).all()
    evaluation = check_evaluation(result)
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.passed == newest_anomalies(checks).empty


def test_the_customers_segments_and_products_marts_agree_with_their_sources(shop_run):
    folder, _ = shop_run
    with open_warehouse(folder) as con:
        customers = con.sql("FROM marts.customers").df()
        buyers = con.sql(
            "SELECT customer_id, count(DISTINCT order_id) AS orders FROM staging.transactions GROUP BY 1"
        ).df()
        actions = con.sql("SELECT customer_id, action FROM recommend.next_best_actions").df()
        segments = con.sql("FROM marts.segments").df()
        profiles = con.sql("SELECT segment_name, mean_frequency FROM segments.segment_profiles").df()
        products = con.sql("FROM marts.products").df()
        sold = con.sql("SELECT sum(quantity) FROM staging.transactions").fetchall()[0][0]
        listed = con.sql("SELECT product_id, count(DISTINCT customer_id) AS n FROM recommend.lists GROUP BY 1").df()
    assert customers["customer_id"].is_unique
    by_customer = customers.merge(buyers, on="customer_id", suffixes=("", "_staged"))
    assert len(by_customer) == len(customers) == len(buyers)
    assert (by_customer["orders"] == by_customer["orders_staged"]).all()
    acted = customers.merge(actions, on="customer_id")
    assert len(acted) == len(actions) and (acted["next_best_action"] == acted["action"]).all()
    assert segments["customers"].sum() == len(customers) and segments["share_customers"].sum() == pytest.approx(1)
    assert dict(zip(segments["segment"], segments["customers"])) == customers["segment"].value_counts().to_dict()
    profiled = segments.merge(profiles, left_on="segment", right_on="segment_name")
    assert len(profiled) == len(profiles) and np.allclose(profiled["mean_frequency_x"], profiled["mean_frequency_y"])
    assert products["units_sold"].sum() == sold and products["product_id"].is_unique
    recommended = products.merge(listed, on="product_id", how="left").fillna({"n": 0})
    assert (recommended["recommended_to_customers"] == recommended["n"]).all() and recommended["n"].sum() > 0


def test_the_campaign_mart_flattens_every_result_and_recommends_at_most_one_variant_per_cut(shop_run):
    folder, _ = shop_run
    with open_warehouse(folder) as con:
        results = con.sql("SELECT count(*) FROM campaigns.ab_results").fetchall()[0][0]
        flat = con.sql("FROM marts.campaign_results").df()
    assert len(flat) == 4 * results > 0
    per_cut = flat[flat["metric"] == "conversion"].groupby(["campaign_id", "cut_type", "cut"])["is_recommended"]
    assert (per_cut.sum() <= 1).all()


def test_every_segment_and_churn_band_has_an_audience_of_exactly_its_customers(shop_run):
    folder, _ = shop_run
    with open_warehouse(folder) as con:
        customers = con.sql("FROM marts.customers").df()
    audiences = folder / "exports" / "audiences"
    segment_files = sorted((audiences / "segment").glob("*.csv"))
    assert len(segment_files) == customers["segment"].nunique()
    for path in [*segment_files, *(audiences / "churn_band").glob("*.csv")]:
        audience = pd.read_csv(path)
        assert list(audience.columns) == list(AUDIENCE_COLUMNS)
        [value] = set(audience[path.parent.name])
        members = customers.loc[customers[path.parent.name] == value, "customer_id"]
        assert sorted(audience["customer_id"]) == sorted(members), path
    assert {p.stem for p in (audiences / "churn_band").glob("*.csv")} == {
        band.lower() for band in customers["churn_band"].dropna()
    }


def test_the_next_sends_uplift_deciles_are_exported_and_audiences_that_no_longer_exist_are_removed(shop_run, tmp_path):
    folder = copy_of(shop_run[0], tmp_path / "copy")
    with open_warehouse(folder) as con:
        ids = [row[0] for row in con.sql("SELECT customer_id FROM marts.customers ORDER BY 1").fetchall()]
        uplift = np.linspace(0.3, -0.1, len(ids))  # customers in id order, highest predicted uplift first
        [(latest,)] = con.sql("SELECT arg_max(campaign_id, sent_ts) FROM staging.campaign_exposures").fetchall()
        earlier = uplift_deciles(np.array(ids), uplift).assign(campaign_id="an earlier campaign", variant="bundle")
        planted = uplift_deciles(np.array(ids), uplift).assign(campaign_id=latest, variant="bundle")
        planted = pd.concat([planted, earlier])
        con.register("planted", planted)
        con.execute("CREATE OR REPLACE TABLE campaigns.uplift_deciles AS FROM planted").fetchall()
    stale = folder / "exports" / "audiences" / "segment" / "a_segment_that_is_gone.csv"
    stale.write_text("customer_id\n")

    result = run(folder, selection=dg.AssetSelection.assets("audience_exports"))

    assert result.success and not stale.exists()
    deciles = {p.name: pd.read_csv(p) for p in (folder / "exports" / "audiences" / "uplift_decile").glob("*.csv")}
    assert set(deciles) == {f"{latest}_d{decile:02d}.csv" for decile in range(1, 11)}  # the next send's only
    assert list(deciles[f"{latest}_d01.csv"].columns) == list(UPLIFT_AUDIENCE_COLUMNS)
    exported = pd.concat(deciles.values()).sort_values("uplift", ascending=False)
    assert list(exported["customer_id"]) == ids and exported["uplift_decile"].is_monotonic_increasing
    first = deciles[f"{latest}_d01.csv"]
    assert len(first) == pytest.approx(len(ids) / 10, abs=1) and set(first["uplift_decile"]) == {1}


STEADY_WEEKS = 10
LAST_DAY = date(2024, 3, 31)


def steady_shop(folder: Path) -> None:
    """A warehouse holding only daily KPIs and segment sizes: ten weeks with busier weekends and a little noise,
    the latest day `LAST_DAY`."""
    rng = np.random.default_rng(11)
    days = pd.date_range(end=LAST_DAY, periods=STEADY_WEEKS * 7, freq="D")
    orders = np.round(np.where(days.day_of_week >= 5, 140, 100) * (1 + rng.normal(0, 0.02, len(days))))
    kpis = pd.DataFrame(
        {
            "day": days.date,
            "segment": "Regulars",
            "active_customers": orders - 4,
            "orders": orders,
            "revenue": orders * 50.0,
            "units": orders * 2,
            "returned_units": np.round(orders * 2 * 0.2),
            "repeat_orders": np.round(orders * 0.6),
        }
    )
    sizes = pd.DataFrame({"day": days.date, "segment": "Regulars", "customers": 1000 + rng.integers(-3, 4, len(days))})
    with connect(warehouse(folder)) as con:
        con.execute("CREATE SCHEMA marts").fetchall()
        for table, frame in {"marts.daily_kpis": kpis, "marts.segment_sizes": sizes}.items():
            columns = ", ".join(f"CAST({name} AS {c.type}) AS {name}" for name, c in MART_COLUMNS[table].items())
            con.register("frame", frame)
            con.execute(f"CREATE TABLE {table} AS SELECT {columns} FROM frame").fetchall()
            con.unregister("frame")
        con.execute(
            "INSERT INTO staging.transactions (order_id, _partition_date) VALUES ('O1', $day)", {"day": LAST_DAY}
        )


SPIKE = "UPDATE marts.daily_kpis SET orders = orders * 4, repeat_orders = repeat_orders * 4 WHERE day = $day"
"""Four times the orders of a day, by as many returning customers as usual: the repeat rate stays."""


def plant(folder: Path, statement: str, day: date) -> None:
    with connect(warehouse(folder)) as con:
        con.execute(statement, {"day": day}).fetchall()


def test_the_kpi_check_passes_on_a_steady_shop_and_names_the_spikes_of_the_newest_days(tmp_path):
    steady_shop(tmp_path)
    earlier = LAST_DAY - timedelta(days=3)
    plant(tmp_path, SPIKE, earlier)

    calm = run(tmp_path, selection=KPI_ASSETS)

    assert calm.success and check_evaluation(calm).passed
    assert check_evaluation(calm).metadata["anomalies on earlier days"].value == 1
    with connect(warehouse(tmp_path)) as con:
        kept = con.sql("SELECT CAST(day AS VARCHAR), metric, direction FROM marts.kpi_anomalies").fetchall()
    assert kept == [(earlier.isoformat(), "orders", "high")]

    complete = LAST_DAY - timedelta(days=RETURN_WINDOW_DAYS)
    plant(tmp_path, SPIKE, LAST_DAY)
    plant(tmp_path, "UPDATE marts.daily_kpis SET returned_units = units WHERE day = $day", complete)
    spiked = check_evaluation(run(tmp_path, selection=KPI_ASSETS))

    assert not spiked.passed and spiked.severity == dg.AssetCheckSeverity.WARN
    flagged = {row["metric"]: row for row in spiked.metadata["flagged"].value}
    assert set(flagged) == {"orders", "return_rate"}
    assert flagged["orders"]["day"] == LAST_DAY.isoformat() and flagged["return_rate"]["day"] == complete.isoformat()
    for row in flagged.values():
        assert row["value"] > row["upper"] > row["expected"] > row["lower"]
    assert "| orders" in spiked.metadata["flagged days"].md_str
    assert any(line.startswith(f"{LAST_DAY.isoformat()} orders: ") for line in flagged_lines(list(flagged.values())))


def test_the_kpi_marts_of_a_shop_without_orders_are_empty_and_say_why(tmp_path):
    connect(warehouse(tmp_path)).close()

    result = run(
        tmp_path, selection=dg.AssetSelection.assets("mart_daily_kpis", "mart_segment_sizes", "mart_kpi_anomalies")
    )

    assert result.success and check_evaluation(result).passed
    assert materialisation_metadata(result, "mart_daily_kpis")["note"].value == "no rows: no order staged yet"
    assert "no day judged" in materialisation_metadata(result, "mart_kpi_anomalies")["note"].value
