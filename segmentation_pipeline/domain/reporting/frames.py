"""Dashboard frames that need more than a query: the segment map and the moves between segments."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.reporting.projection import PlaneProjection, principal_plane
from segmentation_pipeline.domain.segments.features import FeatureScaling, apply_scaling, prepare_features

MAP_COLUMNS = ["segment", "x", "y"]
LINK_COLUMNS = ["from_segment", "to_segment", "customers"]


def segment_map(snapshot: pd.DataFrame, scaling: FeatureScaling | None) -> tuple[pd.DataFrame, PlaneProjection]:
    """Customers' `segment` and position (`x`, `y`) on the principal plane of the segment model's feature space,
    and the projection.

    `snapshot` holds a customer per row with `segment` and the model's feature columns. The features are scaled as
    the model in force scales them (`scaling`), or standardised on these customers when no model is in force. No
    customers give an empty map."""
    if snapshot.empty:
        return pd.DataFrame(columns=MAP_COLUMNS), principal_plane(np.empty((0, 0)))
    features = apply_scaling(snapshot, scaling) if scaling is not None else prepare_features(snapshot)[0]
    projection = principal_plane(features)
    points = pd.DataFrame(
        {
            "segment": snapshot["segment"].to_numpy(),
            "x": projection.points[:, 0].round(3),
            "y": projection.points[:, 1].round(3),
        }
    )
    return points, projection


def transition_links(counts: pd.DataFrame) -> pd.DataFrame:
    """The transition counts (a row per previous segment in `from_segment`, a column per latest segment) as one row
    per move some customers made: `from_segment`, `to_segment`, `customers`."""
    if counts.empty:
        return pd.DataFrame(columns=LINK_COLUMNS)
    links = counts.melt(id_vars="from_segment", var_name="to_segment", value_name="customers")
    links = links[links["customers"].fillna(0) > 0]
    return links.astype({"customers": "int64"}).reset_index(drop=True)
