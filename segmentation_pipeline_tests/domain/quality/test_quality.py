"""Data-quality gates: each staging rule passes clean data and catches the breach it guards."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.domain.contract import TABLES, Table
from segmentation_pipeline.domain.quality.expectations import staging_columns, staging_expectations, validate_staging
from segmentation_pipeline.domain.quality.report import TableCounts, quality_report_markdown
from segmentation_pipeline.domain.quality.volume import daily_anomalies, trailing_anomaly

WINDOW_START = datetime(2024, 3, 1, tzinfo=UTC)
WINDOW_END = datetime(2024, 3, 2, tzinfo=UTC)
ROWS = 3


def _value(column: str, sql_type: str, row: int):
    if sql_type == "VARCHAR":
        return f"{column}-{row}"
    if sql_type == "TIMESTAMP":
        return datetime(2024, 3, 1, 6 + row)
    if sql_type == "BOOLEAN":
        return row % 2 == 0
    if column == "birth_year":
        return 1980 + row
    if sql_type in ("BIGINT", "INTEGER"):
        return row + 1
    return float(row) + 0.5


def clean_frame(table: Table) -> pd.DataFrame:
    """A few valid rows of the staged table, one value per contract type."""
    types = {c.name: c.sql_type for c in table.columns} | {"line_no": "BIGINT"}
    return pd.DataFrame({name: [_value(name, types[name], i) for i in range(ROWS)] for name in staging_columns(table)})


def validate(table_name: str, df: pd.DataFrame):
    return validate_staging(TABLES[table_name], df, WINDOW_START, WINDOW_END)


def only_failure(result):
    assert not result.success
    assert len(result.failures) == 1, result.to_markdown()
    return result.failures[0]


@pytest.mark.parametrize("name", sorted(TABLES))
def test_clean_partition_passes_every_rule(name):
    table = TABLES[name]
    result = validate(name, clean_frame(table))

    assert result.success, result.to_markdown()
    assert result.table == name
    assert result.failures == []
    checked = {(o.expectation, o.column) for o in result.outcomes}
    for column in staging_columns(table):
        assert ("expect_column_to_exist", column) in checked
    for column in table.key:
        assert ("expect_column_values_to_not_be_null", column) in checked
    unique = (
        ("expect_column_values_to_be_unique", table.key[0])
        if len(table.key) == 1
        else ("expect_compound_columns_to_be_unique", ",".join(table.key))
    )
    assert unique in checked
    if table.event_ts:
        assert ("expect_column_values_to_be_between", table.event_ts) in checked
    assert "all" in result.to_markdown()


def test_transactions_key_includes_staged_line_number():
    assert staging_columns(TABLES["transactions"])[-1] == "line_no"
    assert staging_columns(TABLES["customers"]) == TABLES["customers"].column_names


@pytest.mark.parametrize("name", sorted(TABLES))
def test_empty_partition_passes(name):
    table = TABLES[name]
    assert validate(name, clean_frame(table).iloc[0:0]).success
    assert validate(name, pd.DataFrame(columns=staging_columns(table))).success


def test_null_key_is_reported():
    df = clean_frame(TABLES["transactions"])
    df.loc[1, "order_id"] = None

    failure = only_failure(validate("transactions", df))

    assert failure.expectation == "expect_column_values_to_not_be_null"
    assert failure.column == "order_id"
    assert failure.unexpected_count == 1
    assert failure.unexpected_percent == pytest.approx(100 / ROWS)
    assert failure.sample_values == [None]


def test_null_required_column_is_reported():
    df = clean_frame(TABLES["returns"])
    df.loc[0, "customer_id"] = None

    failure = only_failure(validate("returns", df))

    assert (failure.expectation, failure.column) == (
        "expect_column_values_to_not_be_null",
        "customer_id",
    )


def test_null_optional_columns_are_allowed():
    df = clean_frame(TABLES["transactions"])
    df["discount"] = None
    df["category"] = None

    assert validate("transactions", df).success


def test_duplicate_compound_key_is_reported():
    df = clean_frame(TABLES["transactions"])
    df.loc[1, ["order_id", "line_no"]] = [df.loc[0, "order_id"], df.loc[0, "line_no"]]

    failure = only_failure(validate("transactions", df))

    assert failure.expectation == "expect_compound_columns_to_be_unique"
    assert failure.column == "order_id,line_no"
    assert failure.unexpected_count == 2
    assert failure.sample_values == ["order_id-0,1"]


def test_duplicate_single_key_is_reported():
    df = clean_frame(TABLES["customers"])
    df.loc[2, "customer_id"] = "customer_id-0"

    failure = only_failure(validate_staging(TABLES["customers"], df))

    assert (failure.expectation, failure.column) == (
        "expect_column_values_to_be_unique",
        "customer_id",
    )
    assert failure.unexpected_count == 2
    assert failure.sample_values == ["customer_id-0"]


@pytest.mark.parametrize(
    ("name", "column", "bad"),
    [
        ("transactions", "quantity", 0),
        ("transactions", "unit_price", -2.5),
        ("transactions", "discount", -1.0),
        ("returns", "quantity", 0),
        ("returns", "refund_amount", -10.0),
        ("customers", "birth_year", 1850),
        ("service_interactions", "csat", 6),
        ("service_interactions", "csat", 0),
        ("campaign_exposures", "revenue", -0.01),
    ],
)
def test_out_of_range_value_is_reported(name, column, bad):
    df = clean_frame(TABLES[name])
    df.loc[1, column] = bad

    failure = only_failure(validate(name, df))

    assert failure.expectation == "expect_column_values_to_be_between"
    assert failure.column == column
    assert failure.unexpected_count == 1
    assert failure.sample_values == [bad]


def test_non_boolean_flag_is_reported():
    df = clean_frame(TABLES["campaign_exposures"])
    df["engaged"] = df["engaged"].astype(object)
    df.loc[0, "engaged"] = "yes"

    failure = only_failure(validate("campaign_exposures", df))

    assert (failure.expectation, failure.column) == ("expect_column_values_to_be_in_set", "engaged")
    assert failure.sample_values == ["yes"]


@pytest.mark.parametrize(
    "ts",
    [datetime(2024, 3, 2), datetime(2024, 2, 29, 23, 59, 59)],
    ids=["at-window-end", "before-window-start"],
)
def test_event_outside_partition_window_is_reported(ts):
    df = clean_frame(TABLES["returns"])
    df.loc[2, "return_ts"] = ts

    failure = only_failure(validate("returns", df))

    assert (failure.expectation, failure.column) == (
        "expect_column_values_to_be_between",
        "return_ts",
    )
    assert failure.unexpected_count == 1
    assert failure.sample_values == [ts.isoformat()]


def test_window_start_is_inclusive_and_optional():
    df = clean_frame(TABLES["returns"])
    df.loc[0, "return_ts"] = datetime(2024, 3, 1)
    assert validate("returns", df).success

    df.loc[1, "return_ts"] = datetime(2030, 1, 1)
    assert validate_staging(TABLES["returns"], df).success
    assert not any(
        getattr(e, "column", None) == "return_ts"
        for e in staging_expectations(TABLES["returns"], None, None)
        if e.expectation_type == "expect_column_values_to_be_between"
    )


def test_missing_column_is_reported_once():
    df = clean_frame(TABLES["transactions"]).drop(columns=["unit_price"])

    result = validate("transactions", df)
    failure = only_failure(result)

    assert failure.expectation == "expect_column_to_exist"
    assert failure.column == "unit_price"
    assert failure.unexpected_count == 1
    assert failure.sample_values == ["unit_price"]
    assert [o.column for o in result.outcomes].count("unit_price") == 1


def test_wrongly_typed_column_fails_with_an_error_message():
    df = clean_frame(TABLES["returns"])
    df["quantity"] = df["quantity"].astype(str)

    failure = only_failure(validate("returns", df))

    assert failure.column == "quantity"
    assert failure.error


def test_result_is_json_serialisable_and_renders_failures():
    df = clean_frame(TABLES["transactions"])
    df.loc[0, "quantity"] = 0
    df.loc[1, "order_ts"] = datetime(2024, 3, 5, 12)
    df.loc[2, "customer_id"] = None

    result = validate("transactions", df)
    payload = json.loads(json.dumps(dataclasses.asdict(result)))
    markdown = result.to_markdown()

    assert len(result.failures) == 3
    assert payload["success"] is False
    assert "3 of" in markdown
    assert "| expect_column_values_to_be_between | quantity | 1 |" in markdown
    assert "2024-03-05T12:00:00" in markdown
    assert "| expect_column_values_to_not_be_null | customer_id | 1 |" in markdown


STEADY = [100.0, 104.0, 97.0, 101.0, 99.0, 103.0, 96.0, 102.0, 98.0, 100.0] * 3


def test_anomaly_flags_a_spike_and_a_collapse_against_steady_history():
    spike = trailing_anomaly("rows", STEADY, 300.0)
    collapse = trailing_anomaly("rows", STEADY, 0.0)

    assert spike.is_anomaly and collapse.is_anomaly
    assert spike.baseline_median == pytest.approx(100.0)
    assert spike.history_days == 28
    assert spike.lower < 100.0 < spike.upper < 300.0


def test_anomaly_ignores_a_day_within_normal_noise():
    result = trailing_anomaly("rows", STEADY, 106.0)

    assert not result.is_anomaly
    assert result.lower <= 106.0 <= result.upper


def test_anomaly_never_flags_with_short_history():
    result = trailing_anomaly("rows", [100.0] * 6, 10_000.0)

    assert not result.is_anomaly and not result.judged
    assert result.history_days == 6
    assert trailing_anomaly("rows", [], 5.0).is_anomaly is False


def test_anomaly_on_flat_history_tolerates_small_moves_only():
    flat = [200.0] * 28

    assert not trailing_anomaly("rows", flat, 201.0).is_anomaly
    assert not trailing_anomaly("rows", flat, 340.0).is_anomaly  # a seasonal peak
    assert trailing_anomaly("rows", flat, 400.0).is_anomaly  # a day loaded twice
    assert trailing_anomaly("rows", flat, 100.0).is_anomaly  # a day loaded by half
    assert trailing_anomaly("rows", [0.0] * 28, 0.0).is_anomaly is False


def test_anomaly_uses_only_the_trailing_window():
    history = [10_000.0] * 50 + [100.0] * 28

    result = trailing_anomaly("rows", history, 100.0, window=28)

    assert result.baseline_median == 100.0
    assert not result.is_anomaly
    assert trailing_anomaly("rows", history, 100.0, window=len(history)).baseline_median == 10_000.0


def test_anomaly_band_scales_with_k():
    assert trailing_anomaly("rows", STEADY, 110.0, k=1.0, max_ratio=1.0).is_anomaly
    assert not trailing_anomaly("rows", STEADY, 110.0, k=4.0, max_ratio=1.0).is_anomaly


def test_daily_anomalies_compare_like_weekdays():
    first = date(2024, 1, 1)  # a Monday
    series = [(first + timedelta(days=i), v, v) for i in range(42) for v in [0.0 if i % 7 == 5 else 100.0]]
    series[-1] = (series[-1][0], 250.0, 250.0)  # the last Sunday doubles
    judged = daily_anomalies("orders", series, first + timedelta(days=28))
    flagged = [day for day, anomaly in judged if anomaly.is_anomaly]
    assert flagged == [first + timedelta(days=41)]  # closed Saturdays are not flagged


WEEKDAY_RHYTHM = [1.1, 1.0, 1.0, 1.05, 1.2, 0.7, 0.6]  # Monday .. Sunday


def orders_series(rates: np.ndarray, seed: int, first: date = date(2024, 1, 1)) -> list[tuple[date, float, float]]:
    """Daily orders drawn from Poisson rates shaped by the weekday rhythm: (day, orders, orders)."""
    days = [first + timedelta(days=i) for i in range(len(rates))]
    counts = np.random.default_rng(seed).poisson(rates * np.array([WEEKDAY_RHYTHM[d.weekday()] for d in days]))
    return [(day, float(n), float(n)) for day, n in zip(days, counts, strict=True)]


def test_a_planted_spike_and_drop_are_flagged_in_a_steady_series():
    series = orders_series(np.full(84, 120.0), seed=7)
    spike, drop = date(2024, 2, 14), date(2024, 3, 5)
    series = [(d, v * 2 if d == spike else v * 0.3 if d == drop else v, e) for d, v, e in series]

    judged = daily_anomalies("orders", series, date(2024, 1, 29))

    assert [day for day, a in judged if a.is_anomaly] == [spike, drop]
    assert all(a.judged for _, a in judged)


def test_a_young_shops_ramp_up_raises_no_warning():
    # orders grow from 1 to 100 a day over 200 days, with a weekday rhythm and Poisson noise
    series = orders_series(np.linspace(1.0, 100.0, 200), seed=11)

    judged = daily_anomalies("orders", series, series[0][0])

    assert [day for day, a in judged if a.is_anomaly] == []
    assert sum(a.judged for _, a in judged) > 50  # the last months are judged
    assert not any(a.judged for _, a in judged[:28])  # four weeks of history first
    unfloored = daily_anomalies("orders", series, series[0][0], min_weeks=3, min_level=0)
    assert any(a.is_anomaly for _, a in unfloored)  # what the floor keeps quiet


def test_a_thin_rate_series_is_not_judged():
    first = date(2024, 1, 1)
    rates = [0.1, 0.12, 0.08, 0.11] * 10 + [0.5]

    def series(returned_lines: float) -> list[tuple[date, float, float]]:
        return [(first + timedelta(days=i), r, returned_lines) for i, r in enumerate(rates)]

    thin, thick = (daily_anomalies("returns", series(n), first)[-1][1] for n in (5.0, 200.0))

    assert not thin.judged and not thin.is_anomaly and thin.level == 5.0
    assert thick.judged and thick.is_anomaly


@pytest.mark.parametrize(
    "history",
    [STEADY, [121.0, 111.0, 69.0, 14.0], [0.0, 300.0, 0.0, 300.0], [60.0, 0.0, 0.0, 0.0]],
    ids=["steady", "after-a-closure", "wild", "zero-median"],
)
def test_bands_are_never_negative_and_a_day_with_nothing_loaded_is_flagged(history):
    result = trailing_anomaly("orders", history, 0.0, min_history=4)

    assert 0.0 <= result.lower <= result.upper
    if result.judged:
        assert 0.0 < result.lower <= result.baseline_median <= result.upper
        assert result.is_anomaly
    else:
        assert result.baseline_median == 0.0 and (result.lower, result.upper) == (0.0, math.inf)


def test_bands_of_a_ramp_up_are_positive_and_hold_the_median():
    series = orders_series(np.linspace(1.0, 100.0, 200), seed=3)
    judged = [a for _, a in daily_anomalies("orders", series, series[0][0], min_weeks=3, min_level=0) if a.judged]

    assert judged
    assert all(0.0 < a.lower <= a.baseline_median <= a.upper for a in judged)


def test_report_shows_raw_rows_as_staged_plus_quarantined_plus_unplaced():
    totals = [TableCounts("transactions", 67_489, 67_458, 29, 2), TableCounts("customers", 400, 400, 0, 0)]
    reasons = [("transactions", "exact_duplicate", 29), ("transactions", "missing_value:order_ts", 2)]

    report = quality_report_markdown(totals, reasons)

    assert "| table | raw rows | staged | quarantined | unplaced | share quarantined | reconciles |" in report
    assert "| transactions | 67,489 | 67,458 | 29 | 2 | 0.0% | yes |" in report
    assert "| customers | 400 | 400 | 0 | 0 | 0.0% | yes |" in report
    assert "do not reconcile" not in report
    assert "| transactions | missing_value:order_ts | 2 |" in report


def test_report_marks_a_table_whose_counts_do_not_add_up():
    # the old page's arithmetic: raw rows without the unplaced ones, which were counted as quarantined
    totals = [TableCounts("transactions", 67_487, 67_458, 29, 2), TableCounts("returns", 10, 10, 0, 0)]

    report = quality_report_markdown(totals, [])

    assert totals[0].unaccounted == -2 and totals[1].unaccounted == 0
    assert "**Counts do not reconcile** (raw - staged - quarantined - unplaced): transactions (-2 rows)." in report
    assert "| transactions | 67,487 | 67,458 | 29 | 2 | 0.0% | **no: -2** |" in report
    assert "| returns | 10 | 10 | 0 | 0 | 0.0% | yes |" in report
