"""Text charts for run metadata."""

import math

import pandas as pd

from segmentation_pipeline.domain.charts import bar, bars_chart, k_scores_chart

SCORES = pd.DataFrame(
    {
        "k": [4, 2, 3],
        "inertia": [3000.0, 9000.0, 4500.0],
        "silhouette": [0.28, 0.30, 0.35],
        "davies_bouldin": [1.1, 1.2, math.nan],
        "calinski_harabasz": [4800.0, 4000.0, 5200.0],
    }
)


def test_bars_are_proportional_in_eighths_and_empty_when_undefined():
    assert bar(10, 10, 4) == "████"
    assert bar(5, 10, 4) == "██"
    assert bar(1, 16, 4) == "▎"  # a sixteenth of 4 characters is two eighths
    assert bar(0, 10, 4) == bar(-1, 10, 4) == bar(math.nan, 10, 4) == ""


def test_k_scores_chart_has_one_row_per_k_in_order_with_the_chosen_k_marked():
    chart = k_scores_chart(SCORES, chosen_k=3, width=8)
    lines = chart.splitlines()
    assert lines[0] == lines[-1] == "```"
    rows = lines[2:-2]
    assert [row.split()[0] for row in rows] == ["2", "3", "4"]
    assert [row.endswith("◀ chosen") for row in rows] == [False, True, False]
    inertia_bars = [row.split()[1] for row in rows]
    assert inertia_bars == ["████████", "████", "██▋"]  # 9000, 4500 and 3000 of 9000 on 8 characters
    assert "n/a" in rows[1] and "9,000" in rows[0] and "0.350" in rows[1]


def test_a_bars_chart_scales_each_column_to_its_largest_value_and_marks_one_row():
    table = pd.DataFrame({"method": ["popular", "similar"], "hit_rate": [0.25, 0.5], "ndcg": [0.1, 0.05]})
    chart = bars_chart(table, "method", (("hit_rate", "hit"), ("ndcg", "ndcg")), marked="similar", footer="note")
    lines = chart.splitlines()
    assert lines[1].split() == ["method", "hit", "ndcg"] and lines[-2] == "note"
    assert lines[2].split()[1:] == ["████", "0.250", "████████", "0.100"]
    assert lines[3].split()[1:] == ["████████", "0.500", "████", "0.050", "◀", "chosen"]
