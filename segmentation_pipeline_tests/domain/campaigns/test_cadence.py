"""When campaigns are analysed again."""

from datetime import datetime

from segmentation_pipeline.domain.campaigns.cadence import recompute_due

LAST = (datetime(2024, 3, 1, 23, 0), "C1, C2")


def test_a_newly_closed_campaign_or_a_week_of_data_triggers_a_recompute():
    assert recompute_due(None, datetime(2024, 3, 2), "", 7, asked=False) == "first analysis"
    assert (
        recompute_due(LAST, datetime(2024, 3, 2), "C1, C2, C3", 7, asked=False)
        == "closed campaigns changed: C1, C2, C3"
    )
    assert recompute_due(LAST, datetime(2024, 3, 7), "C1, C2", 7, asked=False) is None
    assert "7 days ago" in recompute_due(LAST, datetime(2024, 3, 8), "C1, C2", 7, asked=False)
    assert recompute_due(LAST, datetime(2024, 3, 2), "C1, C2", 7, asked=True) == "asked for in the launchpad"
