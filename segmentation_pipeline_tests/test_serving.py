"""The return-risk API: in process through FastAPI's TestClient, and as a real started server."""

import asyncio
import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pandas as pd
import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

from segmentation_pipeline.domain.returns.features import FEATURE_COLUMNS
from segmentation_pipeline.domain.returns.registry import ModelRegistry, write_atomically
from segmentation_pipeline.domain.returns.scoring import order_facts, score_orders
from segmentation_pipeline.serving.app import Order, OrderBatcher, create_app
from segmentation_pipeline.serving.load_test import run_load_test, start_service
from segmentation_pipeline.serving.state import ScoringState, current_state
from segmentation_pipeline_tests.serving_fixtures import publish, train_model, write_recommendations, write_state

KEY = "test-key"
HEADERS = {"X-API-Key": KEY}
ORDER = {
    "customer_id": "C00003",
    "order_ts": "2026-01-05T14:30:00",
    "channel": "web",
    "country": "DE",
    "lines": [
        {"product_id": "P0001", "quantity": 1, "unit_price": 39.9},
        {"product_id": "P0001", "quantity": 1, "unit_price": 39.9, "category": "shoes"},
        {"product_id": "P0002", "quantity": 3, "unit_price": 12.5, "discount": 5.0},
    ],
}


@pytest.fixture(scope="module")
def models():
    return train_model("20260101T000000", seed=1), train_model("20260201T000000", seed=2)


@pytest.fixture
def dirs(tmp_path):
    models_dir, serving_dir = tmp_path / "models", tmp_path / "serving"
    write_state(serving_dir)
    return models_dir, serving_dir


@pytest.fixture
def client(dirs, models):
    publish(dirs[0], models[0])
    with TestClient(create_app(*dirs, api_key=KEY)) as client:
        yield client


def test_every_endpoint_but_healthz_needs_the_key(client):
    for request in (
        lambda headers: client.post("/v1/return-risk", json=ORDER, headers=headers),
        lambda headers: client.get("/v1/customers/C00003", headers=headers),
        lambda headers: client.get("/v1/model", headers=headers),
    ):
        assert request({}).status_code == 401
        assert request({"X-API-Key": "wrong"}).status_code == 401
        assert request(HEADERS).status_code == 200
    assert client.get("/healthz").status_code == 200


def test_create_app_refuses_an_empty_key(dirs):
    with pytest.raises(ValueError, match="SEGMENTATION_API_KEY"):
        create_app(*dirs, api_key="")


@pytest.mark.parametrize("key_file", [None, ""], ids=["no key", "empty key file"])
def test_the_server_refuses_to_start_without_a_key(tmp_path, key_file):
    env = {name: value for name, value in os.environ.items() if name != "SEGMENTATION_API_KEY"}
    if key_file is not None:
        (tmp_path / "api_key").write_text(key_file)
        env["SEGMENTATION_API_KEY_FILE"] = str(tmp_path / "api_key")
    done = subprocess.run(
        [sys.executable, "-m", "segmentation_pipeline.serving"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "SEGMENTATION_API_KEY is not set" in done.stderr


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda order: order["lines"][0].update(quantity=-1), "lines[0].quantity"),
        (lambda order: order["lines"][2].update(unit_price=-0.5), "lines[2].unit_price"),
        (lambda order: order["lines"][1].update(discount=-1), "lines[1].discount"),
        (lambda order: order.pop("lines"), "lines"),
        (lambda order: order.update(lines=[]), "lines"),
        (lambda order: order.update(lines=order["lines"] * 34), "lines"),
        (lambda order: order.update(order_ts="next tuesday"), "order_ts"),
    ],
)
def test_malformed_orders_answer_422_naming_the_field(client, change, field):
    order = {**ORDER, "lines": [dict(line) for line in ORDER["lines"]]}
    change(order)
    response = client.post("/v1/return-risk", json=order, headers=HEADERS)
    assert response.status_code == 422
    body = response.json()
    assert [error["field"] for error in body["detail"]] == [field]
    assert body["message"].startswith(f"{field}: ")


def test_an_order_gets_a_probability_and_factors_per_line(client, models):
    response = client.post("/v1/return-risk", json=ORDER, headers=HEADERS)
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == models[0].version
    assert body["window_days"] == models[0].window_days == 30
    probabilities = [line["return_probability"] for line in body["lines"]]
    assert [line["product_id"] for line in body["lines"]] == ["P0001", "P0001", "P0002"]
    assert all(0.0 <= p <= 1.0 for p in probabilities)
    for line in body["lines"] + [body["order"]]:
        assert len(line["top_factors"]) == 3
        assert {factor["feature"] for factor in line["top_factors"]} <= set(FEATURE_COLUMNS)
    assert body["order"]["expected_returned_lines"] == pytest.approx(sum(probabilities))
    assert body["order"]["max_line_probability"] == pytest.approx(max(probabilities))


