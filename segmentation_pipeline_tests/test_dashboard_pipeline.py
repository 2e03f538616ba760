"""The dashboard a pipeline run writes on the test shop: its size, the data it embeds, and the real page in a browser.

Browser tests skip when Chromium or Playwright is missing, unless REQUIRE_BROWSER=1 (as in CI), where they fail.
"""

from __future__ import annotations

import json
import re

import duckdb
import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.dashboard import FRAME_COLUMNS
from segmentation_pipeline.sql import query
from segmentation_pipeline.warehouse import connect
from segmentation_pipeline_tests.pipeline_runs import materialisation_metadata, open_warehouse
from segmentation_pipeline_tests.test_dashboard_browser import (
    LOCAL_SCHEMES,
    PAGES,
    SIZE_BUDGET,
    OpenedPage,
    browser,  # noqa: F401 (the Chromium fixture: skips, or fails under REQUIRE_BROWSER=1, without one)
)

SOURCE_ROWS = {
    "daily_kpis": "marts.daily_kpis",
    "anomalies": "marts.kpi_anomalies",
    "segments": "segments.segment_profiles",
    "rfm_cells": "segments.rfm_history",
    "cluster_points": "segments.segment_history",
    "returns_by": "staging.transactions",
    "return_factors": "returns.key_factors",
    "return_calibration": "returns.calibration_curves",
    "return_metrics": "returns.model_metrics",
    "value_bands": "clv.customer_value",
    "campaign_lifts": "(SELECT * FROM campaigns.ab_results WHERE status = 'tested' AND cut_type IN ('all', 'segment'))",
    "cohorts": "staging.transactions",
    "transitions": "segments.transition_counts",
    "actions": "recommend.next_best_actions",
    "recommended_products": "recommend.lists",
    "customers": "clv.customer_value",
    "customer_months": "staging.transactions",
}
"""Where each frame's data comes from: when this holds rows, the frame must have some."""
TOP_CUSTOMERS = 200
LAST_DAY = "2024-02-29"
"""The last day of the test shop's run: the day the dashboard is as of."""


@pytest.fixture(scope="module")
def page_tables(shop_run) -> dict[str, pd.DataFrame]:
    """Every frame as the page embeds it."""
    folder, result = shop_run
    assert result.success
    text = (folder / "reports" / "dashboard.html").read_text(encoding="utf-8")
    embedded = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', text, re.DOTALL)
    tables = json.loads(embedded.group(1))["tables"]
    return {name: pd.DataFrame(table["rows"], columns=table["columns"]) for name, table in tables.items()}


