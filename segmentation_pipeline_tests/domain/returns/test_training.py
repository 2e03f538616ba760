"""Return model training: time split, baselines, candidates, calibration, key factors, gate, card, registry."""

from __future__ import annotations

import dataclasses
import itertools
import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.domain.returns.card import data_fingerprint
from segmentation_pipeline.domain.returns.evaluation import (
    BASELINES,
    baseline_scores,
    calibration_curve,
    calibration_error,
    price_band_edges,
    return_rates_by_group,
    score_metrics,
    top_decile_lift,
)
from segmentation_pipeline.domain.returns.features import FEATURE_COLUMNS, build_features
from segmentation_pipeline.domain.returns.gate import gate
from segmentation_pipeline.domain.returns.model import ReturnModel, SigmoidCalibrator, strongest
from segmentation_pipeline.domain.returns.registry import ModelRegistry
from segmentation_pipeline.domain.returns.settings import ALGORITHMS, ReturnTrainingSettings
from segmentation_pipeline.domain.returns.split import time_split
from segmentation_pipeline.domain.returns.training import (
    calibrate,
    candidate_pipeline,
    choose_candidate,
    for_single_requests,
    train_return_model,
)
from segmentation_pipeline_tests.return_lines import labelled_lines

SETTINGS = ReturnTrainingSettings(forest_trees=30, isotonic_min_lines=2_000, importance_max_lines=3_000)