def test_unknown_customer_and_product_score_as_new_ones(client, dirs, models):
    order = {**ORDER, "customer_id": "never-seen", "lines": [{"product_id": "NEW-1", "quantity": 2, "unit_price": 30}]}
    response = client.post("/v1/return-risk", json=order, headers=HEADERS)
    assert response.status_code == 200
    state = ScoringState.read(current_state(dirs[1]))
    facts = order_facts(
        order["lines"],
        pd.Timestamp(order["order_ts"]),
        None,
        {},
        {},
        state.shop,
        customer_id="never-seen",
        channel="web",
        country="DE",
    )
    expected = score_orders(models[0], [facts])[0]
    assert response.json()["lines"][0]["return_probability"] == pytest.approx(expected.lines[0].return_probability)
    assert facts["customer_segment"].iloc[0] == "none" and facts["category"].iloc[0] == "unknown"


def test_orders_waiting_for_the_model_are_scored_together_and_a_failing_one_fails_alone():
    batches = []

    def work(orders):
        batches.append([order.customer_id for order in orders])
        if any(order.customer_id == "fails" for order in orders):
            raise HTTPException(503, "no model")
        return [{"customer": order.customer_id} for order in orders]

    async def run(job):
        await asyncio.sleep(0.01)
        return job()

    async def place(customers):
        batcher = OrderBatcher(work, run, max_waiting=10)
        orders = [Order.model_validate({**ORDER, "customer_id": customer}) for customer in customers]
        return await asyncio.gather(*(batcher.score(order) for order in orders), return_exceptions=True)

    customers = [f"C{i}" for i in range(5)]
    assert asyncio.run(place(customers)) == [{"customer": customer} for customer in customers]
    assert batches == [customers]
    batches.clear()
    answered, failed = asyncio.run(place(["C1", "fails"]))
    assert batches == [["C1", "fails"], ["C1"], ["fails"]]  # the batch failed, so each order was scored alone
    assert answered == {"customer": "C1"}
    assert isinstance(failed, HTTPException) and failed.status_code == 503


def test_customer_endpoint_known_and_unknown(client, dirs):
    row = pd.read_parquet(current_state(dirs[1]) / "customers.parquet").set_index("customer_id").loc["C00003"]
    known = client.get("/v1/customers/C00003", headers=HEADERS).json()
    assert known["known"] is True
    assert known["segment"] == row["customer_segment"]
    assert known["segment_id"] == row["segment_id"]
    assert known["rfm"]["r_score"] == row["r_score"] and known["rfm"]["rfm_segment"] == row["rfm_segment"]
    assert known["prior_orders"] == row["customer_prior_orders"]
    assert known["prior_returned_units"] == row["customer_prior_returned_units"]
    assert 0.0 <= known["expected_return_rate"] <= 1.0
    assert known["value"] == {
        name: row[name] for name in ("p_alive", "clv", "net_clv", "churn_probability", "churn_band")
    }
    unknown = client.get("/v1/customers/nobody", headers=HEADERS)
    assert unknown.status_code == 200
    assert unknown.json()["known"] is False
    assert unknown.json()["segment"] == "none"
    assert unknown.json()["prior_orders"] == 0
    assert set(unknown.json()["value"].values()) == {None}


def test_recommendations_answer_for_known_and_unknown_customers_and_follow_each_publication(client, dirs):
    assert client.get("/v1/customers/C00001/recommendations").status_code == 401
    missing = client.get("/v1/customers/C00001/recommendations", headers=HEADERS)
    assert missing.status_code == 503 and "no recommendations yet" in missing.json()["detail"]
    write_recommendations(dirs[1], customers=5)
    known = client.get("/v1/customers/C00001/recommendations", headers=HEADERS).json()
    assert known["known"] is True and known["next_best_action"]["action"] == "recommend products"
    assert [item["rank"] for item in known["recommendations"]] == [1, 2, 3]
    assert [item["product_id"] for item in known["recommendations"]] == ["P0001", "P0002", "P0003"]
    assert known["recommendations"][0]["because_you_bought"] == ["P0001", "P0002"]
    assert known["recommendations"][0]["return_risk"] == 0.2
    unknown = client.get("/v1/customers/C00007/recommendations", headers=HEADERS).json()
    assert unknown["known"] is False and unknown["recommendations"] == [] and unknown["next_best_action"] is None
    write_recommendations(dirs[1], customers=8)  # a new publication is read without a restart
    again = client.get("/v1/customers/C00007/recommendations", headers=HEADERS).json()
    assert again["known"] is True and again["recommendations_version"] != known["recommendations_version"]


def test_model_card_is_the_production_models(client, models):
    card = client.get("/v1/model", headers=HEADERS).json()
    assert card["version"] == models[0].version
    assert card["features"] == list(FEATURE_COLUMNS)
    assert card["label"]["window_days"] == 30  # what a probability refers to: a return within 30 days


