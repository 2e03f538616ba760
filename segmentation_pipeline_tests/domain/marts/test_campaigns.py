"""Campaign results flattened: one row per campaign, variant, cut and metric, whatever columns a cut carries."""

import numpy as np
import pandas as pd

from segmentation_pipeline.domain.marts.campaigns import FLAT_COLUMNS, RESULT_METRICS, flat_campaign_results

TESTED = {
    "campaign_id": ["C1", "C1", "C1"],
    "variant": ["bundle", "discount", "bundle"],
    "cut_type": ["all", "all", "segment"],
    "cut": ["all", "all", "VIP"],
    "treated": [500, 480, 120],
    "control": [450, 450, 110],
    "status": ["tested"] * 3,
    "guardrail_breached": [False, True, False],
}
RECOMMENDATIONS = pd.DataFrame(
    {
        "campaign_id": ["C1", "C1"],
        "cut_type": ["all", "segment"],
        "cut": ["all", "VIP"],
        "recommended_variant": ["bundle", None],
        "reason": ["conversion +0.05", "no variant lifts conversion significantly"],
        "flagged_variants": ["discount", ""],
    }
)


VALUE_COLUMNS = FLAT_COLUMNS[FLAT_COLUMNS.index("treated_value") : FLAT_COLUMNS.index("mde") + 1]
"""The flat columns each metric fills from its own columns of the results, or leaves empty."""


def results_of_tested_cuts() -> pd.DataFrame:
    """Results with every metric column, each holding a value that names its source column's position."""
    sources = [column for metric in RESULT_METRICS.values() for column in metric.values()]
    values = {column: np.arange(3) + 10.0 * position for position, column in enumerate(sources)}
    return pd.DataFrame(TESTED | values)


def test_every_result_becomes_one_row_per_metric_with_the_metric_columns_renamed():
    results = results_of_tested_cuts()

    flat = flat_campaign_results(results, RECOMMENDATIONS)

    assert list(flat.columns) == FLAT_COLUMNS and len(flat) == len(results) * len(RESULT_METRICS)
    for metric, sources in RESULT_METRICS.items():
        rows = flat[flat["metric"] == metric].set_index(["variant", "cut"])
        for flat_column, source in sources.items():
            expected = results.set_index(["variant", "cut"])[source]
            assert rows[flat_column].loc[expected.index].tolist() == expected.tolist(), (metric, flat_column)
        assert rows[[c for c in VALUE_COLUMNS if c not in sources]].isna().all().all(), metric
    assert set(flat["treated_customers"]) == {500, 480, 120}


def test_only_the_variant_recommended_for_its_cut_is_flagged_recommended():
    flat = flat_campaign_results(results_of_tested_cuts(), RECOMMENDATIONS)

    recommended = flat[flat["is_recommended"]]
    assert set(zip(recommended["variant"], recommended["cut"])) == {("bundle", "all")}
    assert set(flat.loc[flat["cut"] == "VIP", "recommendation"]) == {"no variant lifts conversion significantly"}
    assert flat.loc[flat["variant"] == "discount", "guardrail_breached"].all()


def test_cuts_too_small_to_test_keep_their_rows_with_empty_metrics():
    small = pd.DataFrame(TESTED).drop(columns="guardrail_breached").assign(status="too small to test")

    flat = flat_campaign_results(small, RECOMMENDATIONS.iloc[:0])

    assert list(flat.columns) == FLAT_COLUMNS and len(flat) == len(small) * len(RESULT_METRICS)
    assert flat[["lift", "lift_low", "p_value", "guardrail_breached"]].isna().all().all()
    assert not flat["is_recommended"].any()


def test_no_campaign_gives_an_empty_table_with_every_column():
    flat = flat_campaign_results(pd.DataFrame(), pd.DataFrame())

    assert flat.empty and list(flat.columns) == FLAT_COLUMNS
