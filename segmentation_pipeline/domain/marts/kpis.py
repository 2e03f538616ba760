"""Which KPI anomalies a refresh warns about: those of the days it completed."""

from __future__ import annotations

import pandas as pd

from segmentation_pipeline.domain.monitoring.anomalies import latest_anomalies

LATE_METRICS = ("return_rate",)
"""Metrics whose day is complete only once its return window has closed: their newest judged day lies weeks
before the latest day of data."""


def newest_anomalies(judged: pd.DataFrame, days: int = 1) -> pd.DataFrame:
    """The anomalies among the newest ``days`` days of ``detect_anomalies``' output, strongest (largest |z|) first:
    the latest days of data and, for ``LATE_METRICS``, their latest days judged (the days whose return window
    the refresh closed)."""
    late = judged["metric"].isin(LATE_METRICS)
    found = [latest_anomalies(judged[part], days) for part in (~late, late) if part.any()]
    if not found:
        return latest_anomalies(judged, days)
    newest = pd.concat(found, ignore_index=True)
    return newest.sort_values("z", key=abs, ascending=False, kind="stable").reset_index(drop=True)
