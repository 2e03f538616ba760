"""Candidates: similarity from the customer's own baskets, segment popularity as the fallback, and the
exclusion window."""

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.domain.recommend.candidates import (
    Baskets,
    because_you_bought,
    fit_item_model,
    popularity_candidates,
    score_customers,
)


def frames(rows, segments):
    purchases = pd.DataFrame(rows, columns=["customer_id", "product_id", "recent"])
    return purchases, pd.DataFrame(segments, columns=["customer_id", "segment"])


# A and B are bought together; C is the North's favourite; D is bought by a Southerner only
ROWS = [
    ("c1", "A", False), ("c1", "B", False),
    ("c2", "A", False), ("c2", "B", False),
    ("c3", "A", False), ("c3", "B", True), ("c3", "C", False),
    ("c4", "C", False), ("c5", "C", False), ("c6", "C", False), ("c9", "C", False),
    ("c7", "D", False),
    ("c8", "A", False),
]  # fmt: skip
SEGMENTS = [(c, "North") for c in ("c1", "c2", "c3", "c4", "c5", "c6", "c8", "c9", "new")] + [("c7", "South")]


def candidates_of(customer: str, mix: float = 0.1, k: int = 4):
    baskets = Baskets.of(*frames(ROWS, SEGMENTS))
    model = fit_item_model(baskets, l2=0.5, mix=mix)
    found = score_customers(model, baskets, k)
    row = baskets.customers.get_loc(customer)
    return [baskets.products[p] for p in found.products[row] if p >= 0], model, baskets


def test_a_customer_is_offered_what_goes_with_their_basket_first():
    offered, _, _ = candidates_of("c8")
    assert offered[0] == "B"


def test_a_product_bought_within_the_exclusion_window_is_never_offered_but_an_older_one_may_be():
    offered, _, _ = candidates_of("c3", k=4)
    assert "B" not in offered
    offered, _, _ = candidates_of("c1", mix=5.0, k=4)
    assert "A" in offered  # bought before the window: may be bought again


@pytest.mark.parametrize("mix", [0.0, 0.1])
def test_a_customer_without_history_gets_their_segments_favourites_in_order(mix):
    offered, model, baskets = candidates_of("new", mix=mix)
    north = model.popularity[model.segments.index("North")]
    expected = [baskets.products[p] for p in np.argsort(-north, kind="stable") if north[p] > 0]
    assert offered == expected[: len(offered)] and offered[0] == "C"


def test_popularity_baselines_skip_recent_purchases_and_rank_by_popularity():
    baskets = Baskets.of(*frames(ROWS, SEGMENTS))
    top = popularity_candidates(baskets.global_popularity(), baskets, 3).products
    row = baskets.customers.get_loc("c3")
    assert [baskets.products[p] for p in top[row]] == ["C", "A", "D"]  # B was bought within the window
    row = baskets.customers.get_loc("c4")
    assert [baskets.products[p] for p in top[row]] == ["C", "A", "B"]


def test_the_reasons_name_the_basket_products_that_point_to_the_recommendation():
    baskets = Baskets.of(*frames(ROWS, SEGMENTS))
    model = fit_item_model(baskets, l2=0.5, mix=0.1)
    customers = np.array([baskets.customers.get_loc("c8"), baskets.customers.get_loc("c7")])
    products = np.array([baskets.products.get_loc("B"), baskets.products.get_loc("A")])
    assert because_you_bought(model, baskets, customers, products) == ["A", ""]
