"""How good top-N lists were: judged on what customers bought after the cut-off they were made at.

For each customer with a purchase in the window: hit rate@k (share of customers with at least one
recommended product bought), NDCG@k (each product bought counts 1, discounted by log2 of its rank
plus one, over the best order possible) and catalogue coverage (share of the catalogue recommended
to anyone). The return rate of recommended-and-bought lines is the units returned of the
recommended products bought in the window over their units bought.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp


@dataclass(frozen=True)
class Outcomes:
    """What each customer bought in the window after a cut-off, coded like their baskets."""

    bought: sp.csr_matrix
    """Customers x products: 1 where bought in the window."""
    units: sp.csr_matrix
    returned: sp.csr_matrix
    """Units of those purchases returned since."""

    @classmethod
    def of(cls, window: pd.DataFrame, customers: pd.Index, products: pd.Index) -> Outcomes:
        """From ``window`` (customer_id, product_id, units, returned_units), customers and products outside
        the codes left out."""
        rows, columns = customers.get_indexer(window["customer_id"]), products.get_indexer(window["product_id"])
        keep = (rows >= 0) & (columns >= 0)
        shape = (len(customers), len(products))

        def matrix(values: np.ndarray) -> sp.csr_matrix:
            coded = sp.csr_matrix((values[keep], (rows[keep], columns[keep])), shape=shape)
            coded.sum_duplicates()
            return coded

        units = window["units"].to_numpy(dtype=np.float64)
        return cls(matrix(np.ones(len(window))).sign(), matrix(units), matrix(window["returned_units"].to_numpy(float)))

    def buyers(self) -> np.ndarray:
        """Codes of the customers who bought anything in the window."""
        return np.flatnonzero(np.diff(self.bought.indptr) > 0)


def judge(top: np.ndarray, outcomes: Outcomes, customers: np.ndarray, k: int) -> dict[str, float]:
    """Hit rate@k, NDCG@k, coverage and return rate of recommended-and-bought units of the lists ``top``
    (customers x >= k product codes, -1 for none) of ``customers`` (codes of the rows of ``top``)."""
    top = top[:, :k]
    valid = top >= 0
    safe = np.where(valid, top, 0)
    rows = customers[:, np.newaxis]
    hit = (np.asarray(outcomes.bought[rows, safe].todense()) > 0) & valid
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    relevant = np.asarray(outcomes.bought[customers].sum(axis=1)).ravel().astype(int)
    ideal = np.cumsum(discounts)[np.clip(np.minimum(relevant, k) - 1, 0, None)]
    ndcg = np.divide((hit * discounts).sum(axis=1), ideal, out=np.zeros(len(customers)), where=relevant > 0)
    units = np.asarray(outcomes.units[rows, safe].todense())[hit].sum()
    returned = np.asarray(outcomes.returned[rows, safe].todense())[hit].sum()
    return {
        "customers": float(len(customers)),
        "hit_rate": float(hit.any(axis=1).mean()) if len(customers) else np.nan,
        "ndcg": float(ndcg.mean()) if len(customers) else np.nan,
        "coverage": float(len(np.unique(top[valid])) / outcomes.bought.shape[1]) if outcomes.bought.shape[1] else 0.0,
        "bought_units": float(units),
        "return_rate": float(returned / units) if units > 0 else np.nan,
    }


def purchase_probability_by_rank(top: np.ndarray, outcomes: Outcomes, customers: np.ndarray) -> np.ndarray:
    """Per candidate rank, the share of customers who bought the product at that rank in the window,
    made non-increasing in rank (isotonic): the probability of purchase of a candidate at that rank."""
    from sklearn.isotonic import IsotonicRegression

    valid = top >= 0
    bought = (np.asarray(outcomes.bought[customers[:, np.newaxis], np.where(valid, top, 0)].todense()) > 0) & valid
    ranks = np.arange(1, top.shape[1] + 1)
    shown = valid.sum(axis=0)
    share = np.divide(bought.sum(axis=0), shown, out=np.zeros(len(ranks)), where=shown > 0)
    return IsotonicRegression(increasing=False).fit(ranks, share, sample_weight=np.maximum(shown, 1)).predict(ranks)
