"""Campaign outcomes on a hand-made shop: from the exposure file when it gives them, else from the orders in the
attribution window, with the returns of those orders and the customer's state the day before the message."""

from datetime import date

import numpy as np
import pytest

from segmentation_pipeline.sql import catalog, query
from segmentation_pipeline.warehouse import Window, connect, replace_days

EXPOSURES = [
    # campaign, customer, sent, variant, is_control, converted, revenue
    ("C1", "A", "2024-03-01 10:00", "offer", False, None, None),
    ("C1", "B", "2024-03-01 10:00", "control", None, None, None),
    ("C1", "D", "2024-03-01 10:00", "offer", False, True, 99.0),
    ("C2", "A", "2024-03-20 10:00", "offer", False, None, None),
    ("C3", "B", "2024-03-20 10:00", "No E-Mail", None, True, 12.5),
]
ORDERS = [
    # order, customer, ts, quantity, unit price: A before, inside and after C1's 14 days; B inside
    ("O0", "A", "2024-02-10 09:00", 1, 50.0),
    ("O1", "A", "2024-03-01 09:59", 1, 7.0),
    ("O2", "A", "2024-03-05 12:00", 2, 10.0),
    ("O3", "A", "2024-03-15 10:00", 1, 30.0),
    ("O4", "A", "2024-03-15 10:01", 1, 1000.0),
    ("O5", "B", "2024-03-02 08:00", 3, 5.0),
]


@pytest.fixture
def exposures():
    con = connect()
    con.executemany(
        "INSERT INTO staging.campaign_exposures (campaign_id, customer_id, sent_ts, variant, is_control, converted, "
        "revenue) VALUES (?, ?, ?, ?, ?, ?, ?)",
        EXPOSURES,
    )
    con.executemany(
        "INSERT INTO staging.transactions (order_id, customer_id, order_ts, product_id, quantity, unit_price, "
        "line_no, gross_amount, net_amount) VALUES (?, ?, ?, 'P', ?, ?, 1, ?, ?)",
        [(o, c, ts, q, p, q * p, q * p) for o, c, ts, q, p in ORDERS],
    )
    con.execute(
        "INSERT INTO staging.returns (return_id, customer_id, product_id, return_ts, quantity, order_id) "
        "VALUES ('R1', 'A', 'P', '2024-03-08', 1, 'O2'), ('R0', 'A', 'P', '2024-02-12', 1, 'O0')"
    ).fetchall()
    replace_days(
        con,
        catalog.CUSTOMER_HISTORY,
        Window(date(2024, 1, 1), date(2024, 4, 1)),
        query("segments/customer_history"),
        {"attribution_days": 14},
    )
    params = {"attribution_days": 14, "observed_until": "2024-03-31"}
    frame = con.execute(query("campaigns/exposures"), params).df()
    return frame.set_index(["campaign_id", "customer_id"])


def test_outcomes_come_from_the_orders_of_the_attribution_window_when_the_file_gives_none(exposures):
    a = exposures.loc[("C1", "A")]
    assert a["outcome_source"] == "attribution window"
    assert bool(a["converted"]) and a["revenue"] == 20.0 + 30.0  # O2 and O3: O1 is before the message, O4 after
    assert (a["units_bought"], a["units_returned"]) == (3, 1)  # R1 returns a unit of O2; R0 an order before
    b = exposures.loc[("C1", "B")]
    assert bool(b["is_control"]) and b["revenue"] == 15.0  # no is_control given: a variant named control
    assert bool(exposures.loc[("C3", "B"), "is_control"])  # as the published e-mail test names its control


def test_outcomes_of_the_exposure_file_win(exposures):
    d = exposures.loc[("C1", "D")]
    assert d["outcome_source"] == "exposure file" and d["revenue"] == 99.0 and bool(d["converted"])


def test_the_customer_is_described_as_of_the_day_before_the_message(exposures):
    first, second = exposures.loc[("C1", "A")], exposures.loc[("C2", "A")]
    assert first["frequency"] == 1 and first["pre_spend"] == 50.0  # O0 only: O1 is on the message's day
    assert second["frequency"] == 5  # O2, O3 and O4 by then
    assert bool(exposures.loc[("C2", "A"), "outcome_known"]) is False  # its window ends 2024-04-03, after the data
    assert bool(exposures.loc[("C3", "B"), "outcome_known"])  # the file gives the outcome: no window to wait for


def test_a_published_style_email_test_is_analysed_as_soon_as_its_outcomes_are_given():
    """Arms named as in the classic e-mail experiment (no is_control column), outcomes in the file, every
    message sent at once at the end of the data: each arm's figures are the file's own."""
    from segmentation_pipeline.domain.campaigns.ab_results import analyse_campaigns
    from segmentation_pipeline.domain.campaigns.settings import CampaignSettings

    rng = np.random.default_rng(0)
    arms = np.repeat(["Mens E-Mail", "Womens E-Mail", "No E-Mail"], 400)
    converted = rng.random(len(arms)) < np.select([arms == "No E-Mail", arms == "Mens E-Mail"], [0.005, 0.0125], 0.009)
    spend = np.where(converted, rng.gamma(2.0, 60.0, len(arms)), 0.0)
    rows = [
        ("E1", f"K{i}", "2024-03-01 09:00", arm, None, bool(c), float(s))
        for i, (arm, c, s) in enumerate(zip(arms, converted, spend))
    ]
    con = connect()
    con.executemany(
        "INSERT INTO staging.campaign_exposures (campaign_id, customer_id, sent_ts, variant, is_control, converted, "
        "revenue) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    frame = con.execute(
        query("campaigns/exposures"), {"attribution_days": 14, "observed_until": "2024-03-01 09:00"}
    ).df()
    assert frame["outcome_known"].all()

    results = analyse_campaigns(frame, CampaignSettings()).results
    overall = results[results["cut_type"] == "all"].set_index("variant")
    assert set(overall.index) == {"Mens E-Mail", "Womens E-Mail"}
    for variant in overall.index:
        assert overall.loc[variant, "treated_conversion"] == pytest.approx(converted[arms == variant].mean())
        assert overall.loc[variant, "control_conversion"] == pytest.approx(converted[arms == "No E-Mail"].mean())
        assert overall.loc[variant, "treated_revenue_per_customer"] == pytest.approx(spend[arms == variant].mean())
        assert overall.loc[variant, "control_revenue_per_customer"] == pytest.approx(spend[arms == "No E-Mail"].mean())
