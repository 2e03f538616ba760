"""Hit rate, NDCG, coverage and the return rate of recommended-and-bought units, by hand."""

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.domain.recommend.evaluation import Outcomes, judge, purchase_probability_by_rank

CUSTOMERS = pd.Index(["a", "b", "c"])
PRODUCTS = pd.Index(["P1", "P2", "P3", "P4"])
WINDOW = pd.DataFrame(
    {
        "customer_id": ["a", "a", "b", "zz"],
        "product_id": ["P2", "P4", "P1", "P1"],
        "units": [2, 1, 3, 9],
        "returned_units": [1, 0, 3, 9],
    }
)


def test_hit_rate_ndcg_coverage_and_return_rate_of_two_lists():
    outcomes = Outcomes.of(WINDOW, CUSTOMERS, PRODUCTS)
    buyers = outcomes.buyers()
    assert buyers.tolist() == [0, 1]  # c bought nothing; zz is not a known customer
    top = np.array([[1, 0], [2, 3]])  # a: P2 (bought), P1; b: P3, P4 (neither bought)
    quality = judge(top, outcomes, buyers, k=2)
    # a: DCG 1/log2(2) = 1 over ideal 1 + 1/log2(3); b: 0
    assert quality["hit_rate"] == pytest.approx(0.5)
    assert quality["ndcg"] == pytest.approx((1 / (1 + 1 / np.log2(3))) / 2)
    assert quality["coverage"] == pytest.approx(4 / 4)
    assert quality["bought_units"] == 2 and quality["return_rate"] == pytest.approx(0.5)


def test_an_empty_slot_is_neither_a_hit_nor_coverage():
    outcomes = Outcomes.of(WINDOW, CUSTOMERS, PRODUCTS)
    quality = judge(np.array([[-1, 3], [-1, -1]]), outcomes, outcomes.buyers(), k=2)
    assert quality["hit_rate"] == pytest.approx(0.5)
    assert quality["coverage"] == pytest.approx(1 / 4)


def test_the_probability_of_purchase_never_rises_with_the_rank():
    rng = np.random.default_rng(1)
    customers, products = pd.Index([f"c{i}" for i in range(300)]), pd.Index([f"P{i}" for i in range(10)])
    top = np.tile(np.arange(10), (300, 1))
    bought = rng.random((300, 10)) < np.linspace(0.5, 0.05, 10)
    rows, columns = np.nonzero(bought)
    window = pd.DataFrame(
        {"customer_id": customers[rows], "product_id": products[columns], "units": 1, "returned_units": 0}
    )
    outcomes = Outcomes.of(window, customers, products)
    buyers = outcomes.buyers()
    probability = purchase_probability_by_rank(top[buyers], outcomes, buyers)
    assert (np.diff(probability) <= 1e-12).all()
    assert probability[0] == pytest.approx(0.5, abs=0.08) and probability[-1] == pytest.approx(0.05, abs=0.05)
