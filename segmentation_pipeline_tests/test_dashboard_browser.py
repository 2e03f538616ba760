"""The dashboard page in a real browser (the system's headless Chromium), and its size and self-containment.

Browser tests skip when Chromium or Playwright is missing, unless REQUIRE_BROWSER=1 (as in CI), where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from segmentation_pipeline.dashboard import DashboardData, dashboard_html, render_dashboard
from segmentation_pipeline.dashboard.render import segment_colours
from segmentation_pipeline_tests.dashboard_fixture import dashboard_data

PAGES = ("overview", "segments", "returns", "value", "campaigns", "cohorts", "transitions", "actions")
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
SIZE_BUDGET = 10 * 1024 * 1024


def browser_unavailable(reason: str) -> None:
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (REQUIRE_BROWSER=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        browser_unavailable("playwright is not installed")
    chromium = shutil.which("chromium")
    if chromium is None:
        browser_unavailable("no chromium on PATH (apt-get install chromium)")
    with sync_playwright() as playwright:
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        launched = playwright.chromium.launch(executable_path=chromium, args=args)
        yield launched
        launched.close()


class OpenedPage:
    """A dashboard opened from disk, with every console error, page error and request it made."""

    def __init__(self, browser, path: Path):
        self.context = browser.new_context(viewport={"width": 1440, "height": 900})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.context.route("**/*", self._local_only)
        self.page = self.context.new_page()
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("body[data-ready]")

    def _local_only(self, route) -> None:
        if route.request.url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            route.abort()

    def visit(self, page_name: str):
        self.page.click(f'[data-testid="nav-{page_name}"]')
        section = self.page.locator(f'[data-testid="page-{page_name}"]')
        section.wait_for(state="visible")
        return section

    def chart_states(self, section) -> dict[str, str]:
        """Each chart container of a page: 'drawn' (a Plotly figure with its SVG) or 'empty' (its no-data note)."""
        states = {}
        for chart in section.locator('[data-testid^="chart-"]').all():
            chart.locator(".main-svg, .no-data").first.wait_for()
            drawn = "js-plotly-plot" in (chart.get_attribute("class") or "") and chart.locator("svg.main-svg").count()
            states[chart.get_attribute("data-testid")] = "drawn" if drawn else "empty"
        return states

    def customer_rows(self):
        return self.page.locator("#customer-table tbody tr")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def opened(browser, tmp_path) -> Iterator:
    pages: list[OpenedPage] = []

    def open_dashboard(data: DashboardData) -> OpenedPage:
        opened_page = OpenedPage(browser, render_dashboard(data, tmp_path / "dashboard.html"))
        pages.append(opened_page)
        return opened_page

    yield open_dashboard
    for opened_page in pages:
        opened_page.close()


def test_every_page_draws_and_the_segment_filter_search_and_detail_work_offline(opened, tmp_path):
    dashboard = opened(dashboard_data(segments=3, customers_per_segment=100, days=120))
    page = dashboard.page

    tiles = page.locator("#kpi-tiles .kpi-value")
    assert tiles.count() == 6
    assert all(re.search(r"\d", text) for text in tiles.all_inner_texts())

    for page_name in PAGES:
        states = dashboard.chart_states(dashboard.visit(page_name))
        assert states, page_name
        assert set(states.values()) == {"drawn"}, (page_name, states)
    assert page.locator('[data-testid="chart-trend-orders"] .scatterlayer .trace').count() == 3  # daily, 7-day, flagged

    rows = dashboard.customer_rows()
    everyone = rows.count()
    page.select_option("#segment-filter", "Champions")
    assert 0 < rows.count() < everyone
    assert set(rows.evaluate_all("rows => rows.map(row => row.dataset.segment)")) == {"Champions"}
    assert set(rows.locator("td:nth-child(2)").all_inner_texts()) == {"Champions"}

    customer_id = rows.nth(41).get_attribute("data-customer-id")
    page.fill("#customer-search", customer_id)
    assert rows.count() == 1
    rows.first.click()
    detail = page.locator("#customer-detail")
    detail.wait_for(state="visible")
    assert f"Customer {customer_id}" in detail.inner_text()
    detail.locator('[data-testid="customer-history-chart"] .main-svg, .no-data').first.wait_for()

    page.fill("#customer-search", "")
    page.click('#customer-table th[data-column="clv"] button')
    clv = [float(text.replace(",", "")) for text in rows.locator("td:nth-child(4)").all_inner_texts()]
    assert clv == sorted(clv, reverse=True)

    page.select_option("#segment-filter", "")
    sizes = dashboard.visit("segments").locator('[data-testid="chart-segment-sizes"]')
    largest = sizes.locator(".xtick text").first.text_content()
    bar = sizes.locator(".point").first.bounding_box()
    page.mouse.click(bar["x"] + bar["width"] / 2, bar["y"] + bar["height"] / 2)
    assert page.input_value("#segment-filter") == largest

    screenshot = tmp_path / "dashboard.png"
    page.screenshot(path=screenshot, full_page=True)
    assert screenshot.stat().st_size > 20_000
    assert dashboard.errors == []
    assert dashboard.requests and all(url.startswith(LOCAL_SCHEMES) for url in dashboard.requests), dashboard.requests


def test_a_shop_without_data_shows_no_data_everywhere_without_errors(opened):
    dashboard = opened(DashboardData(title="Empty shop", as_of="2024-06-30"))
    page = dashboard.page
    assert "No data yet" in page.locator("#kpi-tiles").inner_text()
    for page_name in PAGES:
        section = dashboard.visit(page_name)
        states = dashboard.chart_states(section)
        assert set(states.values()) == {"empty"}, (page_name, states)
        notes = section.locator(".no-data").all_inner_texts()
        assert notes and all(note == "No data yet." for note in notes), (page_name, notes)
    assert dashboard.customer_rows().count() == 0
    assert page.locator("#segment-filter option").all_inner_texts() == ["All segments"]
    assert dashboard.errors == []
    assert all(url.startswith(LOCAL_SCHEMES) for url in dashboard.requests), dashboard.requests


def test_a_seven_segment_shop_fits_the_size_budget_and_loads_nothing_from_outside(tmp_path):
    path = render_dashboard(dashboard_data(segments=7, customers_per_segment=200), tmp_path / "dashboard.html")
    text = path.read_text(encoding="utf-8")
    assert path.stat().st_size <= SIZE_BUDGET
    assert not re.search(r"<script[^>]*\ssrc\s*=", text, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\shref\s*=", text, re.IGNORECASE)
    assert text.count("<script") == 3  # plotly.js once, the data, the page's script


def test_the_same_data_gives_the_same_bytes():
    assert dashboard_html(dashboard_data(seed=3)) == dashboard_html(dashboard_data(seed=3))


def test_text_in_the_data_cannot_end_its_script_element():
    hostile = "</script><script>alert(1)</script><!--"
    data = DashboardData(
        title="Shop <b>&</b>",
        as_of="2024-06-30",
        segments=pd.DataFrame({"segment": [hostile], "customers": [3]}),
    )
    text = dashboard_html(data)
    assert hostile not in text
    assert text.count("</script>") == 3
    assert "<title>Shop &lt;b&gt;&amp;&lt;/b&gt;" in text


def test_a_frame_without_its_columns_is_refused():
    with pytest.raises(ValueError, match=r"'daily_kpis' lacks the columns \['units'"):
        dashboard_html(
            DashboardData(
                title="Shop", as_of="2024-06-30", daily_kpis=dashboard_data().daily_kpis.drop(columns="units")
            )
        )


def test_todays_segments_keep_distinct_colours_whatever_earlier_segmentations_were_called():
    today = ["Dormant", "Frequent Shoppers", "Bargain Hunters", "One-time Buyers", "Serial Returners"]
    earlier = [f"New ({kind})" for kind in "abcdefgh"] + ["(gone)", "none"]
    colours = segment_colours(today, today + earlier)
    assert len({colours[name] for name in today}) == len(today)
    assert set(colours) == set(today + earlier)
