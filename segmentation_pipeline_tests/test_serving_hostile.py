"""The return-risk API against hostile clients: every bad request is a short 4xx naming its field."""

import asyncio
import http.client
import json
import time

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

from segmentation_pipeline.serving import __main__ as serving_main
from segmentation_pipeline.serving.app import MAX_BODY_BYTES, Order, OrderBatcher, create_app
from segmentation_pipeline.serving.load_test import start_service
from segmentation_pipeline_tests.serving_fixtures import publish, train_model, write_state
from segmentation_pipeline_tests.test_serving import HEADERS, KEY, ORDER

RAW = "__raw__"
"""Stands in an order for a JSON literal Python's json module would not write, such as -1e309."""


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    models_dir, serving_dir = root / "models", root / "serving"
    write_state(serving_dir)
    publish(models_dir, train_model("20260101T000000", seed=1))
    return models_dir, serving_dir


@pytest.fixture(scope="module")
def client(dirs):
    with TestClient(create_app(*dirs, api_key=KEY), raise_server_exceptions=False) as client:
        yield client


def order_with(where: str, value, raw: str | None = None) -> bytes:
    """ORDER as JSON with ``value`` at ``where`` (``lines.0.quantity``), or the literal ``raw`` there."""
    order = json.loads(json.dumps(ORDER))
    *path, last = [int(part) if part.isdigit() else part for part in where.split(".")]
    target = order
    for part in path:
        target = target[part]
    target[last] = RAW if raw is not None else value
    text = json.dumps(order)
    return text.replace(f'"{RAW}"', raw).encode() if raw is not None else text.encode()


def post(client, body: bytes):
    return client.post("/v1/return-risk", content=body, headers={**HEADERS, "Content-Type": "application/json"})


def assert_short_error(response, status: int | None, field: str | None = None) -> dict:
    """A JSON error of ``status`` (any 4xx when None) with a message (naming ``field``) that echoes no input."""
    assert response.status_code == status if status else 400 <= response.status_code < 500, response.text[:300]
    body = response.json()
    assert isinstance(body["message"], str) and body["message"]
    assert len(response.content) < 2_000
    if field is not None:
        assert field in body["message"]
        assert field in [error["field"] for error in body["detail"]]
        assert all("input" not in error for error in body["detail"])
    return body


@pytest.mark.parametrize(
    ("where", "value", "raw"),
    [
        ("lines.0.unit_price", None, "NaN"),
        ("lines.0.unit_price", None, "Infinity"),
        ("lines.0.unit_price", None, "-Infinity"),
        ("lines.0.unit_price", None, "-1e309"),
        ("lines.0.unit_price", None, "1e309"),
        ("lines.0.unit_price", 1_000_000.01, None),
        ("lines.0.unit_price", True, None),
        ("lines.0.unit_price", "39.90", None),
        ("lines.0.quantity", None, "NaN"),
        ("lines.0.quantity", None, "-Infinity"),
        ("lines.0.quantity", None, "-1e309"),
        ("lines.0.quantity", 10**309, None),
        ("lines.0.quantity", 10_001, None),
        ("lines.0.quantity", True, None),
        ("lines.0.quantity", 1.5, None),
        ("lines.2.discount", None, "NaN"),
        ("lines.2.discount", None, "-Infinity"),
        ("lines.2.discount", None, "-1e309"),
        ("lines.2.discount", 37.51, None),
        ("lines.2.discount", True, None),
        ("customer_id", "\ud800", None),
        ("lines.0.product_id", "\ud800", None),
        ("lines.1.category", "\ud800", None),
        ("channel", "a\udfffb", None),
        ("country", "\ud800", None),
        ("customer_id", "C" * 65, None),
        ("customer_id", True, None),
        ("customer_id", 1.5, None),
        ("lines.0.product_id", 10**70, None),
        ("lines.1.category", 0, None),
        ("channel", 0, None),
        ("country", 0, None),
        ("order_ts", "9999-12-31T23:59:00-23:00", None),
        ("order_ts", "0001-01-01T00:00:00+23:59", None),
    ],
)
def test_hostile_values_answer_422_naming_the_field(client, where, value, raw):
    field = where.replace(".0.", "[0].").replace(".1.", "[1].").replace(".2.", "[2].")
    assert_short_error(post(client, order_with(where, value, raw)), 422, field)


def test_a_discount_of_the_whole_line_value_and_numeric_ids_are_accepted(client):
    order = json.loads(json.dumps(ORDER))
    order["customer_id"] = 17850
    order["lines"][0]["product_id"] = 85123
    order["lines"][2] = {"product_id": "P0002", "quantity": 3, "unit_price": 0.7, "discount": 2.1}
    response = client.post("/v1/return-risk", json=order, headers=HEADERS)
    assert response.status_code == 200
    assert response.json()["lines"][0]["product_id"] == "85123"