def test_no_model_answers_503_until_one_is_promoted(dirs, models):
    with TestClient(create_app(*dirs, api_key=KEY)) as client:
        response = client.post("/v1/return-risk", json=ORDER, headers=HEADERS)
        assert response.status_code == 503
        assert "no production model" in response.json()["detail"]
        assert client.get("/v1/model", headers=HEADERS).status_code == 503
        assert client.get("/healthz").json()["model_loaded"] is False
        publish(dirs[0], models[0])
        assert client.post("/v1/return-risk", json=ORDER, headers=HEADERS).json()["model_version"] == models[0].version
        assert client.get("/healthz").json()["model_loaded"] is True


def test_new_scoring_state_is_read_without_restart(client, dirs):
    assert client.get("/v1/customers/C00050", headers=HEADERS).json()["known"] is False
    write_state(dirs[1], customers=51)  # the next state knows one more customer
    assert client.get("/v1/customers/C00050", headers=HEADERS).json()["known"] is True
    assert len([p for p in dirs[1].iterdir() if p.is_dir()]) == 2  # the current state and the one before
    write_state(dirs[1], customers=52)
    assert len([p for p in dirs[1].iterdir() if p.is_dir()]) == 2


def test_every_answer_comes_from_one_published_state_and_its_model_while_states_are_swapped(dirs, models):
    for model in models:
        ModelRegistry(dirs[0]).save(model)
    # two states, each published with its own model
    published = {}
    for seed, model in enumerate(models):
        folder = write_state(dirs[1], seed=seed, model_version=model.version)
        published[folder.name] = model.version
    order = {**ORDER, "customer_id": "C00000"}
    states = list(published)
    stop = threading.Event()

    def swap() -> None:
        turn = 0
        while not stop.is_set():
            pointer = json.dumps({"state": states[turn % 2]}).encode()
            write_atomically(dirs[1] / "current.json", pointer)
            turn += 1
            time.sleep(0.01)

    swapper = threading.Thread(target=swap)
    with TestClient(create_app(*dirs, api_key=KEY)) as client:
        swapper.start()
        try:
            with ThreadPoolExecutor(4) as clients:  # concurrent orders are scored together in batches
                posted = list(
                    clients.map(lambda _: client.post("/v1/return-risk", json=order, headers=HEADERS), range(200))
                )
            answers = [response.json() for response in posted]
        finally:
            stop.set()
            swapper.join()
    assert all(response.status_code == 200 for response in posted)
    seen = {(a["state_version"], a["model_version"]) for a in answers}
    assert seen <= set(published.items())
    assert len(seen) == 2  # both states were served during the swaps


def test_a_started_server_follows_promotions(dirs, models):
    publish(dirs[0], models[0])
    with start_service(*dirs) as service, httpx.Client(base_url=service.url, timeout=30) as http:
        assert http.get("/healthz").json()["model_version"] == models[0].version
        assert http.post("/v1/return-risk", json=ORDER).status_code == 401
        headers = {"X-API-Key": service.api_key}
        first = http.post("/v1/return-risk", json=ORDER, headers=headers).json()
        assert first["model_version"] == models[0].version
        publish(dirs[0], models[1])
        second = http.post("/v1/return-risk", json=ORDER, headers=headers).json()
        assert second["model_version"] == models[1].version
        assert http.get("/v1/model", headers=headers).json()["version"] == models[1].version


def test_load_test_reports_latency_of_every_request(dirs, models):
    publish(dirs[0], models[0])
    figures = run_load_test(*dirs, seconds=2, rate=50)
    assert figures.requests == 100
    assert figures.errors == 0
    assert 0 < figures.p50_ms <= figures.p95_ms <= figures.p99_ms <= figures.max_ms
    assert figures.server_cpu_ms_per_request > 0
    assert figures.server_rss_mib_start > 0 and figures.server_rss_mib_end > 0


def test_overload_is_refused_with_503_and_retry_after_while_accepted_orders_stay_fast(dirs, models):
    publish(dirs[0], models[0])
    figures = run_load_test(*dirs, seconds=2, rate=800, clients=64)
    assert figures.shed > 0 and figures.errors == 0  # every refusal was a 503 with Retry-After
    assert figures.served_per_second > 50
    assert figures.p50_ms < 500  # an unbounded queue reached about 1 s after 2 s at this rate


def test_a_production_model_of_other_features_is_not_served(dirs, models):
    outdated = dataclasses.replace(models[0], version="20250101T000000", features=("hour", "weekday"))
    publish(dirs[0], outdated)
    with TestClient(create_app(*dirs, api_key=KEY)) as client:
        response = client.post("/v1/return-risk", json=ORDER, headers=HEADERS)
    assert response.status_code == 503
    assert "20250101T000000 was trained on other features" in response.json()["detail"]
