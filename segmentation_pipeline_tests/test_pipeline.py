"""The pipeline materialised with Dagster on a small generated shop (800 customers, Jan-Feb 2024)."""

import functools
import json
import re
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from segmentation_pipeline.defs.ingest import checks
from segmentation_pipeline.defs.resources import SourceResource
from segmentation_pipeline.domain.quality import expectations, volume
from segmentation_pipeline.domain.returns.features import FACT_COLUMNS
from segmentation_pipeline.domain.returns.registry import ModelRegistry
from segmentation_pipeline.run import flagged_lines, own_error
from segmentation_pipeline.serving.state import current_state
from segmentation_pipeline.sql import catalog
from segmentation_pipeline.warehouse import holding_warehouse
from segmentation_pipeline_tests.pipeline_runs import (
    TINY_SHOP_SEGMENTS,
    copy_of,
    materialisation_metadata,
    open_warehouse,
    run,
    shop_through,
    warehouse,
)
from segmentation_pipeline_tests.scoring_state import facts_and_state_of_new_lines

TABLES = ["transactions", "returns", "customers", "campaign_exposures", "service_interactions"]


def warehouse_snapshot(folder: Path) -> dict[str, list[tuple]]:
    with open_warehouse(folder) as con:
        names = [f"staging.{t}" for t in TABLES] + ["staging.quarantine"]
        names += [
            "features.customer_history",
            "segments.rfm_history",
            "segments.segment_history",
            "segments.segment_models",
        ]
        names += ["returns.line_facts", *catalog.SCORING_STATE.values()]
        # a customer's expected return rate comes from whichever model is in production; models live in each run's folder
        model_made = {
            "returns.customer_state": "EXCLUDE (expected_return_rate, p_alive, clv, net_clv, churn_probability, churn_band)",
            "segments.segment_models": "EXCLUDE (path)",
        }
        return {n: con.sql(f"SELECT * {model_made.get(n, '')} FROM {n} ORDER BY ALL").fetchall() for n in names}


def blocking_failures(result: dg.ExecuteInProcessResult) -> list[str]:
    return [
        f"{e.asset_key.to_user_string()}:{e.check_name}"
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    ]


def test_full_window_materialises_with_every_blocking_check_passing(shop_run):
    folder, result = shop_run
    assert result.success
    assert blocking_failures(result) == []
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {f"stg_{t}" for t in TABLES} <= materialised
    with open_warehouse(folder) as con:
        staged = dict(con.sql("SELECT 'transactions', count(*) FROM staging.transactions").fetchall())
        raw = con.sql("SELECT count(*) FROM raw.transactions").fetchall()[0][0]
    assert 0 < staged["transactions"] <= raw


def test_data_quality_report_accounts_for_every_raw_row(shop_run):
    folder, _ = shop_run
    report = (folder / "reports" / "data_quality.md").read_text()
    with open_warehouse(folder) as con:
        staged = con.sql("SELECT count(*) FROM staging.transactions").fetchall()[0][0]
        quarantined, unplaced = con.sql(
            "SELECT count(partition_date), count(*) - count(partition_date) FROM staging.quarantine "
            "WHERE table_name = 'transactions'"
        ).fetchall()[0]
        on_a_day = con.sql("SELECT count(*) FROM raw.transactions").fetchall()[0][0]
    assert on_a_day == staged + quarantined
    raw = on_a_day + unplaced
    assert f"| transactions | {raw:,} | {staged:,} | {quarantined:,} | {unplaced:,} |" in report
    assert "do not reconcile" not in report
    assert report.count("| yes |") == len(TABLES)


def test_a_young_small_shop_raises_no_volume_warning(shop_run):
    _, result = shop_run
    evaluations = [e for e in result.get_asset_check_evaluations() if e.check_name == "daily_volume_in_trailing_range"]
    assert len(evaluations) == 2
    for evaluation in evaluations:  # about ten orders a day: below the level the check judges
        assert evaluation.passed
        assert evaluation.metadata["days judged"].value == 0
        assert evaluation.metadata["days not judged (history too short or too thin)"].value > 50


