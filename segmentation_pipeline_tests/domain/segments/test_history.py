"""Replaying a history stored as changes: every day's snapshot, and only what changed day to day."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.domain.segments.history import DailySnapshots, changed
from segmentation_pipeline.domain.segments.rfm import rfm_changes, rfm_scores

COLUMNS = ["recency_days", "frequency", "monetary_net", "tenure_days"]


def rows(*records: tuple) -> pd.DataFrame:
    """History rows: customer, first day the row holds, orders, money kept, last purchase, first seen."""
    frame = pd.DataFrame(
        records, columns=["customer_id", "as_of_day", "frequency", "monetary_net", "last_purchase_ts", "first_seen_ts"]
    )
    for column in ("as_of_day", "last_purchase_ts", "first_seen_ts"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


OPENING = rows(("A", "2024-01-01", 1, 10.0, "2024-01-01 12:00", "2023-12-31 12:00"))
CHANGES = rows(
    ("B", "2024-01-03", 1, 50.0, "2024-01-03 06:00", "2024-01-03 06:00"),
    ("A", "2024-01-04", 2, 30.0, "2024-01-04 18:00", "2023-12-31 12:00"),
)


def test_each_day_holds_the_customers_latest_row_with_recency_and_tenure_to_the_day_end():
    days = list(DailySnapshots(OPENING, CHANGES, date(2024, 1, 2), date(2024, 1, 4), COLUMNS))
    assert [d.day for d in days] == [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]
    first, second, third = (d.frame.assign(customer_id=d.customer_ids(np.ones(len(d.frame), bool))) for d in days)
    assert list(first["customer_id"]) == ["A"]  # B has not bought yet
    assert first.loc[0, "recency_days"] == pytest.approx(1.5)  # 01-01 12:00 to the end of 01-02
    assert first.loc[0, "tenure_days"] == pytest.approx(2.5)
    assert list(second["customer_id"]) == ["A", "B"] and second.loc[1, "recency_days"] == pytest.approx(0.75)
    assert third.set_index("customer_id").loc["A", "frequency"] == 2  # the 01-04 row replaces the opening one
    assert third.set_index("customer_id").loc["A", "recency_days"] == pytest.approx(0.25)


def test_changed_marks_new_and_different_values_and_remembers_them():
    previous = np.array([-1, 5, 7])
    moved = changed(previous, np.array([0, 1, 2]), np.array([3, 5, 8]))
    assert list(moved) == [True, False, True]
    assert list(previous) == [3, 5, 8]


def test_rfm_changes_keep_only_the_scores_that_moved_and_agree_with_scoring_each_day():
    days = list(DailySnapshots(OPENING, CHANGES, date(2024, 1, 1), date(2024, 1, 4), COLUMNS))
    changes = pd.concat(list(rfm_changes(days, len(days[0].universe))), ignore_index=True)
    latest: dict[str, tuple] = {}  # the stored scores: the first day's were written by the run before
    for snapshot in days:
        frame = snapshot.frame.assign(customer_id=snapshot.customer_ids(np.ones(len(snapshot.frame), bool)))
        scored = {c: (r.r_score, r.f_score, r.m_score, r.rfm_segment) for c, r in rfm_scores(frame).iterrows()}
        scored = dict(zip(frame["customer_id"], scored.values(), strict=True))
        if snapshot.day == date(2024, 1, 1):
            latest = dict(scored)
            continue
        for row in changes[changes["as_of_day"] == pd.Timestamp(snapshot.day)].itertuples():
            latest[row.customer_id] = (row.r_score, row.f_score, row.m_score, row.rfm_segment)
        assert {c: latest[c] for c in scored} == scored
    assert set(changes["as_of_day"].dt.date) <= {date(2024, 1, 3), date(2024, 1, 4)}  # 01-02 changes nothing