def CLOCK() -> datetime:
    return datetime(2025, 1, 31, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    return labelled_lines(8_000, seed=5)


@pytest.fixture(scope="module")
def result(lines):
    return train_return_model(lines, SETTINGS, clock=CLOCK)


def test_time_split_is_three_consecutive_periods_with_whole_orders(lines):
    split = time_split(lines, (0.6, 0.2, 0.2))
    for earlier, later in itertools.pairwise(split):
        assert earlier["order_ts"].max() < later["order_ts"].min()
    orders = [set(part["order_id"]) for part in split]
    assert not (orders[0] & orders[1]) and not (orders[1] & orders[2]) and not (orders[0] & orders[2])
    assert all(part["order_ts"].is_monotonic_increasing for part in split)
    sizes = np.array([len(part) for part in split]) / sum(len(part) for part in split)
    np.testing.assert_allclose(sizes, [0.6, 0.2, 0.2], atol=0.01)


def test_time_split_stops_before_the_first_unknown_label(lines):
    split = time_split(lines)
    first_unknown = lines.loc[~lines["label_known"], "order_ts"].min()
    used = pd.concat(split)
    assert used["label_known"].all()
    assert used["order_ts"].max() < first_unknown
    assert len(used) == (lines["order_ts"] < first_unknown).sum()
    assert lines.loc[lines["label_known"] & (lines["order_ts"] >= first_unknown), "returned"].all()


def test_time_split_needs_three_periods():
    lines = labelled_lines(30, seed=1).assign(order_ts=pd.Timestamp("2024-01-01"), label_known=True)
    with pytest.raises(ValueError, match="three periods"):
        time_split(lines)


def test_baselines_are_the_training_rate_and_the_customer_rate(lines):
    features = build_features(lines.head(50))
    scores = baseline_scores(features, 0.17)
    assert set(scores) == set(BASELINES)
    assert (scores["population_rate"] == 0.17).all()
    np.testing.assert_array_equal(scores["customer_rate"], features["customer_return_rate"].to_numpy())


def test_top_decile_lift_counts_ties_in_proportion():
    returned = np.array([1] * 10 + [0] * 90)
    assert top_decile_lift(returned, np.full(100, 0.3)) == pytest.approx(1.0)
    assert top_decile_lift(returned, returned.astype(float)) == pytest.approx(10.0)
    assert top_decile_lift(returned, -returned.astype(float)) == pytest.approx(0.0)


def test_score_metrics_and_calibration_curve_on_known_scores():
    rng = np.random.default_rng(0)
    probability = rng.uniform(0, 1, 20_000)
    returned = rng.random(20_000) < probability
    metrics = score_metrics(returned, probability)
    assert metrics["brier"] == pytest.approx(1 / 6, abs=0.01)
    assert metrics["roc_auc"] == pytest.approx(5 / 6, abs=0.01)
    assert metrics["calibration_error"] < 0.02
    curve = calibration_curve(returned, probability)
    assert curve["lines"].tolist() == [2_000] * 10
    assert curve["observed_rate"].is_monotonic_increasing
    assert calibration_error(calibration_curve(returned, probability**2)) > 0.1
    assert np.isnan(score_metrics(np.zeros(5, bool), probability[:5])["roc_auc"])


def test_choice_goes_to_validation_roc_auc_and_pr_auc_breaks_ties():
    validation = {"a": {"roc_auc": 0.70, "pr_auc": 0.30}, "b": {"roc_auc": 0.75, "pr_auc": 0.20}}
    assert choose_candidate(validation)[0] == "b"
    tied = {"a": {"roc_auc": 0.7495, "pr_auc": 0.30}, "b": {"roc_auc": 0.75, "pr_auc": 0.20}}
    chosen, reason = choose_candidate(tied, auc_tie=0.001)
    assert chosen == "a" and "0.7495" in reason and "ties" in reason


def test_calibration_is_isotonic_on_large_validation_and_sigmoid_on_small():
    rng = np.random.default_rng(1)
    truth = rng.uniform(0.02, 0.6, 3_000)
    scores = np.sqrt(truth)
    returned = rng.random(3_000) < truth
    isotonic, method = calibrate(scores, returned, isotonic_min_lines=1_000)
    assert method == "isotonic"
    sigmoid, method = calibrate(scores, returned, isotonic_min_lines=5_000)
    assert method == "sigmoid" and isinstance(sigmoid, SigmoidCalibrator)
    for calibrator in (isotonic, sigmoid):
        assert calibration_error(calibration_curve(returned, calibrator.predict(scores))) < 0.03
    assert calibration_error(calibration_curve(returned, scores)) > 0.1


def test_gate_promotes_only_a_model_better_than_baselines_and_close_to_production():
    baselines = {"population_rate": {"roc_auc": 0.5}, "customer_rate": {"roc_auc": 0.62}}
    first = gate({"roc_auc": 0.70}, baselines, None, 0.01)
    assert first.promote and "0.7000" in first.reason and "0.6200" in first.reason
    below = gate({"roc_auc": 0.61}, baselines, None, 0.01)
    assert not below.promote and "customer_rate 0.6200" in below.reason
    worse = gate({"roc_auc": 0.70}, baselines, {"roc_auc": 0.715}, 0.01)
    assert not worse.promote and "0.7150" in worse.reason and "-0.0150" in worse.reason
    within = gate({"roc_auc": 0.715}, baselines, {"roc_auc": 0.72}, 0.01)
    assert within.promote and "-0.0050" in within.reason
    assert not gate({"roc_auc": 0.60}, baselines, {"roc_auc": 0.55}, 0.01).promote


def test_model_beats_both_baselines_on_test(result):
    auc = result.metrics["roc_auc"]
    assert auc["model"] > auc["customer_rate"] + 0.05
    assert auc["customer_rate"] > auc["population_rate"] == 0.5
    assert result.metrics.loc["model", "top_decile_lift"] > result.metrics.loc["customer_rate", "top_decile_lift"]
    assert result.decision.promote
    assert result.model.algorithm in ALGORITHMS


def test_key_factor_is_the_feature_that_drives_returns(result):
    assert result.importance["feature"].iloc[0] == "price_vs_usual"
    assert result.importance["auc_drop"].iloc[0] > 2 * result.importance["auc_drop"].iloc[1]
    assert set(result.importance["feature"]) == set(FEATURE_COLUMNS)


def test_probabilities_are_calibrated_on_test(result):
    model = result.metrics.loc["model"]
    assert model["mean_score"] == pytest.approx(model["return_rate"], abs=0.025)
    assert model["calibration_error"] < 0.03
    curve = result.curves[result.curves["scorer"] == "model"]
    observed = curve["observed_rate"].to_numpy()
    assert observed[-1] > 3 * observed[0]
    assert (np.diff(observed) > -0.05).all()


def test_return_rates_by_group_add_up_and_price_bands_are_train_quintiles(lines, result):
    split = time_split(lines)
    rates = return_rates_by_group(split.test, split.train)
    for table in rates.values():
        assert table["lines"].sum() == len(split.test)
        assert table["returns"].sum() == split.test["returned"].sum()
    segment = rates["customer_segment"]
    assert segment["return_rate"].idxmax() == "Serial Returners"
    edges = price_band_edges(split.train["unit_price"])
    shares = np.bincount(np.searchsorted(edges, split.train["unit_price"], side="right")) / len(split.train)
    np.testing.assert_allclose(shares, 0.2, atol=0.02)
    assert rates["price_band"].index.tolist()[0].startswith("< ")
    assert set(result.rates) == {"customer_segment", "category", "price_band"}


def test_card_is_json_with_every_field(result):
    card = json.loads(json.dumps(result.card, allow_nan=False))
    assert card["created_at"] == "2025-01-31T06:00:00+00:00" and card["version"] == "20250131T060000000000Z"
    windows = card["windows"]
    assert windows["train"]["last_order_ts"] < windows["validation"]["first_order_ts"]
    assert windows["validation"]["last_order_ts"] < windows["test"]["first_order_ts"]
    assert [f["name"] for f in card["features"]] == list(FEATURE_COLUMNS)
    assert set(card["test_metrics"]) == {"model", *BASELINES}
    assert set(card["test_metrics"]["model"]) >= {"roc_auc", "pr_auc", "brier", "top_decile_lift"}
    assert len(card["calibration_curves"]["model"]) == 10
    assert card["gate"] == {"promote": True, "reason": result.decision.reason}
    assert len(card["data_fingerprint"]) == 64
    assert set(card["library_versions"]) == {"python", "scikit_learn", "numpy", "pandas"}
    assert card["settings"]["seed"] == SETTINGS.seed and card["algorithm"] == result.model.algorithm
    assert result.model.card is result.card


def test_fingerprint_ignores_row_order_and_sees_a_changed_label(lines):
    sample = lines.head(500)
    assert data_fingerprint(sample) == data_fingerprint(sample.iloc[::-1])
    flipped = sample.assign(returned=sample["returned"].where(sample.index != 7, ~sample["returned"]))
    assert data_fingerprint(flipped) != data_fingerprint(sample)


def test_retraining_is_deterministic_and_gated_against_production(lines, result):
    strict = ReturnTrainingSettings(**{**SETTINGS.__dict__, "gate_margin": -0.5})
    again = train_return_model(lines, strict, production=result.model, version="v2", clock=CLOCK)
    features = build_features(lines)
    np.testing.assert_array_equal(again.model.predict(features), result.model.predict(features))
    assert again.card["data_fingerprint"] == result.card["data_fingerprint"]
    pd.testing.assert_frame_equal(again.metrics.loc[result.metrics.index], result.metrics)
    assert again.metrics.loc["production"].equals(again.metrics.loc["model"])
    assert not again.decision.promote and "production" in again.decision.reason
    assert set(again.card["test_metrics"]) == {"model", "production", *BASELINES}


def test_registry_round_trip_keeps_predictions(tmp_path, lines, result):
    registry = ModelRegistry(tmp_path)
    registry.save(result.model)
    loaded = registry.load(result.model.version)
    features = build_features(lines.tail(300))
    np.testing.assert_array_equal(loaded.predict(features), result.model.predict(features))
    assert registry.card(result.model.version) == json.loads(json.dumps(result.card))


def test_settling_the_registry_repairs_what_a_dead_run_left(tmp_path, result):
    registry = ModelRegistry(tmp_path)
    recorded, orphan = (dataclasses.replace(result.model, version=v) for v in ("20250101T000000Z", "20250108T000000Z"))
    registry.save(recorded)
    registry.save(orphan)  # saved, then its run died before recording it
    registry.promote(orphan.version)  # a run that promoted a version that was then never recorded
    assert registry.settle({recorded.version}, recorded.version) == [orphan.version]
    assert registry.versions() == [recorded.version]
    assert registry.production_version() == recorded.version

    registry.settle({recorded.version, "20250115T000000Z"}, "20250115T000000Z")  # recorded, but not on disk
    assert registry.production_version() == recorded.version


def test_model_scores_unseen_categories_and_explains_an_order(lines, result):
    order = build_features(lines.head(5)).assign(category="never seen", country="ZZ", customer_segment="Brand New")
    probability = result.model.predict(order)
    assert ((probability >= 0) & (probability <= 1)).all()
    factors = [strongest(line, 3) for line in result.model.effects(order)[1]]
    assert len(factors) == 5 and all(len(f) == 3 for f in factors)
    for line, line_factors in enumerate(factors):
        for name, move in line_factors:
            typical = order.iloc[[line]].assign(**{name: result.model.reference[name]})
            assert move == pytest.approx(probability[line] - result.model.predict(typical)[0])


def test_forest_predicts_on_one_thread_after_training(lines):
    features = build_features(lines.head(400))
    forest = candidate_pipeline("random_forest", ReturnTrainingSettings(forest_trees=5, n_jobs=2))
    forest.fit(features, lines["returned"].head(400))
    assert for_single_requests(forest).named_steps["model"].n_jobs == 1


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_model_scores_through_its_lookups_exactly_as_through_the_pipeline(lines, algorithm):
    features = build_features(lines.head(3_000))
    pipeline = candidate_pipeline(algorithm, SETTINGS).fit(features, lines["returned"].head(3_000))
    for_single_requests(pipeline)  # as a saved model predicts: one thread, one order of summing the trees
    model = ReturnModel("v", algorithm, pipeline, calibrator=None, reference={})
    for rows in (200, 2_000):  # an order's lines are coded value by value, a batch column by column
        scored = features.head(rows).copy()
        scored.loc[:20, "category"] = "never seen"  # unknown to the encoder
        scored.loc[20:40, "customer_segment"] = scored["customer_segment"].iloc[0]
        np.testing.assert_array_equal(model.raw_scores(scored), pipeline.predict_proba(scored)[:, 1])


def test_no_model_is_trained_without_enough_returned_and_kept_lines():
    from segmentation_pipeline.domain.returns.gate import too_few_lines

    assert "199 lines" in too_few_lines(199, 50)
    assert "0 returned and 5000 kept" in too_few_lines(5000, 0)  # a source without returns
    assert "4990 returned and 10 kept" in too_few_lines(5000, 4990)
    assert too_few_lines(5000, 20) is None
