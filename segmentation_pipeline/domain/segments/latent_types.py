"""How well segments recover known customer types, against a plain baseline, where the types are known.

The synthetic shop draws every customer from a hidden type (vip, bargain hunter, ...); a user
of the `files` source can give each customer's true label. Comparing the segments found with
those labels tells whether the segmentation finds real behavioural groups: the adjusted Rand
index summarises the agreement (1 identical partitions up to renaming, about 0 no better than
chance), the confusion table shows where each type ended up. The same index for a plain
K-means on recency, frequency, money and returns, with the same number of segments and fitted in
the same run, tells whether the pipeline's features and choices earn their keep.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.segments.features import RFM_RETURN_FEATURES, prepare_features
from segmentation_pipeline.domain.segments.model import fit_segments

CONFUSION_COLUMNS = {"label": "The customers' true type, as the source knows it."}
"""The confusion table's columns beside one per segment (see ``confusion_columns``)."""


def confusion_columns(columns: Iterable[str]) -> dict[str, str]:
    """The meaning of each column of the confusion table (``confusion`` of ``TypeRecovery`` with its index as a
    column): a column named after a segment counts the row's customers placed in it."""
    return {c: CONFUSION_COLUMNS.get(c, f"Customers of the row's true type placed in {c}.") for c in columns}


@dataclass(frozen=True)
class TypeRecovery:
    """Agreement of the segments and of the baseline with the true types, over the labelled customers.

    ``confusion`` counts customers per true type (rows, index ``label``) and segment name
    (columns), both sorted by name.
    """

    adjusted_rand_index: float
    baseline_adjusted_rand_index: float
    segments: int
    confusion: pd.DataFrame
    customers: int


def baseline_segments(snapshot: pd.DataFrame, k: int, seed: int = 0) -> np.ndarray:
    """The plain baseline: K-means with k segments on standardised log recency, log frequency,
    log net money and the unit return rate (``RFM_RETURN_FEATURES``)."""
    X, _ = prepare_features(snapshot, RFM_RETURN_FEATURES, smooth_shares=False)
    return fit_segments(X, k, seed=seed).predict(X)


def segments_vs_types(labelled: pd.DataFrame, seed: int = 0) -> TypeRecovery:
    """Adjusted Rand index of ``segment_name`` and of the baseline against ``label``.

    ``labelled`` has one row per customer: ``customer_id``, ``segment_name``, ``label`` and the
    baseline's ``RFM_RETURN_FEATURES``. The baseline gets as many segments as these customers fill.
    """
    from sklearn.metrics import adjusted_rand_score

    if labelled["customer_id"].duplicated().any():
        duplicated = labelled.loc[labelled["customer_id"].duplicated(), "customer_id"].iloc[0]
        raise ValueError(f"more than one label for customer {duplicated!r}")
    k = int(labelled["segment_name"].nunique())
    confusion = (
        pd.crosstab(labelled["label"], labelled["segment_name"])
        .rename_axis(index="label", columns="segment_name")
        .astype("int64")
    )
    return TypeRecovery(
        adjusted_rand_index=float(adjusted_rand_score(labelled["label"], labelled["segment_name"])),
        baseline_adjusted_rand_index=float(
            adjusted_rand_score(labelled["label"], baseline_segments(labelled, k, seed))
        ),
        segments=k,
        confusion=confusion,
        customers=len(labelled),
    )
