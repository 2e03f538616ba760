"""How well segments recover known customer types, for shops whose true types are known.

The synthetic shop draws every customer from a hidden type (vip, bargain hunter, ...).
Comparing the segments found with those types tells whether the segmentation finds
real behavioural groups: the adjusted Rand index summarises the agreement (1 identical
partitions up to renaming, about 0 no better than chance), the confusion table shows
where each type ended up.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class TypeRecovery:
    """Agreement between segments and true types over the customers present in both.

    ``confusion`` counts customers per true type (rows, index ``latent_type``) and segment
    name (columns), both sorted by name.
    """

    adjusted_rand_index: float
    confusion: pd.DataFrame
    customers: int


def segments_vs_types(assignments: pd.DataFrame) -> TypeRecovery:
    """Adjusted Rand index and confusion counts of ``segment_name`` against ``latent_type``, one row per customer."""
    from sklearn.metrics import adjusted_rand_score

    if assignments["customer_id"].duplicated().any():
        raise ValueError("more than one row for a customer")
    confusion = (
        pd.crosstab(assignments["latent_type"], assignments["segment_name"])
        .rename_axis(index="latent_type", columns="segment_name")
        .astype("int64")
    )
    return TypeRecovery(
        adjusted_rand_index=float(adjusted_rand_score(assignments["latent_type"], assignments["segment_name"])),
        confusion=confusion,
        customers=len(assignments),
    )