def test_console_lists_ten_flagged_days_then_how_many_more():
    flagged = [{"day": f"2024-03-{d:02d}", "value": 0.0, "lower": 33.171, "upper": 244.19} for d in range(1, 13)]

    lines = flagged_lines(flagged)

    assert lines[0] == "2024-03-01: 0, outside 33.171 – 244.19"
    assert len(lines) == 11 and lines[-1] == "and 2 more"
    assert flagged_lines(flagged[:3]) == lines[:3]


def test_return_facts_describe_every_staged_line_and_the_scoring_state_is_served(shop_run):
    folder, result = shop_run
    with open_warehouse(folder) as con:
        unmatched = con.sql(
            "SELECT count(*) FROM staging.transactions t FULL JOIN returns.line_facts f USING (order_id, line_no) "
            "WHERE t.order_id IS NULL OR f.order_id IS NULL OR f.as_of_day <> t._partition_date"
        ).fetchall()[0][0]
        facts = con.sql("SELECT count(*), count(DISTINCT customer_segment) FROM returns.line_facts").fetchall()[0]
        published = current_state(folder / "serving")
        for name, table in catalog.SCORING_STATE.items():
            served = con.sql(f"FROM '{published / name}' ORDER BY ALL").df()
            pd.testing.assert_frame_equal(served, con.sql(f"FROM {table} ORDER BY ALL").df())
    production = ModelRegistry(folder / "models" / "returns").production_version()
    assert json.loads((published / "model.json").read_text()) == {"version": production}
    assert unmatched == 0 and facts[0] > 0
    assert facts[1] > 2  # 'none' before the first model, then named segments
    [event] = [
        e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "return_line_facts"
    ][:1]
    schema = event.step_materialization_data.materialization.metadata["dagster/column_schema"].schema
    assert [c.name for c in schema.columns] == [*FACT_COLUMNS, "as_of_day"]


def test_scoring_state_gives_the_facts_of_a_line_placed_after_all_data(shop_run, tmp_path):
    folder, _ = shop_run
    copy = copy_of(folder, tmp_path / "copy")
    with open_warehouse(copy) as con:
        facts, expected = facts_and_state_of_new_lines(con)
    assert facts["customer_prior_orders"].sum() > 0 and facts["product_prior_returned_units"].sum() > 0
    pd.testing.assert_frame_equal(facts, expected, check_dtype=False)


def test_rerunning_a_partition_replaces_its_rows(shop_run, tmp_path):
    folder, _ = shop_run
    copy = copy_of(folder, tmp_path / "copy")
    before = warehouse_snapshot(copy)
    unchanged = run(copy, first_day="2024-01-15", last_day="2024-01-15")
    assert unchanged.success
    assert materialisation_metadata(unchanged, "stg_transactions")["days staged in this run"].value == 0
    assert warehouse_snapshot(copy) == before
    forced = {"ops": {"stg_transactions": {"config": {"force": True}}}}
    restaged = run(copy, first_day="2024-01-15", last_day="2024-01-15", run_config=forced)
    assert restaged.success
    assert materialisation_metadata(restaged, "stg_transactions")["days staged in this run"].value == 31
    assert warehouse_snapshot(copy) == before


def test_a_backfill_of_a_range_equals_the_days_loaded_one_by_one(tmp_path):
    by_range, by_day = tmp_path / "range", tmp_path / "day"
    source = tmp_path / "exports"
    assert run(by_range, source=shop_through(source, "2024-01-10")).success
    for day in ("2024-01-08", "2024-01-09", "2024-01-10"):
        assert run(by_day, source=shop_through(source, day)).success
    assert warehouse_snapshot(by_range) == warehouse_snapshot(by_day)
    assert len(warehouse_snapshot(by_range)["staging.transactions"]) > 0


def test_failing_blocking_check_stops_downstream_assets(tmp_path, monkeypatch):
    strict = {"transactions": {"quantity": (1, 1)}}  # real baskets hold lines of several units
    monkeypatch.setattr(expectations, "value_ranges", lambda table: strict.get(table.name, {}))
    result = run(tmp_path / "gated", first_day="2024-01-15", last_day="2024-01-15")
    assert "stg_transactions:expectations" in blocking_failures(result)
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "stg_transactions" in materialised
    assert "stg_returns" not in materialised


