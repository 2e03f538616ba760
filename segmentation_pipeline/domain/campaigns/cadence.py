"""When campaign results and models are recomputed: when a campaign's attribution window closes, every
`every_days` days of data (returns arrive late, days are restaged), or when asked."""

from __future__ import annotations

from datetime import datetime

from segmentation_pipeline.domain.cadence import training_due


def recompute_due(
    last_run: tuple[datetime, str] | None, latest: datetime, closed: str, every_days: int, asked: bool
) -> str | None:
    """Why campaigns are analysed again, or None while the last analysis holds.

    ``last_run`` is the data time and closed campaigns (comma-separated) of the last analysis; ``latest`` and
    ``closed`` the current ones.
    """
    if last_run is None:
        return "first analysis"
    if last_run[1] != closed:
        return f"closed campaigns changed: {closed or 'none'}"
    return training_due(last_run[0].date(), latest.date(), every_days, asked)
