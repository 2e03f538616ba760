"""Customer segments: model selection, stability, stable ids across refits, profiles and names."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score, silhouette_score

from segmentation_pipeline.domain.segments.features import CLUSTER_FEATURES, apply_scaling, prepare_features
from segmentation_pipeline.domain.segments.model import align_labels, fit_segments, relabel
from segmentation_pipeline.domain.segments.naming import NAMING_RULES, name_segments
from segmentation_pipeline.domain.segments.playbook import DESCRIBED_ACTION, PLAYBOOK, recommended_action
from segmentation_pipeline.domain.segments.profiles import segment_profiles, top_categories
from segmentation_pipeline.domain.segments.selection import (
    choose_k,
    compare_algorithms,
    knee_point,
    search_k,
    silhouette_scores,
)
from segmentation_pipeline.domain.segments.stability import bootstrap_stability

CENTRES = np.array([[0.0, 0.0, 0.0], [8.0, 0.0, 0.0], [0.0, 8.0, 0.0], [0.0, 0.0, 8.0]])


def blobs(seed: int = 3, per_blob: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Four well-separated unit-variance blobs in 3 dimensions and their true labels."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(len(CENTRES)), per_blob)
    return CENTRES[truth] + rng.normal(0.0, 1.0, (len(truth), 3)), truth


def snapshot(seed: int = 0, per_type: int = 150) -> tuple[pd.DataFrame, np.ndarray]:
    """Customers of four kinds: loyal big spenders, lapsed one-timers, serial returners, newcomers."""
    rng = np.random.default_rng(seed)
    kinds = np.repeat(np.arange(4), per_type)
    n = len(kinds)

    def by_kind(*values: float) -> np.ndarray:
        return np.asarray(values, dtype=float)[kinds]

    frequency = np.maximum(1, rng.poisson(by_kind(14, 1, 4, 1)))
    aov = by_kind(120, 40, 70, 60) * rng.lognormal(0.0, 0.2, n)
    return_rate = np.clip(by_kind(0.05, 0.02, 0.6, 0.05) + rng.normal(0, 0.03, n), 0, 1)
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i:04d}" for i in range(n)],
            "recency_days": by_kind(10, 300, 40, 8) + rng.uniform(0, 10, n),
            "frequency": frequency,
            "monetary_net": frequency * aov * (1 - return_rate),
            "avg_order_value": aov,
            "units_per_order": by_kind(4, 1.5, 5, 2) * rng.lognormal(0.0, 0.2, n),
            "discount_share": np.clip(by_kind(0.05, 0.3, 0.15, 0.2) + rng.normal(0, 0.05, n), 0, 1),
            "tenure_days": by_kind(600, 500, 400, 15) + rng.uniform(0, 10, n),
            "mean_days_between_orders": np.where(frequency > 1, 30.0, np.nan),
            "return_rate_units": return_rate,
            "n_returns": np.round(return_rate * frequency).astype(int),
            "service_contacts": rng.poisson(by_kind(1, 0.2, 3, 0.3)),
            "campaign_responses": rng.poisson(by_kind(2, 0.1, 0.5, 0.2)),
            "category_breadth": np.maximum(1, rng.poisson(by_kind(6, 1, 3, 1))),
        }
    )
    frame["units_bought"] = np.round(frame["frequency"] * frame["units_per_order"])
    frame["lines_bought"] = frame["frequency"] * 2
    return frame, kinds


# --------------------------------------------------------------------------- features


def test_prepare_features_standardises_and_apply_scaling_reproduces_it():
    frame, _ = snapshot()
    X, scaling = prepare_features(frame)

    assert X.shape == (len(frame), len(CLUSTER_FEATURES))
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(X.std(axis=0), 1.0, atol=1e-9)
    np.testing.assert_allclose(apply_scaling(frame, scaling), X)


def test_features_are_log_transformed_clipped_and_filled_with_the_median():
    frame, _ = snapshot()
    _, scaling = prepare_features(frame)
    j_money = CLUSTER_FEATURES.index("monetary_net")
    j_freq = CLUSTER_FEATURES.index("frequency")
    new = frame.iloc[:3].copy()
    new["monetary_net"] = [-50.0, 0.0, 999.0]
    new["frequency"] = [np.nan, 2, 3]

    Y = apply_scaling(new, scaling)

    assert Y[0, j_money] == Y[1, j_money]
    assert Y[2, j_money] == pytest.approx((np.log1p(999.0) - scaling.means[j_money]) / scaling.stds[j_money])
    median_log_frequency = np.median(np.log1p(frame["frequency"].to_numpy(dtype=float)))
    assert Y[0, j_freq] == pytest.approx((median_log_frequency - scaling.means[j_freq]) / scaling.stds[j_freq])


def test_shares_measured_on_few_lines_are_pulled_towards_the_shop_wide_share():
    # one discounted line, 100 lines half discounted, one full-price line: the shop-wide share is 51/102
    frame = pd.DataFrame({"discount_share": [1.0, 0.5, 0.0], "lines_bought": [1, 100, 1]})
    X, scaling = prepare_features(frame, ["discount_share"])
    assert scaling.share_priors == (("discount_share", pytest.approx(0.5)),)
    smoothed = X[:, 0] * scaling.stds[0] + scaling.means[0]
    np.testing.assert_allclose(smoothed, [(1 + 2 * 0.5) / 3, (50 + 2 * 0.5) / 102, (0 + 2 * 0.5) / 3])
    np.testing.assert_allclose(apply_scaling(frame, scaling), X)

    X_raw, raw = prepare_features(frame, ["discount_share"], smooth_shares=False)
    np.testing.assert_allclose(X_raw[:, 0] * raw.stds[0] + raw.means[0], [1.0, 0.5, 0.0], atol=1e-12)


# --------------------------------------------------------------------------- choosing k


def test_knee_point_on_a_hand_computed_curve():
    # x = 0, .25, .5, .75, 1; y = 1, .5, .125, .0625, 0; gaps below the chord 0, .25, .375, .1875, 0
    assert knee_point([2, 3, 4, 5, 6], [100, 60, 30, 25, 20]) == 4
    assert knee_point([6, 4, 2, 5, 3], [20, 30, 100, 25, 60]) == 4
    # gaps 0, .375, .375, .1875, 0: the tie goes to the smaller k
    assert knee_point([2, 3, 4, 5, 6], [100, 50, 30, 25, 20]) == 3
    # a straight line has no elbow
    assert knee_point([2, 3, 4, 5], [40, 30, 20, 10]) == 2


SCORES = pd.DataFrame(
    {
        "k": [2, 3, 4, 5, 6, 7, 8, 9, 10],
        # knee at k=5: gaps below the chord .228, .397, .507, .441, .340, ... (hand-computed)
        "inertia": [1000, 700, 450, 250, 200, 180, 165, 155, 150],
        "silhouette": [0.80, 0.40, 0.55, 0.50, 0.545, 0.30, 0.20, 0.90, 0.10],
        "davies_bouldin": [0.3, 1.0, 0.9, 0.8, 0.7, 1.2, 1.3, 0.2, 1.5],
    }
)


def test_choose_k_applies_the_documented_rule():
    # window k=3..7; best silhouette k=4 (.55), k=6 (.545) is within .01 and has the lower Davies-Bouldin.
    # k=2 and k=9 score higher but lie outside the window around the elbow.
    k, reason = choose_k(SCORES)
    assert k == 6
    assert reason.startswith("k=6")
    assert "elbow at k=5" in reason

    equal_db = SCORES.assign(davies_bouldin=[0.3, 1.0, 0.7, 0.8, 0.7, 1.2, 1.3, 0.2, 1.5])
    assert choose_k(equal_db)[0] == 4

    clear_winner = SCORES.assign(silhouette=[0.8, 0.4, 0.55, 0.7, 0.545, 0.3, 0.2, 0.9, 0.1])
    assert choose_k(clear_winner.sample(frac=1.0, random_state=1)) == (
        5,
        "k=5: highest silhouette 0.700 among k=3-7 around the inertia elbow at k=5 (Davies-Bouldin 0.800)",
    )


def test_silhouette_scores_match_scikit_learn():
    X, truth = blobs()
    rng = np.random.default_rng(0)
    noisy = truth.copy()
    noisy[:40] = rng.integers(0, 4, 40)
    singleton = truth.copy()
    singleton[0] = 9
    labelings = [truth, noisy, rng.integers(0, 3, len(X)), singleton, np.zeros(len(X), dtype=int)]

    ours = silhouette_scores(X, labelings, chunk_rows=97)

    np.testing.assert_allclose(ours[:4], [silhouette_score(X, labels) for labels in labelings[:4]], rtol=1e-9)
    assert np.isnan(ours[4])


def test_search_k_finds_four_blobs():
    X, _ = blobs()
    scores = search_k(X, range(2, 9), seed=0)

    assert scores["k"].tolist() == list(range(2, 9))
    assert scores["inertia"].is_monotonic_decreasing
    assert int(scores.loc[scores["silhouette"].idxmax(), "k"]) == 4
    assert int(scores.loc[scores["davies_bouldin"].idxmin(), "k"]) == 4
    assert int(scores.loc[scores["calinski_harabasz"].idxmax(), "k"]) == 4
    assert choose_k(scores)[0] == 4


def test_search_k_fits_on_a_sample_of_large_inputs():
    X, _ = blobs(per_blob=500)
    scores = search_k(X, [3, 4], seed=0, sample_size=300, fit_size=1_000)
    assert scores["fit_rows"].tolist() == [1_000, 1_000]
    assert scores.equals(search_k(X, [3, 4], seed=0, sample_size=300, fit_size=1_000))


# --------------------------------------------------------------------------- models and stability


def test_gmm_path_recovers_the_blobs_and_compare_algorithms_reports_both():
    X, truth = blobs()
    model = fit_segments(X, 4, seed=0, algorithm="gmm")

    assert model.algorithm == "gmm" and model.k == 4
    assert model.inertia is None and np.isfinite(model.bic)
    assert model.centroids.shape == (4, 3)
    assert adjusted_rand_score(truth, model.predict(X)) == pytest.approx(1.0)

    compared = compare_algorithms(X, 4, range(2, 7), seed=0)
    assert compared["algorithm"].tolist() == ["kmeans", "gmm"]
    assert compared["k"].tolist() == [4, 4]
    assert (compared["silhouette"] > 0.7).all()
    assert np.isnan(compared.loc[0, "bic"]) and np.isfinite(compared.loc[1, "bic"])


def test_unknown_algorithm_is_refused():
    X, _ = blobs()
    with pytest.raises(ValueError, match="unknown algorithm"):
        fit_segments(X, 4, algorithm="dbscan")


def test_bootstrap_stability_separates_structure_from_noise():
    X, _ = blobs()
    clean = bootstrap_stability(X, 4, n_boot=5, seed=0)
    assert clean.mean_ari > 0.9
    assert len(clean.ari) == 5
    assert sorted(clean.jaccard) == [0, 1, 2, 3]
    assert min(clean.jaccard.values()) > 0.9

    noise = np.random.default_rng(4).uniform(size=(800, 8))
    unstable = bootstrap_stability(noise, 4, n_boot=5, seed=0)
    assert unstable.mean_ari < 0.6
    assert unstable.mean_ari < clean.mean_ari - 0.3
    assert bootstrap_stability(noise, 4, n_boot=5, seed=0) == unstable


def test_bootstrap_stability_is_keyed_by_the_reference_segment_ids():
    X, _ = blobs()
    model = relabel(fit_segments(X, 4, seed=0), {0: 10, 1: 11, 2: 12, 3: 13})
    stability = bootstrap_stability(X, 4, n_boot=3, seed=0, sample_size=500, reference=model)
    assert sorted(stability.jaccard) == [10, 11, 12, 13]
    assert stability.sample_rows == 500


# --------------------------------------------------------------------------- stable ids


def test_align_labels_undoes_a_permutation_of_the_centroids():
    permutation = [2, 0, 3, 1]
    mapping = align_labels(CENTRES, CENTRES[permutation] + 0.1)
    assert mapping == {i: p for i, p in enumerate(permutation)}

    assert align_labels(CENTRES, CENTRES[permutation], previous_ids=[5, 6, 7, 9]) == {0: 7, 1: 5, 2: 9, 3: 6}


def test_align_labels_gives_fresh_ids_when_k_grows_and_retires_ids_when_it_shrinks():
    extra = np.array([[20.0, 0.0, 0.0], [-20.0, 0.0, 0.0]])
    grown = np.vstack([extra[0], CENTRES[1], extra[1], CENTRES[0], CENTRES[3], CENTRES[2]])
    # matched clusters keep their ids; the extras get 4 and 5 in lexicographic order of their centroids
    assert align_labels(CENTRES, grown) == {0: 5, 1: 1, 2: 4, 3: 0, 4: 3, 5: 2}
    assert align_labels(CENTRES, grown, previous_ids=[0, 2, 7, 3]) == {0: 9, 1: 2, 2: 8, 3: 0, 4: 3, 5: 7}

    shrunk = CENTRES[[3, 0]] + 0.2
    assert align_labels(CENTRES, shrunk) == {0: 3, 1: 0}

    # no previous model: ids follow the lexicographic order (0,0,0) < (0,0,8) < (0,8,0) < (8,0,0)
    assert align_labels(np.empty((0, 3)), CENTRES[[3, 0, 2, 1]]) == {0: 1, 1: 0, 2: 2, 3: 3}


def test_segment_ids_do_not_flip_between_refits():
    X, _ = blobs()
    first = fit_segments(X, 4, seed=0)
    second = fit_segments(X, 4, seed=1)
    assert (first.predict(X) != second.predict(X)).any(), "the two seeds should order clusters differently"

    aligned = relabel(second, align_labels(first.centroids, second.centroids, previous_ids=first.segment_ids))

    np.testing.assert_array_equal(aligned.predict(X), first.predict(X))
    np.testing.assert_allclose(aligned.centroids, first.centroids, atol=1e-9)
    assert aligned.segment_ids == (0, 1, 2, 3)


def test_relabel_orders_centroids_by_segment_id_and_chains():
    X, _ = blobs()
    model = fit_segments(X, 4, seed=0)
    raw = model.predict(X)

    renamed = relabel(model, {0: 7, 1: 2, 2: 9, 3: 4})
    assert renamed.segment_ids == (2, 4, 7, 9)
    np.testing.assert_array_equal(renamed.centroids, model.centroids[[1, 3, 0, 2]])
    np.testing.assert_array_equal(renamed.predict(X), np.array([7, 2, 9, 4])[raw])

    again = relabel(renamed, {0: 0, 1: 1, 2: 2, 3: 3})
    np.testing.assert_array_equal(again.predict(X), np.array([2, 0, 3, 1])[raw])

    with pytest.raises(ValueError):
        relabel(model, {0: 1, 1: 1, 2: 2, 3: 3})


# --------------------------------------------------------------------------- profiles and names


def test_segment_profiles_shares_sum_to_one_and_describe_the_segments():
    frame, kinds = snapshot()
    labels = np.array([10, 20, 30, 40])[kinds]
    profiles = segment_profiles(frame, labels)

    assert profiles.index.tolist() == [10, 20, 30, 40]
    assert profiles["customers"].tolist() == [150] * 4
    assert profiles["share_customers"].sum() == pytest.approx(1.0)
    assert profiles["revenue_share"].sum() == pytest.approx(1.0)
    assert {f"z_{f}" for f in CLUSTER_FEATURES} <= set(profiles.columns)
    assert profiles["revenue_share"].idxmax() == 10
    assert profiles["z_recency_days"].idxmax() == 20
    assert profiles["z_return_rate_units"].idxmax() == 30
    assert profiles["median_tenure_days"].idxmin() == 40
    assert profiles.loc[10, "median_frequency"] == pytest.approx(np.median(frame["frequency"][kinds == 0]))
    weights = profiles["share_customers"]
    np.testing.assert_allclose((profiles[[f"z_{f}" for f in CLUSTER_FEATURES]].T * weights).sum(axis=1), 0, atol=1e-9)


def test_top_categories_rank_each_segments_net_spend_by_hand():
    spend = pd.DataFrame(
        [
            ("a", "apparel", 40.0),
            ("a", "shoes", 30.0),
            ("b", "apparel", 20.0),
            ("b", "home", 10.0),
            ("b", "electronics", -20.0),  # refunded more than bought: left out of the shares
            ("c", "books", 30.0),
            ("c", "toys", 30.0),
            ("d", "toys", -10.0),  # refunds of toys bought earlier
            ("e", "sports", 10.0),
            ("e", "beauty", 10.0),
            ("g", "electronics", 999.0),  # not segmented: ignored
        ],
        columns=["customer_id", "category", "net_spend"],
    )
    segments = pd.Series({"a": 1, "b": 1, "c": 2, "d": 2, "e": 3, "f": 4})
    # segment 1: apparel 60 of the 100 spent where positive, shoes 30, home 10; segment 2: books 30 and toys 20 of 50
    assert top_categories(spend, segments, n=2).to_dict() == {
        1: "apparel 60%, shoes 30%",
        2: "books 60%, toys 40%",
        3: "beauty 50%, sports 50%",  # a tie goes by name
        4: "",  # no spend
    }
    assert top_categories(spend, segments)[1] == "apparel 60%, shoes 30%, home 10%"


def test_segment_profiles_name_the_top_categories_when_given_category_spend():
    frame, kinds = snapshot()
    labels = np.array([10, 20, 30, 40])[kinds]
    favourite = np.array(["apparel", "shoes", "home", "books"])[kinds]
    spend = pd.DataFrame({"customer_id": frame["customer_id"], "category": favourite, "net_spend": 5.0})
    profiles = segment_profiles(frame, labels, spend)
    assert profiles["top_categories"].to_dict() == {
        10: "apparel 100%",
        20: "shoes 100%",
        30: "home 100%",
        40: "books 100%",
    }
    assert "top_categories" not in segment_profiles(frame, labels).columns


REGULAR = {
    "median_frequency": 3.0,
    "median_recency_days": 60.0,
    "median_tenure_days": 400.0,
    "return_rate": 0.10,
    "mean_discount_share": 0.10,
    "share_customers": 0.10,
}


def profile_table(rows: dict[int, dict[str, float]]) -> pd.DataFrame:
    """A hand-made profile table: a regular segment (every z_ column 0) unless given otherwise."""
    base = {f"z_{f}": 0.0 for f in CLUSTER_FEATURES} | REGULAR
    return pd.DataFrame.from_dict({s: base | values for s, values in rows.items()}, orient="index")


HAND_MADE = profile_table(
    {
        0: {"z_monetary_net": 1.5, "z_frequency": 1.4, "median_recency_days": 20.0},
        1: {"z_return_rate_units": 2.5, "return_rate": 0.55, "z_monetary_net": 1.2, "z_frequency": 1.0},
        2: {"z_return_rate_units": 3.1, "return_rate": 0.70},
        3: {"median_recency_days": 400.0, "z_recency_days": 1.8, "z_monetary_net": -0.9},
        4: {"median_tenure_days": 30.0, "median_recency_days": 20.0, "median_frequency": 1.0},
        5: {},
        6: {"z_frequency": 0.9, "z_avg_order_value": -0.6, "median_recency_days": 30.0},
        7: {"median_recency_days": 200.0, "z_monetary_net": 0.4},
        8: {"median_frequency": 1.0, "median_recency_days": 465.0, "z_recency_days": 1.5},
        9: {"mean_discount_share": 0.6, "z_discount_share": 1.8},
        10: {"median_frequency": 1.0, "median_recency_days": 30.0, "z_frequency": -0.8, "z_avg_order_value": 0.5},
        11: {"median_tenure_days": 100.0, "median_recency_days": 326.0, "median_frequency": 1.0, "z_recency_days": 1.0},
    }
)


def test_name_segments_follows_the_rules_on_a_hand_made_profile():
    names = name_segments(HAND_MADE)
    assert names == {
        0: "VIP",
        1: "Serial Returners (higher value)",
        2: "Serial Returners",
        3: "Dormant",
        4: "New",
        5: "Regulars",
        6: "Frequent Shoppers",
        7: "At Risk",
        8: "One-time Buyers",
        9: "Bargain Hunters",
        10: "Less frequent, bigger baskets",
        11: "One-time Buyers (more recent)",
    }


def test_a_name_is_given_only_when_the_profile_fits_its_rule():
    # a young shop: every segment is short-tenured, but only recent buyers are new
    lapsed_newcomers = profile_table({0: {"median_tenure_days": 80.0, "median_recency_days": 75.0}})
    assert name_segments(lapsed_newcomers)[0] != "New"
    # long inactive one-order customers are not regulars, whatever else sets them apart
    assert name_segments(profile_table({0: {"median_frequency": 1.0, "median_recency_days": 465.0}})) == {
        0: "One-time Buyers"
    }
    # far above average in value but long gone: at risk, not VIP
    gone = profile_table({0: {"z_monetary_net": 2.0, "z_frequency": 1.5, "median_recency_days": 150.0}})
    assert name_segments(gone) == {0: "At Risk"}


def test_name_segments_is_deterministic_unique_and_never_numbered():
    shuffled = HAND_MADE.sample(frac=1.0, random_state=3)
    assert name_segments(shuffled) == name_segments(HAND_MADE)

    lapsed = {"median_recency_days": 400.0, "z_recency_days": 1.5, "z_monetary_net": -0.5}
    twins = profile_table(
        {0: lapsed, 1: lapsed, 2: lapsed | {"z_recency_days": 2.0}, 3: lapsed | {"z_recency_days": 2.0}}
        | {4: {"z_monetary_net": -0.3}, 5: {}}
    )
    names = name_segments(twins)
    assert len(set(names.values())) == len(names)
    assert not any(name[-1].isdigit() for name in names.values())
    assert names == {
        0: "Dormant",
        1: "Dormant (10% of customers)",
        2: "Dormant (longer inactive)",
        3: "Dormant (longer inactive) (10% of customers)",
        4: "Regulars (lower value)",
        5: "Regulars",
    }


def test_the_documented_naming_table_lists_every_rule_in_order():
    docs = Path(__file__).resolve().parents[3] / "docs" / "segments.md"
    rows = re.findall(r"^\| ([^|]+) \| ([^|]+) \|$", docs.read_text(), flags=re.MULTILINE)
    documented = [(name, requires) for name, requires in rows if name in {r.name for r in NAMING_RULES}]
    assert documented == [(rule.name, rule.requires) for rule in NAMING_RULES]


def test_every_name_has_a_playbook_action():
    for name in name_segments(HAND_MADE).values():
        assert recommended_action(name) in (*PLAYBOOK.values(), DESCRIBED_ACTION)
    assert recommended_action("Dormant (higher value, bigger baskets)") == PLAYBOOK["Dormant"]
    assert recommended_action("Less frequent, bigger baskets") == DESCRIBED_ACTION
    assert "win-back" in recommended_action("At Risk").lower()
    assert "size advice" in recommended_action("Serial Returners")
    with pytest.raises(KeyError):
        recommended_action("Astronauts")


def test_snapshot_to_named_segments():
    frame, kinds = snapshot()
    X, _ = prepare_features(frame)
    k, _ = choose_k(search_k(X, range(2, 8), seed=0))
    model = fit_segments(X, k, seed=0)
    labels = model.predict(X)
    assert k == 4
    assert adjusted_rand_score(kinds, labels) > 0.95

    names = name_segments(segment_profiles(frame, labels))
    by_kind = {kind: names[int(np.bincount(labels[kinds == kind]).argmax())] for kind in range(4)}
    assert by_kind == {0: "VIP", 1: "One-time Buyers", 2: "Serial Returners", 3: "New"}