def rows_in(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    try:
        return con.sql(f"SELECT count(*) FROM {relation}").fetchall()[0][0]
    except duckdb.CatalogException:
        return 0


def test_the_run_writes_a_dashboard_within_the_size_budget_and_reports_it(shop_run, page_tables):
    folder, result = shop_run
    path = folder / "reports" / "dashboard.html"
    assert path.stat().st_size <= SIZE_BUDGET
    metadata = materialisation_metadata(result, "dashboard")
    assert metadata["path"].value == str(path)
    assert metadata["size (MB)"].value == pytest.approx(path.stat().st_size / 1_000_000, abs=0.01)
    assert metadata["rows per frame"].value == {name: len(frame) for name, frame in page_tables.items()}
    assert metadata["as of"].value == LAST_DAY


def test_every_frame_with_data_in_the_warehouse_has_rows_on_the_page(shop_run, page_tables):
    folder, _ = shop_run
    with open_warehouse(folder) as con:
        with_data = {name for name, relation in SOURCE_ROWS.items() if rows_in(con, relation)}
    assert SOURCE_ROWS.keys() == FRAME_COLUMNS.keys()
    assert {"segments", "cluster_points", "returns_by", "cohorts", "customers", "transitions"} <= with_data
    assert sorted(name for name in with_data if page_tables[name].empty) == []


def test_the_page_counts_agree_with_the_warehouse(shop_run, page_tables):
    folder, _ = shop_run
    with open_warehouse(folder) as con:
        units, returned = con.sql(
            "SELECT (SELECT sum(quantity) FROM staging.transactions), (SELECT sum(quantity) FROM staging.returns)"
        ).fetchall()[0]
        profiles = con.sql("SELECT segment_name AS segment, customers FROM segments.segment_profiles").df()
        segmented = con.sql("SELECT count(*) FROM segments_on(covered_until('customer_segments'))").fetchall()[0][0]
    returns_by = page_tables["returns_by"].groupby("dimension")[["units", "returned_units"]].sum()
    assert set(returns_by.index) == {"category", "price_band", "month"}
    assert (returns_by["units"] == units).all()
    assert (returns_by["returned_units"] <= returned).all() and (returns_by["returned_units"] > 0).all()
    page_sizes = page_tables["segments"].set_index("segment")["customers"]
    assert page_sizes.to_dict() == profiles.set_index("segment")["customers"].to_dict()
    assert len(page_tables["cluster_points"]) == min(5_000, segmented)
    assert set(page_tables["cluster_points"]["segment"]) <= set(page_sizes.index)
    retained = page_tables["cohorts"]
    assert (retained["customers"] <= retained["cohort_size"]).all()
    first_months = retained[retained["months_since"] == 0]
    assert (first_months["customers"] == first_months["cohort_size"]).all()


def test_the_customer_table_holds_each_segments_most_valuable_customers(shop_run, page_tables):
    folder, _ = shop_run
    shown = page_tables["customers"]
    with open_warehouse(folder) as con:
        valued = con.sql(
            "SELECT v.customer_id, s.customer_segment AS segment, v.clv FROM clv.customer_value AS v "
            "JOIN returns.customer_state AS s USING (customer_id)"
        ).df()
    per_segment = shown.groupby("segment").size()
    assert per_segment.max() <= TOP_CUSTOMERS
    assert per_segment.to_dict() == valued.groupby("segment").size().clip(upper=TOP_CUSTOMERS).to_dict()
    for segment, customers in valued.groupby("segment"):
        on_page = customers["customer_id"].isin(shown["customer_id"])
        if (~on_page).any():
            assert customers.loc[on_page, "clv"].min() >= customers.loc[~on_page, "clv"].max(), segment
    assert shown["customer_id"].is_unique
    months = page_tables["customer_months"]
    assert set(months["customer_id"]) == set(shown["customer_id"])
    assert months["orders"].sum() == shown["orders"].sum()


def test_the_customer_query_keeps_each_segments_most_valuable_customers_with_their_first_recommendations():
    """The test shop's segments are smaller than the table's cap: a made-up shop with a larger one."""
    rng = np.random.default_rng(11)
    customers = 700
    ids = [f"C{number:04d}" for number in range(customers)]
    state = pd.DataFrame(
        {
            "customer_id": ids,
            "customer_segment": rng.choice(["Large", "Small"], customers, p=[0.8, 0.2]),
            "rfm_segment": "Champions",
            "customer_prior_orders": rng.integers(1, 20, customers),
            "monetary_net": rng.gamma(2.0, 100.0, customers),
            "recency_days": rng.uniform(0, 300, customers),
        }
    )
    value = pd.DataFrame({"customer_id": ids, "clv": rng.gamma(2.0, 150.0, customers), "churn_band": "Low"})
    lists = pd.DataFrame(
        {
            "customer_id": np.repeat(ids, 4),
            "rank": np.tile([2, 1, 4, 3], customers),
            "product_id": [f"P{number:05d}" for number in range(4 * customers)],
        }
    )
    with connect() as con:
        for name, frame in {"state": state, "value": value, "listed": lists}.items():
            con.register(name, frame)
        con.execute("CREATE TABLE returns.customer_state AS SELECT * FROM state").fetchall()
        con.execute("INSERT INTO clv.customer_value BY NAME SELECT * FROM value").fetchall()
        con.execute("INSERT INTO recommend.lists BY NAME SELECT * FROM listed").fetchall()
        con.execute("CREATE TABLE recommend.next_best_actions (customer_id VARCHAR, action VARCHAR)").fetchall()
        shown = con.sql(query("dashboard/customers")).df()
    merged = state.merge(value, on="customer_id")
    for segment, members in merged.groupby("customer_segment"):
        expected = members.nlargest(min(TOP_CUSTOMERS, len(members)), "clv")["customer_id"]
        assert sorted(shown.loc[shown["segment"] == segment, "customer_id"]) == sorted(expected), segment
    assert (merged.groupby("customer_segment").size() > TOP_CUSTOMERS).any()
    first_three = lists[lists["rank"] <= 3].sort_values("rank").groupby("customer_id")["product_id"].agg(", ".join)
    assert shown.set_index("customer_id")["recommendations"].to_dict() == first_three[shown["customer_id"]].to_dict()


def test_the_page_opens_offline_without_errors_and_a_segment_narrows_the_customer_table(
    shop_run,
    page_tables,
    browser,  # noqa: F811 (the imported fixture)
    tmp_path_factory,
):
    folder, _ = shop_run
    dashboard = OpenedPage(browser, folder / "reports" / "dashboard.html")
    try:
        for page_name in PAGES:
            dashboard.visit(page_name)
        assert set(dashboard.chart_states(dashboard.visit("segments")).values()) == {"drawn"}
        dashboard.visit("actions")
        rows = dashboard.customer_rows()
        everyone = rows.count()
        assert everyone == len(page_tables["customers"])
        segment = page_tables["customers"]["segment"].value_counts().index[-1]
        dashboard.page.select_option("#segment-filter", segment)
        assert 0 < rows.count() < everyone
        assert rows.count() == (page_tables["customers"]["segment"] == segment).sum()
        assert set(rows.evaluate_all("rows => rows.map(row => row.dataset.segment)")) == {segment}
        screenshot = tmp_path_factory.mktemp("dashboard_page") / "dashboard.png"
        dashboard.page.screenshot(path=screenshot, full_page=True)
        assert screenshot.stat().st_size > 20_000
        assert dashboard.errors == []
        assert dashboard.requests and all(url.startswith(LOCAL_SCHEMES) for url in dashboard.requests)
    finally:
        dashboard.close()
