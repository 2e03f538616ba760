"""Item-to-item weights learnt from customers' baskets.

Each customer's basket history is a row of 0/1 per product (bought in the lookback window or
not). The weights are those of EASE (Steck, 2019): the ridge regression of every product's
column on all the other products' columns, solved in closed form from the co-occurrence
(Gram) matrix. A product's weight on another is how much buying the first predicts buying the
second once everything else bought is accounted for; a product never predicts itself. It is
one matrix inverse of products x products, so its cost does not grow with the customers
beyond counting the co-occurrences.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def basket_matrix(customer_codes: np.ndarray, product_codes: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """Customers x products, 1 where the customer bought the product (whatever the times or units)."""
    baskets = sp.csr_matrix(
        (np.ones(len(customer_codes), dtype=np.float32), (customer_codes, product_codes)), shape=shape
    )
    baskets.sum_duplicates()
    baskets.data[:] = 1.0
    return baskets


def co_occurrence(baskets: sp.csr_matrix) -> np.ndarray:
    """Products x products: customers who bought both (the diagonal: customers who bought each)."""
    return (baskets.T @ baskets).toarray().astype(np.float64)


def item_weights(gram: np.ndarray, l2: float) -> np.ndarray:
    """EASE weights from the co-occurrence matrix: B = I - P / diag(P) with P = (G + l2 I)^-1, zero diagonal."""
    regularised = gram + l2 * np.eye(len(gram))
    inverse = np.linalg.inv(regularised)
    weights = -inverse / np.diag(inverse)[np.newaxis, :]
    np.fill_diagonal(weights, 0.0)
    return weights.astype(np.float32)
