"""RFM scoring: tie-aware quintile scores and the named segment grid."""

from __future__ import annotations

import pandas as pd
import pytest

from segmentation_pipeline.domain.segments import rfm
from segmentation_pipeline.domain.segments.rfm import RFM_SEGMENTS, rfm_scores, rfm_segment, score_quintiles

SEGMENT_NAMES = {
    "Champions",
    "Loyal",
    "Potential Loyalists",
    "New Customers",
    "Promising",
    "Need Attention",
    "About to Sleep",
    "At Risk",
    "Can't Lose Them",
    "Hibernating",
    "Lost",
}


def _scores(values, higher_is_better=True) -> list[int]:
    return score_quintiles(pd.Series(values), higher_is_better).tolist()


def test_distinct_values_fill_one_score_each():
    # mid-points 0.1, 0.3, 0.5, 0.7, 0.9
    assert _scores([10.0, 20.0, 30.0, 40.0, 50.0]) == [1, 2, 3, 4, 5]


def test_sixty_percent_tie_shares_one_score_and_the_rest_spread():
    # ones: mid-point 0.30 -> 2; value 2: 0.65 -> 4; 3: 0.75 -> 4; 5: 0.85 -> 5; 9: 0.95 -> 5
    frequency = [1, 1, 1, 3, 1, 9, 1, 2, 1, 5]
    assert _scores(frequency) == [2, 2, 2, 4, 2, 5, 2, 4, 2, 5]


def test_ties_in_the_middle_stay_together():
    # 3 tied of 8 above 2 worse: mid-point (2 + 1.5) / 8 = 0.4375 -> 3; value 2: 1.5 / 8 = 0.1875 -> 1
    assert _scores([1.0, 2.0, 7.0, 7.0, 7.0, 8.0, 9.0, 10.0]) == [1, 1, 3, 3, 3, 4, 5, 5]


def test_single_value_population_scores_three():
    assert _scores([4.0, 4.0, 4.0, 4.0]) == [3, 3, 3, 3]
    assert _scores([4.0]) == [3]


def test_recency_fewer_days_scores_higher():
    assert _scores([1.0, 5.0, 30.0, 90.0, 365.0], higher_is_better=False) == [5, 4, 3, 2, 1]


def test_scores_keep_the_index():
    values = pd.Series([3.0, 1.0], index=["b", "a"])
    assert score_quintiles(values, True).to_dict() == {"b": 4, "a": 2}


def test_missing_values_are_rejected():
    with pytest.raises(ValueError, match="missing"):
        score_quintiles(pd.Series([1.0, None]), True)


def test_every_cell_matches_exactly_one_rule():
    names = set()
    for r in range(1, 6):
        for f in range(1, 6):
            for m in range(1, 6):
                fm = (f + m + 1) // 2
                matching = [rule.name for rule in RFM_SEGMENTS if rule.matches(r, fm)]
                assert len(matching) == 1, (r, f, m, matching)
                assert rfm_segment(r, f, m) == matching[0]
                names.add(matching[0])
    assert names == SEGMENT_NAMES
    assert len({rule.name for rule in RFM_SEGMENTS}) == len(RFM_SEGMENTS)


@pytest.mark.parametrize(
    ("cell", "segment"),
    [
        ((5, 5, 5), "Champions"),
        ((4, 4, 3), "Champions"),
        ((3, 5, 4), "Loyal"),
        ((4, 1, 2), "Potential Loyalists"),
        ((5, 1, 1), "New Customers"),
        ((4, 1, 1), "Promising"),
        ((3, 3, 3), "Need Attention"),
        ((3, 1, 2), "About to Sleep"),
        ((1, 3, 4), "At Risk"),
        ((2, 4, 5), "Can't Lose Them"),
        ((2, 2, 1), "Hibernating"),
        ((1, 1, 1), "Lost"),
        ((1, 2, 2), "Lost"),
    ],
)
def test_hand_picked_cells(cell, segment):
    assert rfm_segment(*cell) == segment


def test_out_of_range_score_is_rejected():
    with pytest.raises(ValueError, match="f score"):
        rfm_segment(3, 0, 3)


def _doc_table(header: str) -> list[list[str]]:
    lines = rfm.__doc__.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_documented_grid_matches_the_rules():
    grid = _doc_table("| R / F&M")
    assert [int(row[0]) for row in grid] == [5, 4, 3, 2, 1]
    for row in grid:
        r = int(row[0])
        for fm, name in enumerate(row[1:], start=1):
            assert next(rule.name for rule in RFM_SEGMENTS if rule.matches(r, fm)) == name, (r, fm)


def test_documented_rule_table_matches_the_rules():
    def span(bounds: tuple[int, int]) -> str:
        low, high = bounds
        return str(low) if low == high else f"{low}-{high}"

    table = _doc_table("| Segment")
    assert table == [
        [rule.name, span(rule.recency), span(rule.frequency_monetary), rule.description] for rule in RFM_SEGMENTS
    ]


def test_rfm_scores_adds_scores_cell_and_segment():
    customers = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4", "c5"],
            "recency_days": [3.0, 10.0, 40.0, 120.0, 400.0],
            "frequency": [9, 1, 1, 1, 1],
            "monetary_net": [900.0, 35.0, 20.0, 500.0, 10.0],
        }
    )
    scored = rfm_scores(customers)
    # frequency: four tied at 1 -> mid-point 0.4 -> 3; the single 9 -> 0.9 -> 5
    assert scored["r_score"].tolist() == [5, 4, 3, 2, 1]
    assert scored["f_score"].tolist() == [5, 3, 3, 3, 3]
    assert scored["m_score"].tolist() == [5, 3, 2, 4, 1]
    assert scored["rfm_cell"].tolist() == ["555", "433", "332", "234", "131"]
    assert scored["rfm_score"].tolist() == [15, 10, 8, 9, 5]
    assert scored["rfm_segment"].tolist() == ["Champions", "Potential Loyalists", "Need Attention", "At Risk", "Lost"]
    assert list(scored.columns[:4]) == list(customers.columns)


def test_rfm_scores_requires_one_row_per_customer():
    customers = pd.DataFrame(
        {"customer_id": ["c1", "c1"], "recency_days": [1.0, 2.0], "frequency": [1, 1], "monetary_net": [1.0, 2.0]}
    )
    with pytest.raises(ValueError, match="one row per customer"):
        rfm_scores(customers)
