"""Item-to-item weights on baskets small enough to check by hand."""

import numpy as np
import pytest

from segmentation_pipeline.domain.recommend.similarity import basket_matrix, co_occurrence, item_weights

# four customers, three products: A and B go together, C goes alone
CUSTOMERS = np.array([0, 0, 1, 1, 2, 3, 3])
PRODUCTS = np.array([0, 1, 0, 1, 2, 0, 0])  # customer 3 bought A twice


def test_a_basket_counts_a_product_once_however_often_it_was_bought():
    baskets = basket_matrix(CUSTOMERS, PRODUCTS, (4, 3)).toarray()
    assert baskets.tolist() == [[1, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 0]]


def test_co_occurrence_counts_customers_who_bought_both():
    gram = co_occurrence(basket_matrix(CUSTOMERS, PRODUCTS, (4, 3)))
    assert gram.tolist() == [[3, 2, 0], [2, 2, 0], [0, 0, 1]]


def test_the_weights_are_the_ridge_regression_of_each_product_on_the_others():
    rng = np.random.default_rng(0)
    baskets = (rng.random((40, 5)) < 0.4).astype(float)
    l2 = 3.0
    weights = item_weights(baskets.T @ baskets, l2)
    for product in range(5):
        others = [p for p in range(5) if p != product]
        x, y = baskets[:, others], baskets[:, product]
        expected = np.linalg.solve(x.T @ x + l2 * np.eye(4), x.T @ y)
        assert weights[others, product] == pytest.approx(expected, abs=1e-5)
        assert weights[product, product] == 0.0


def test_products_bought_together_point_to_each_other_and_not_to_a_stranger():
    weights = item_weights(co_occurrence(basket_matrix(CUSTOMERS, PRODUCTS, (4, 3))), 0.5)
    assert weights[0, 1] > 0 and weights[1, 0] > 0
    assert weights[0, 2] == pytest.approx(0.0, abs=1e-6) and weights[2, 0] == pytest.approx(0.0, abs=1e-6)