def test_large_input_is_never_echoed(client):
    response = post(client, order_with("customer_id", "C" * 60_000))
    assert_short_error(response, 422, "customer_id")
    response = post(client, order_with("lines", [{"product_id": "P" * 300, "quantity": -1}] * 150))
    assert_short_error(response, 422, "lines")
    response = client.get("/v1/customers/" + "C" * 5_000, headers=HEADERS)
    assert_short_error(response, 422, "customer_id")
    response = post(client, order_with("lines", [{"product_id": "P" * 60, "quantity": 0, "unit_price": -1}] * 100))
    assert response.status_code == 422
    assert len(response.json()["detail"]) == 200
    assert response.json()["message"].endswith("; and 195 more") and len(response.json()["message"]) < 500


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"[]", b"null", b'"text"', b"\xff\xfe", b"[" * 100_000, b'{"customer_id": 1' + b"0" * 5_000 + b"}"],
)
def test_bodies_that_are_no_order_answer_4xx(client, body):
    assert_short_error(post(client, body), None)


def test_a_body_over_the_limit_answers_413_before_it_is_parsed(client):
    started = time.perf_counter()
    response = post(client, order_with("customer_id", "C" * (20 * 1024 * 1024)))
    assert_short_error(response, 413)
    assert time.perf_counter() - started < 2
    chunks = (b"x" * 65_536 for _ in range(MAX_BODY_BYTES // 65_536 + 2))
    response = client.post("/v1/return-risk", content=chunks, headers={**HEADERS, "Content-Type": "application/json"})
    assert_short_error(response, 413)


def test_an_unexpected_error_answers_json_500_and_closes_the_connection(dirs, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("segmentation_pipeline.serving.app.customer_profile", broken)
    with TestClient(create_app(*dirs, api_key=KEY), raise_server_exceptions=False) as client:
        response = client.get("/v1/customers/C00003", headers=HEADERS)
    assert response.status_code == 500
    assert response.headers["connection"] == "close"
    assert response.json()["message"]


def test_no_redirect_is_built_from_the_host_header(client):
    response = client.post(
        "/v1/return-risk/", json=ORDER, headers={**HEADERS, "Host": "evil.example"}, follow_redirects=False
    )
    assert "location" not in response.headers
    assert_short_error(response, 404)


def test_orders_beyond_the_waiting_limit_are_refused_with_retry_after():
    async def run(job):
        await asyncio.sleep(0.01)
        return job()

    async def place(count):
        batcher = OrderBatcher(lambda orders: [{} for _ in orders], run, max_waiting=3)
        order = Order.model_validate(ORDER)
        return await asyncio.gather(*(batcher.score(order) for _ in range(count)), return_exceptions=True)

    answers = asyncio.run(place(10))
    refused = [answer for answer in answers if isinstance(answer, HTTPException)]
    assert len(refused) == 7 and answers[:3] == [{}, {}, {}]
    assert all(answer.status_code == 503 and answer.headers == {"Retry-After": "1"} for answer in refused)


def test_the_api_key_comes_from_a_secret_file(tmp_path, monkeypatch):
    secret = tmp_path / "api_key"
    secret.write_text("from-the-file\n")
    monkeypatch.setenv("SEGMENTATION_API_KEY", "from-the-environment")
    monkeypatch.setenv("SEGMENTATION_API_KEY_FILE", str(secret))
    assert serving_main.api_key() == "from-the-file"
    monkeypatch.delenv("SEGMENTATION_API_KEY_FILE")
    assert serving_main.api_key() == "from-the-environment"


def test_a_started_server_refuses_oversized_and_hostile_bodies_and_keeps_serving(dirs):
    over_the_limit = order_with("customer_id", "C" * (20 * 1024 * 1024))
    requests = [
        ((b"x" * 65_536 for _ in range(64)), 413),
        (over_the_limit, 413),
        (order_with("lines.0.quantity", 10**309), 422),
        (order_with("country", "\ud800"), 422),
        (json.dumps(ORDER).encode(), 200),
    ]
    with start_service(*dirs) as service:
        headers = {"X-API-Key": service.api_key, "Content-Type": "application/json"}
        connection = http.client.HTTPConnection(service.host, service.port, timeout=30)
        for body, status in requests:
            started = time.perf_counter()
            connection.request("POST", "/v1/return-risk", body=body, headers=headers, encode_chunked=True)
            response = connection.getresponse()
            assert response.status == status
            assert json.loads(response.read())
            assert time.perf_counter() - started < 5
