"""When a model is refitted: on a cadence of data days, or when asked."""

from __future__ import annotations

from datetime import date, timedelta

RETRAIN_EVERY_DAYS = 7


def training_due(last_trained_through: date | None, latest_day: date, every_days: int, asked: bool) -> str | None:
    """Why a new model is trained on the data up to ``latest_day``, or None while the last one holds.

    ``last_trained_through`` is the last day of data the latest trained model saw (None: never
    trained). A model is trained again once ``every_days`` more days of data have arrived, or
    whenever asked for.
    """
    if asked:
        return "asked for in the launchpad"
    if last_trained_through is None:
        return "no model trained yet"
    age = (latest_day - last_trained_through).days
    if age >= every_days:
        return f"the last model saw data up to {last_trained_through}, {age} days ago (retrain every {every_days})"
    return None


def next_training(last_trained_through: date, every_days: int) -> date:
    """The first data day on which the next model is due."""
    return last_trained_through + timedelta(days=every_days)