def materialise(
    folder: Path, asset: str, first_day: str = "2024-01-01", last_day: str = "2024-02-29", config: dict | None = None
) -> dg.ExecuteInProcessResult:
    """Materialise one asset alone in the folder, for a range of days, with optional run config."""
    return run(
        folder,
        first_day=first_day,
        last_day=last_day,
        selection=dg.AssetSelection.assets(asset).without_checks(),
        run_config={"ops": {asset: {"config": config}}} if config else None,
    )


def run_check(folder: Path, asset: str, check: str, first_day: str, last_day: str) -> dg.AssetCheckEvaluation:
    """Run one check alone against the folder's warehouse, for a range of days."""
    selection = dg.AssetSelection.checks(dg.AssetCheckKey(dg.AssetKey(asset), check))
    [evaluation] = run(
        folder, first_day=first_day, last_day=last_day, selection=selection
    ).get_asset_check_evaluations()
    return evaluation


FIRST_ROW_OF_DAY = "(SELECT min(rowid) FROM staging.{table} WHERE _partition_date = '2024-02-20')"
# (asset, check, SQL that breaks what the check guards on 2024-02-20, last day the check covers)
TAMPERING = {
    "row lost": (
        "stg_transactions",
        "raw_rows_reconcile",
        f"DELETE FROM staging.transactions WHERE rowid = {FIRST_ROW_OF_DAY.format(table='transactions')}",
        "2024-02-20",
    ),
    "row moved to another day": (  # the two days' totals still balance, each day alone does not
        "stg_transactions",
        "raw_rows_reconcile",
        (
            "UPDATE staging.transactions SET _partition_date = '2024-02-21' "
            f"WHERE rowid = {FIRST_ROW_OF_DAY.format(table='transactions')}"
        ),
        "2024-02-21",
    ),
    "quantity out of range": (
        "stg_transactions",
        "expectations",
        f"UPDATE staging.transactions SET quantity = 0 WHERE rowid = {FIRST_ROW_OF_DAY.format(table='transactions')}",
        "2024-02-20",
    ),
    "duplicate return id": (
        "stg_returns",
        "expectations",
        "INSERT INTO staging.returns SELECT * FROM staging.returns WHERE _partition_date = '2024-02-20' LIMIT 1",
        "2024-02-20",
    ),
    "returns loaded ten times": (
        "stg_returns",
        "daily_volume_in_trailing_range",
        (
            "INSERT INTO staging.returns SELECT r.* REPLACE (r.return_id || '-' || copy AS return_id) "
            "FROM staging.returns r, range(9) AS copies(copy) WHERE r._partition_date = '2024-02-20'"
        ),
        "2024-02-20",
    ),
    "unstable segment model": (
        "customer_segments",
        "segments_are_stable",
        "UPDATE segments.segment_models SET mean_ari = 0.2",
        "2024-02-20",
    ),
    "orders loaded twice": (
        "stg_transactions",
        "daily_volume_in_trailing_range",
        (
            "INSERT INTO staging.transactions SELECT * REPLACE (order_id || '-again' AS order_id) "
            "FROM staging.transactions WHERE _partition_date = '2024-02-20'"
        ),
        "2024-02-20",
    ),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_check_passes_on_clean_data_and_fails_on_broken_data(shop_run, tmp_path, monkeypatch, case):
    asset, check, tampering, last_day = TAMPERING[case]
    folder, _ = shop_run
    # the test shop sells about ten orders a day, too few for the volume checks to judge: lower their floor
    monkeypatch.setattr(checks, "daily_anomalies", functools.partial(volume.daily_anomalies, min_level=1))
    copy = copy_of(folder, tmp_path / "copy")
    clean = run_check(copy, asset, check, "2024-02-20", last_day)
    with duckdb.connect(str(warehouse(copy))) as con:
        con.execute(tampering).fetchall()
    evaluation = run_check(copy, asset, check, "2024-02-20", last_day)
    assert not evaluation.passed
    if check == "daily_volume_in_trailing_range":  # a small shop's month has noisy days: the tampered one is new
        assert "2024-02-20" not in clean.metadata["flagged days"].md_str
        assert "| 2024-02-20 |" in evaluation.metadata["flagged days"].md_str
        [line] = [line for line in flagged_lines(evaluation.metadata["flagged"].value) if "2024-02-20" in line]
        assert re.fullmatch(r"2024-02-20: [\d.]+, outside [\d.]+ – [\d.]+", line)
    else:
        assert clean.passed
    warnings = ("daily_volume_in_trailing_range", "segments_are_stable")
    expected = dg.AssetCheckSeverity.WARN if check in warnings else dg.AssetCheckSeverity.ERROR
    assert evaluation.severity == expected


def test_every_snapshot_customer_gets_rfm_scores_and_a_named_segment(shop_run):
    from segmentation_pipeline.domain.segments.rfm import RFM_SEGMENTS

    folder, _ = shop_run
    with open_warehouse(folder) as con:
        per_day = con.sql(
            "SELECT d.day, (SELECT count(*) FROM snapshot_on(d.day)), (SELECT count(*) FROM rfm_on(d.day)) "
            "FROM (SELECT CAST(range AS DATE) AS day FROM range(DATE '2024-01-01', DATE '2024-03-01', INTERVAL 1 DAY)) d"
        ).fetchall()
        scores = con.sql(
            "SELECT min(least(r_score, f_score, m_score)), max(greatest(r_score, f_score, m_score)) "
            "FROM segments.rfm_history"
        ).fetchall()[0]
        names = {row[0] for row in con.sql("SELECT DISTINCT rfm_segment FROM segments.rfm_history").fetchall()}
    assert sum(customers > 0 for _, customers, _ in per_day) >= 59  # every day once the first customer has bought
    assert all(customers == scored for _, customers, scored in per_day)
    assert scores == (1, 5)
    assert names <= {rule.name for rule in RFM_SEGMENTS} and len(names) >= 6


def test_every_customer_is_segmented_by_a_versioned_model(shop_run):
    folder, result = shop_run
    with open_warehouse(folder) as con:
        models = con.sql("SELECT version, fitted_on, k, path FROM segments.segment_models ORDER BY 1").fetchall()
        unassigned = con.sql(
            "SELECT count(*) FROM (SELECT CAST(range AS DATE) AS day FROM range("
            "(SELECT min(fitted_on) FROM segments.segment_models), DATE '2024-03-01', INTERVAL 1 DAY)) d, "
            "LATERAL (SELECT customer_id FROM snapshot_on(d.day) EXCEPT SELECT customer_id FROM segments_on(d.day))"
        ).fetchall()[0][0]
        names_per_id = con.sql(
            "SELECT segment_id, count(DISTINCT segment_name) FROM segments_on(DATE '2024-02-29') GROUP BY 1"
        ).fetchall()
    assert len(models) >= 2  # refitted every 28 days over two months
    assert all(Path(path).exists() and 2 <= k <= 12 for _, _, k, path in models)
    assert unassigned == 0
    assert all(n == 1 for _, n in names_per_id)
    [event] = [
        e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "customer_segments"
    ][:1]
    metadata = event.step_materialization_data.materialization.metadata
    assert "stability: mean adjusted Rand index" in metadata
    scores = metadata["model selection scores"]
    assert [r.data["k"] for r in scores.records] == list(range(2, 13))
    assert [c.type for c in scores.schema.columns] == ["int", "float", "float", "float", "float"]
    chart = metadata["model selection chart"].md_str
    [chosen] = [line for line in chart.splitlines() if line.endswith("◀ chosen")]
    assert chosen.split()[0] == str(metadata["k"].value)
    comparison = metadata["K-means against a Gaussian mixture (latest refit day)"].md_str
    assert "kmeans" in comparison and "gmm" in comparison


def test_profiles_transitions_and_cohorts_describe_the_latest_segments(shop_run):
    folder, _ = shop_run
    with open_warehouse(folder) as con:
        shares, actions = con.sql(
            "SELECT sum(share_customers), count(recommended_action) FROM segments.segment_profiles"
        ).fetchall()[0]
        profiled = con.sql("SELECT count(*) FROM segments.segment_profiles").fetchall()[0][0]
        top_categories = [r[0] for r in con.sql("SELECT top_categories FROM segments.segment_profiles").fetchall()]
        latest_segments = con.sql("SELECT count(DISTINCT segment_id) FROM segments_on(DATE '2024-02-29')").fetchall()[
            0
        ][0]
        rates = con.sql("SELECT * FROM segments.transition_rates").df().set_index("from_segment")
        first_month = con.sql("SELECT min(m0), max(m0) FROM segments.cohort_retention").fetchall()[0]
    assert shares == pytest.approx(1.0)
    assert actions == profiled == latest_segments
    assert top_categories and all(re.fullmatch(r"[a-z]+ \d+%(, [a-z]+ \d+%){0,2}", t) for t in top_categories)
    observed = rates.sum(axis=1)
    assert len(observed) >= 2 and ((observed - 1).abs() < 1e-9)[observed > 0].all()  # each row is a distribution
    assert first_month == (1.0, 1.0)  # every customer buys in their acquisition month


def test_return_model_is_versioned_promoted_through_the_gate_and_scores_recent_lines(shop_run):
    folder, result = shop_run
    registry = ModelRegistry(folder / "models" / "returns")
    with open_warehouse(folder) as con:
        runs = con.sql("SELECT version, promoted, production_version FROM returns.model_runs").fetchall()
        scored = con.sql(
            "SELECT count(*), min(return_probability), max(return_probability), count(DISTINCT model_version) "
            "FROM returns.recent_line_scores"
        ).fetchall()[0]
        recent = con.sql(
            "SELECT count(*) FROM returns.line_facts WHERE as_of_day > (SELECT max(as_of_day) - 7 FROM returns.line_facts)"
        ).fetchall()[0][0]
        rates = con.sql(
            "SELECT count(*), min(expected_return_rate), max(expected_return_rate) FROM "
            "returns.customer_expected_return_rate"
        ).fetchall()[0]
        served_rates = con.sql("SELECT count(expected_return_rate) FROM returns.customer_state").fetchall()[0][0]
    [(version, promoted, production)] = runs
    assert promoted and registry.production_version() == production == version
    card = registry.card(version)
    assert {"model", "population_rate", "customer_rate"} <= set(card["test_metrics"])
    assert card["test_metrics"]["model"]["roc_auc"] > card["test_metrics"]["population_rate"]["roc_auc"]
    assert scored[0] == recent > 0 and 0 <= scored[1] <= scored[2] <= 1 and scored[3] == 1
    assert rates[0] == served_rates > 0 and 0 <= rates[1] <= rates[2] <= 1
    [check] = [e for e in result.get_asset_check_evaluations() if e.check_name == "new_model_promoted"]
    assert check.passed


def test_a_model_falling_behind_production_stays_out_and_the_check_says_why(shop_run, tmp_path):
    folder, _ = shop_run
    copy = copy_of(folder, tmp_path / "copy")
    registry = ModelRegistry(copy / "models" / "returns")
    in_production = registry.production_version()
    result = run(
        copy,
        selection=dg.AssetSelection.assets("return_model"),
        # a new model must beat production by a whole point of ROC AUC: it cannot
        run_config={"ops": {"return_model": {"config": {"gate_margin": -1.0, "retrain_now": True}}}},
    )
    [check] = result.get_asset_check_evaluations()
    with open_warehouse(copy) as con:
        version, promoted = con.sql(
            "SELECT version, promoted FROM returns.model_runs ORDER BY trained_at DESC LIMIT 1"
        ).fetchall()[0]
    assert not promoted and version in registry.versions() and version != in_production
    assert registry.production_version() == in_production
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert "falls behind production" in check.metadata["reason"].text


def test_a_production_model_of_another_return_window_is_neither_compared_nor_used(shop_run, tmp_path):
    folder, _ = shop_run
    copy = copy_of(folder, tmp_path / "copy")
    registry = ModelRegistry(copy / "models" / "returns")
    in_production = registry.production_version()
    result = run(
        copy,
        selection=dg.AssetSelection.assets("return_model", "recent_return_scores", "customer_expected_return_rates"),
        run_config={"ops": {"return_model": {"config": {"window_days": 14, "retrain_now": True}}}},
    )
    assert result.success
    decision = materialisation_metadata(result, "return_model")["decision"].value
    assert f"production {in_production} predicts returns within 30 days, not 14" in decision
    # nothing to fall behind, so the 14-day model is promoted; scores of the default 30-day window then refuse it
    new = registry.production_version()
    assert new != in_production and registry.card(new)["label"]["window_days"] == 14
    scores = materialisation_metadata(result, "recent_return_scores")["model version"].value
    assert scores == f"production {new} predicts returns within 14 days, not 30; nothing scored"


def test_too_few_labelled_lines_train_no_model_and_the_check_says_so(shop_run, tmp_path):
    from segmentation_pipeline.domain.returns.gate import MINIMUM_TRAINING_LINES

    folder, _ = shop_run
    copy = tmp_path / "copy"
    copy.mkdir()
    warehouse(copy).write_bytes(warehouse(folder).read_bytes())
    with duckdb.connect(str(warehouse(copy))) as con:
        con.execute(f"DELETE FROM returns.line_facts WHERE rowid >= {MINIMUM_TRAINING_LINES // 2}").fetchall()
    result = run(
        copy,
        selection=dg.AssetSelection.assets("return_model"),
        run_config={"ops": {"return_model": {"config": {"retrain_now": True}}}},
    )
    [check] = result.get_asset_check_evaluations()
    assert not check.passed and check.metadata["reason"].text.startswith("not trained: ")
    assert not (copy / "models" / "returns").exists()  # nothing saved, nothing promoted


def test_latest_segments_are_compared_with_the_latent_types_of_the_generated_shop(shop_run):
    folder, result = shop_run
    metadata = materialisation_metadata(result, "segments_vs_latent_types")
    with open_warehouse(folder) as con:
        confusion = con.sql("SELECT * FROM segments.latent_type_confusion").df().set_index("label")
        latest = con.sql("SELECT segment_name, count(*) FROM segments_on(DATE '2024-02-29') GROUP BY 1").fetchall()
    assert dict(confusion.sum()) == dict(latest)
    assert set(confusion.index) <= {"vip", "frequent_small", "bargain_hunter", "regular", "one_time", "serial_returner"}
    assert metadata["customers compared"].value == confusion.to_numpy().sum()
    assert metadata["segments"].value == len(latest)
    assert -1 <= metadata["baseline adjusted Rand index"].value <= 1
    assert metadata["beats the baseline"].value == (
        metadata["adjusted Rand index"].value >= metadata["baseline adjusted Rand index"].value
    )
    assert metadata["customers per true type (rows) and segment (columns)"].md_str.startswith("| label ")


def test_a_second_run_fails_at_once_naming_the_run_that_holds_the_warehouse(tmp_path):
    folder = tmp_path / "busy"
    one_asset = dg.AssetSelection.assets("stg_customers")
    with holding_warehouse(warehouse(folder), "run first"):
        second = run(folder, selection=one_asset)
    [failure] = [e for e in second.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE]
    assert re.match(
        rf"\S+WarehouseInUse: {warehouse(folder)} is held by run first \(pid \d+",
        own_error(failure.event_specific_data.error),
    )
    assert not warehouse(folder).exists()  # nothing was written
    assert run(folder, selection=one_asset).success  # once released, the next run goes ahead


def test_days_before_the_first_segment_model_have_rfm_segments_only_and_say_so(shop_run):
    folder, result = shop_run
    metadata = materialisation_metadata(result, "customer_segments")
    with open_warehouse(folder) as con:
        [(first_model,)] = con.sql("SELECT min(fitted_on) FROM segments.segment_models").fetchall()
        day_before = first_model - pd.Timedelta(days=1).to_pytimedelta()
        [(customers,)] = con.execute("SELECT count(*) FROM snapshot_on($day)", {"day": day_before}).fetchall()
        segmented = con.execute("SELECT count(*) FROM segments_on($day)", {"day": day_before}).fetchall()
        rfm = con.execute("SELECT count(*) FROM rfm_on($day)", {"day": day_before}).fetchall()
    assert 0 < customers < TINY_SHOP_SEGMENTS["min_customers"]
    assert segmented == [(0,)] and rfm == [(customers,)]
    assert metadata["days without a segment model"].value == (first_model - date(2024, 1, 1)).days
    assert (
        f"fewer than {TINY_SHOP_SEGMENTS['min_customers']} customers"
        in metadata["why some days have no segments"].value
    )


def test_a_files_source_with_customer_labels_gets_the_same_comparison(shop_run, tmp_path):
    folder, result = shop_run
    copy = copy_of(folder, tmp_path / "copy")
    files = shop_through(tmp_path / "files", "2024-02-29")  # with customer_labels.parquet beside the tables
    labelled = run(copy, selection=dg.AssetSelection.assets("segments_vs_latent_types"), source=files)
    from_files = materialisation_metadata(labelled, "segments_vs_latent_types")
    from_generator = materialisation_metadata(result, "segments_vs_latent_types")
    assert from_files["ground truth"].value.startswith("files in ")
    for name in ("customers compared", "adjusted Rand index", "baseline adjusted Rand index"):
        assert from_files[name] == from_generator[name]


def test_without_ground_truth_the_comparison_says_so(shop_run, tmp_path):
    folder, _ = shop_run
    copy = copy_of(folder, tmp_path / "copy")
    result = run(
        copy,
        selection=dg.AssetSelection.assets("segments_vs_latent_types"),
        source=SourceResource(kind="files", path=str(tmp_path), partitions_start="2024-01-01"),
    )
    metadata = materialisation_metadata(result, "segments_vs_latent_types")
    assert metadata["ground truth"].value.startswith("none:")
    assert "adjusted Rand index" not in metadata


def test_transitions_between_two_chosen_days(shop_run, tmp_path):
    folder, _ = shop_run
    copy = copy_of(folder, tmp_path / "copy")
    chosen = {"from_day": "2024-02-10", "to_day": "2024-02-20", "forecast_periods": 2}
    result = materialise(copy, "segment_transitions", config=chosen)
    assert result.success
    metadata = materialisation_metadata(result, "segment_transitions")
    assert (metadata["from"].value, metadata["to"].value) == ("2024-02-10", "2024-02-20")
    with open_warehouse(copy) as con:
        moved = con.sql("SELECT sum(COLUMNS(* EXCLUDE from_segment)) FROM segments.transition_counts").fetchall()[0]
        customers = con.sql(
            "SELECT count(DISTINCT customer_id) FROM "
            "(FROM segments_on(DATE '2024-02-10') UNION ALL FROM segments_on(DATE '2024-02-20'))"
        ).fetchall()[0][0]
        periods = con.sql("SELECT list(period ORDER BY period) FROM segments.size_forecast").fetchall()[0][0]
    assert sum(moved) == customers
    assert periods == [0, 1, 2]

    missing = materialise(copy, "segment_transitions", config={"from_day": "2023-06-30"})
    assert not missing.success
    [failure] = [e for e in missing.all_events if e.is_step_failure]
    assert "from_day: no segments on 2023-06-30" in failure.step_failure_data.error.to_string()


def test_segment_ids_and_names_do_not_flip_when_unchanged_data_is_segmented_again(shop_run, tmp_path):
    folder, _ = shop_run
    copy = copy_of(folder, tmp_path / "copy")
    query = "SELECT * FROM segments.segment_history WHERE as_of_day >= $day ORDER BY ALL"
    with open_warehouse(copy) as con:
        [(refit_day, earlier_models)] = con.sql(
            "SELECT max(fitted_on), count(*) - 1 FROM segments.segment_models"
        ).fetchall()
        before = con.execute(query, {"day": refit_day}).fetchall()
    assert earlier_models >= 1 and len(before) > 0
    # the latest refit is redone on the same snapshots, matched to the model in force before it
    config = {"recompute_from": str(refit_day)}
    result = materialise(copy, "customer_segments", config=config)
    assert result.success
    metadata = materialisation_metadata(result, "customer_segments")
    assert metadata["model refits in this run"].value == 1
    with open_warehouse(copy) as con:
        assert con.execute(query, {"day": refit_day}).fetchall() == before


HISTORIES = ["features.customer_history", "segments.rfm_history", "segments.segment_history", "returns.line_facts"]


def history_rows(folder: Path, before: str) -> dict[str, list[tuple]]:
    with open_warehouse(folder) as con:
        return {
            t: con.execute(f"SELECT * FROM {t} WHERE as_of_day < $day ORDER BY ALL", {"day": before}).fetchall()
            for t in HISTORIES
        }


def test_a_daily_refresh_touches_that_day_only_and_refits_models_on_their_cadence(tmp_path):
    folder, source = tmp_path / "daily", tmp_path / "exports"
    assert run(folder, source=shop_through(source, "2024-02-10")).success
    earlier = history_rows(folder, "2024-02-11")
    with open_warehouse(folder) as con:
        [(last_refresh,)] = con.sql("SELECT max(refresh) FROM meta.refreshes").fetchall()

    inside = run(folder, source=shop_through(source, "2024-02-11"))  # the nightly run: both months, one new day
    assert inside.success
    assert history_rows(folder, "2024-02-11") == earlier  # the refresh wrote no row of an earlier day
    with open_warehouse(folder) as con:
        refreshed = con.execute(
            "SELECT asset, first_day, end_day FROM meta.refreshes WHERE refresh > $last AND asset <> 'return_scores'",
            {"last": last_refresh},
        ).fetchall()
        new_rows = {
            t: con.sql(f"SELECT count(*) FROM {t} WHERE as_of_day = DATE '2024-02-11'").fetchall()[0][0]
            for t in HISTORIES
        }
    assert {(first, end) for _, first, end in refreshed} == {(date(2024, 2, 11), date(2024, 2, 12))}
    assert all(n > 0 for n in new_rows.values()), new_rows
    assert materialisation_metadata(inside, "stg_transactions")["days staged in this run"].value == 1
    assert materialisation_metadata(inside, "customer_segments")["model refits in this run"].value == 0
    assert materialisation_metadata(inside, "return_model")["decision"].value.startswith("not retrained")

    past = run(folder, source=shop_through(source, "2024-02-29"))  # the next refit day and 7 more days of data
    assert past.success
    assert materialisation_metadata(past, "customer_segments")["model refits in this run"].value == 1
    assert "retrain every 7" in materialisation_metadata(past, "return_model")["why trained"].value


def test_the_histories_give_every_day_what_a_day_by_day_recomputation_gives(shop_run):
    """Stored as changes, the RFM scores and segments of each day and customer equal those computed
    afresh from that day's snapshot: the scores by the RFM rule, the segments by the model in force."""
    from segmentation_pipeline.domain.segments.refit import INPUT_COLUMNS
    from segmentation_pipeline.domain.segments.registry import SegmentModelRegistry
    from segmentation_pipeline.domain.segments.rfm import RFM_COLUMNS, rfm_scores

    folder, _ = shop_run
    registry = SegmentModelRegistry(folder / "models" / "segments")
    compared = 0
    with open_warehouse(folder) as con:
        for day in pd.date_range("2024-01-01", "2024-02-29").date:
            snapshot = con.execute("FROM snapshot_on($day) ORDER BY customer_id", {"day": day}).df()
            if snapshot.empty:
                continue
            stored = con.execute("FROM rfm_on($day) ORDER BY customer_id", {"day": day}).df()
            afresh = rfm_scores(snapshot)
            columns = ["customer_id", *RFM_COLUMNS]
            pd.testing.assert_frame_equal(stored[columns], afresh[columns], check_dtype=False)
            in_force = registry.in_force(day + pd.Timedelta(days=1).to_pytimedelta())
            segments = con.execute("FROM segments_on($day) ORDER BY customer_id", {"day": day}).df()
            if in_force is None:
                assert segments.empty
                continue
            assigned = in_force.assign(snapshot[list(INPUT_COLUMNS)])
            pd.testing.assert_frame_equal(
                segments[["customer_id", "segment_id", "segment_name", "model_version"]],
                assigned[["customer_id", "segment_id", "segment_name", "model_version"]],
                check_dtype=False,
            )
            compared += len(snapshot)
    assert compared > 10_000  # every customer of every day once the first model is fitted
