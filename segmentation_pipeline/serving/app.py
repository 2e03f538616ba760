"""The return-risk scoring API: validates requests, finds the state rows, calls the domain.

Scoring runs on one dedicated thread whose math libraries are limited to one thread each
(OpenMP limits are per thread, so the limit is set on that thread): a few hundred rows
score several times faster on one OpenMP thread than on two. Orders
that arrive while the model is busy wait and are then scored together in one model call
(``OrderBatcher``): a call's fixed cost dominates, so under load the batches grow instead
of the queue. At most ``MAX_WAITING_ORDERS`` wait; beyond that an order is answered 503 with
``Retry-After`` at once, so the orders accepted keep their latency when clients send more than
the model can score.

Requests are refused before they can reach the model with anything it cannot score: bodies
over ``MAX_BODY_BYTES``, non-finite or absurd numbers, booleans or numbers where text belongs,
long or invalid Unicode text. Errors never echo the input.
"""

from __future__ import annotations

import asyncio
import math
import secrets
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pandas as pd
from fastapi import Depends, FastAPI, HTTPException, Request, Security
from fastapi import Path as PathParameter
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, BeforeValidator, Field, StringConstraints, ValidationInfo, field_validator
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from segmentation_pipeline.domain.returns.model import ReturnModel
from segmentation_pipeline.domain.returns.scoring import customer_profile, order_facts, score_orders
from segmentation_pipeline.serving.state import ScoringState, Served, published_recommendations, served

T = TypeVar("T")
MAX_LINES = 100
MAX_TEXT = 64
"""Characters of an id, a category, a channel or a country."""
MAX_QUANTITY = 10_000
MAX_UNIT_PRICE = 1_000_000.0
FIRST_ORDER_TS, END_ORDER_TS = datetime(2000, 1, 1), datetime(2100, 1, 1)
MAX_BODY_BYTES = 256 * 1024
"""A request body's bytes: twice the largest valid order (126 KB: 100 lines, every text 64 escaped emoji)."""
MAX_WAITING_ORDERS = 4
"""Orders a worker holds waiting for the model; the next one is answered 503 with Retry-After."""
RETRY_AFTER_SECONDS = 1
MESSAGE_ERRORS = 5
"""Errors a 422's one-line message names; its detail lists them all."""

Text = Annotated[str, StringConstraints(strict=True, max_length=MAX_TEXT)]
IdText = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=MAX_TEXT)]


def _digits(value: Any) -> Any:
    return str(value) if type(value) is int else value


Id = Annotated[IdText, BeforeValidator(_digits, json_schema_input_type=IdText | int)]
"""An id: text, or an integer read as its digits (shops such as Online Retail number their customers)."""


class OrderLine(BaseModel):
    """One line of the order being placed."""

    product_id: Id
    quantity: int = Field(gt=0, le=MAX_QUANTITY, strict=True, description="Units on the line.")
    unit_price: float = Field(
        ge=0, le=MAX_UNIT_PRICE, strict=True, allow_inf_nan=False, description="Price per unit before discount."
    )
    discount: float = Field(
        0.0, ge=0, strict=True, allow_inf_nan=False, description="Money taken off the line, at most its value."
    )
    category: Text | None = Field(None, description="Product category; the known product's when absent.")

    @field_validator("discount")
    @classmethod
    def _at_most_the_line_value(cls, discount: float, info: ValidationInfo) -> float:
        """A discount cannot exceed quantity x unit_price (compared in cents, so 100% off always passes)."""
        quantity, unit_price = info.data.get("quantity"), info.data.get("unit_price")
        if quantity is not None and unit_price is not None and round(discount, 2) > round(quantity * unit_price, 2):
            raise ValueError("discount is larger than the line's value (quantity x unit_price)")
        return discount


class Order(BaseModel):
    """An order about to be placed."""

    customer_id: Id
    order_ts: datetime | None = Field(
        None,
        ge=FIRST_ORDER_TS,
        lt=END_ORDER_TS,
        description="ISO 8601, in the years 2000-2099; now when absent. Naive means shop time.",
    )
    channel: Text | None = None
    country: Text | None = None
    lines: list[OrderLine] = Field(min_length=1, max_length=MAX_LINES)


class Factor(BaseModel):
    feature: str
    effect: float = Field(description="Probability (or, for the order, expected returned lines) this feature adds.")


class LineRiskOut(BaseModel):
    product_id: str
    return_probability: float
    top_factors: list[Factor]


class OrderSummaryOut(BaseModel):
    expected_returned_lines: float = Field(description="Sum of the line probabilities.")
    max_line_probability: float
    top_factors: list[Factor] = Field(description="Each feature's effect summed over the lines.")


class ReturnRiskOut(BaseModel):
    model_version: str
    state_version: str | None = Field(description="The published scoring state the answer was computed from.")
    window_days: int = Field(description="A probability is that of a return within this many days of the order.")
    lines: list[LineRiskOut]
    order: OrderSummaryOut


class RfmOut(BaseModel):
    r_score: int | None = None
    f_score: int | None = None
    m_score: int | None = None
    rfm_segment: str | None = None
    recency_days: float | None = None
    frequency: float | None = None
    monetary_net: float | None = None


class ValueOut(BaseModel):
    p_alive: float | None = None
    clv: float | None = None
    net_clv: float | None = None
    churn_probability: float | None = None
    churn_band: str | None = None


class CustomerOut(BaseModel):
    customer_id: str
    known: bool
    segment: str
    segment_id: int | None
    rfm: RfmOut
    value: ValueOut
    expected_return_rate: float
    prior_orders: int
    prior_units: int
    prior_returned_units: int
    prior_contacts: int
    first_seen_ts: datetime | None
    last_order_ts: datetime | None


class RecommendationOut(BaseModel):
    rank: int
    product_id: str
    price: float | None
    purchase_probability: float | None
    return_risk: float | None
    expected_kept_value: float
    source: str
    because_you_bought: list[str]


class ActionOut(BaseModel):
    action: str
    rule: str
    campaign_id: str | None = None
    top_product: str | None = None


class RecommendationsOut(BaseModel):
    customer_id: str
    known: bool
    recommendations_version: str | None
    next_best_action: ActionOut | None
    recommendations: list[RecommendationOut]


def _present_or_none(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _recommendation(row: dict[str, Any]) -> dict[str, Any]:
    reasons = row.get("because_you_bought") or ""
    return {
        **{name: _present_or_none(value) for name, value in row.items() if name != "because_you_bought"},
        "because_you_bought": [product for product in reasons.split(", ") if product],
    }


def _factors(pairs: list[tuple[str, float]]) -> list[dict[str, Any]]:
    return [{"feature": name, "effect": effect} for name, effect in pairs]


def _field(location: tuple) -> str:
    parts = [part for part in location if part not in ("body", "path", "query", "header")]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    """422 with FastAPI's detail list less the input, each error also naming its field as ``lines[0].quantity``;
    the message names the first few."""
    detail = [
        {"type": item["type"], "loc": list(item["loc"]), "msg": item["msg"], "field": _field(tuple(item["loc"]))}
        for item in error.errors()
    ]
    message = "; ".join(f"{item['field']}: {item['msg']}" for item in detail[:MESSAGE_ERRORS])
    if len(detail) > MESSAGE_ERRORS:
        message += f"; and {len(detail) - MESSAGE_ERRORS} more"
    return JSONResponse(status_code=422, content={"message": message, "detail": detail})


async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    """The error's status, headers and detail, the detail also as the ``message`` every error answer has."""
    return JSONResponse(
        status_code=error.status_code,
        content={"message": str(error.detail), "detail": error.detail},
        headers=error.headers,
    )


async def _server_error(request: Request, error: Exception) -> JSONResponse:
    """500 that closes the connection, saying so, so the client's next request opens a new one."""
    return JSONResponse(
        status_code=500,
        content={"message": "internal error; the order was not scored", "detail": "internal error"},
        headers={"Connection": "close"},
    )


def _one_math_thread() -> None:
    import sklearn.ensemble  # noqa: F401  loads OpenMP so the limit below reaches it
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


class OrderBatcher:
    """Collects the orders that arrive while a batch is being scored and scores them next, together.

    Lives on the event loop: ``score`` queues an order and waits for its answer; one drain
    task at a time hands the queue to ``work`` on the scoring thread. At most ``max_waiting``
    orders wait: one more is refused with 503 and Retry-After. When scoring a batch raises,
    each of its orders is scored alone, so an order that breaks the model fails by itself.
    """

    def __init__(
        self,
        work: Callable[[list[Order]], list[dict[str, Any]]],
        run: Callable[..., Any],
        max_waiting: int = MAX_WAITING_ORDERS,
    ):
        self._work = work
        self._run = run
        self._max_waiting = max_waiting
        self._waiting: list[tuple[Order, asyncio.Future]] = []
        self._drainer: asyncio.Task | None = None

    @property
    def full(self) -> bool:
        return len(self._waiting) >= self._max_waiting

    def refusal(self) -> HTTPException:
        """503 with Retry-After: the answer to an order that finds the waiting line full."""
        return HTTPException(
            503,
            f"busy: {self._max_waiting} orders are already waiting to be scored; retry in a second",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    async def score(self, order: Order) -> dict[str, Any]:
        if self.full:
            raise self.refusal()
        answer = asyncio.get_running_loop().create_future()
        self._waiting.append((order, answer))
        if self._drainer is None:
            self._drainer = asyncio.get_running_loop().create_task(self._drain())
        return await answer

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                await self._answer(batch)
        finally:
            self._drainer = None

    async def _answer(self, batch: list[tuple[Order, asyncio.Future]]) -> None:
        try:
            results = await self._run(partial(self._work, [order for order, _ in batch]))
        except Exception as error:  # noqa: BLE001  handed to the request, or its orders scored alone
            if len(batch) == 1:
                _settle(batch[0][1], error=error)
            else:
                for one in batch:
                    await self._answer([one])
        else:
            for (_, answer), result in zip(batch, results):
                _settle(answer, result=result)


def _settle(answer: asyncio.Future, result: Any = None, error: Exception | None = None) -> None:
    """Hands the answer to a request still waiting for it (one that was cancelled is not)."""
    if answer.done():
        return
    if error is None:
        answer.set_result(result)
    else:
        answer.set_exception(error)


class BodyLimit:
    """Refuses a request body over ``limit`` bytes with 413 before anything parses it: at once when
    its Content-Length says so, else as soon as the chunks received pass the limit."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = HTTPException(413, f"request body over {self.limit} bytes")
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await (await _http_error(Request(scope), too_large))(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            chunk = await receive()
            received += len(chunk.get("body", b""))
            if received > self.limit:
                raise too_large
            return chunk

        await self.app(scope, limited, send)


class ShedWhenFull:
    """Refuses an order with the batcher's 503 while its waiting line is full, before its body is read
    or its key checked: refusing then costs a fraction of parsing and validating, so a worker keeps
    up with what it refuses."""

    def __init__(self, app: ASGIApp, batcher: OrderBatcher, path: str):
        self.app = app
        self.batcher = batcher
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == self.path and self.batcher.full:
            await (await _http_error(Request(scope), self.batcher.refusal()))(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_app(
    models_dir: Path,
    serving_dir: Path,
    api_key: str,
    timezone: str = "UTC",
    max_waiting: int = MAX_WAITING_ORDERS,
) -> FastAPI:
    """The API scoring with the scoring state published in ``serving_dir`` and its model from the
    registry at ``models_dir`` (the production model when the state names none); every endpoint but ``/healthz`` needs ``api_key``; at most
    ``max_waiting`` orders wait for the model."""
    if not api_key:
        raise ValueError("an API key is required: set SEGMENTATION_API_KEY")
    source = served(models_dir, serving_dir)
    recommended = published_recommendations(serving_dir)
    scorer: dict[str, ThreadPoolExecutor] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scorer["pool"] = ThreadPoolExecutor(1, thread_name_prefix="scorer", initializer=_one_math_thread)
        await _on_scorer(source.get)
        yield
        scorer.pop("pool").shutdown()

    async def _on_scorer(work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(scorer["pool"], work)

    def require_key(key: str | None = Security(APIKeyHeader(name="X-API-Key", auto_error=False))) -> None:
        if key is None or not secrets.compare_digest(key.encode(), api_key.encode()):
            raise HTTPException(401, "missing or wrong API key (header X-API-Key)")

    def model(now: Served) -> ReturnModel:
        current = now.model
        if current is None:
            raise HTTPException(503, f"no production model yet in {models_dir}: train and promote one first")
        if not current.scores_current_features:
            raise HTTPException(
                503, f"production model {current.version} was trained on other features: promote a current one"
            )
        return current

    def state(now: Served) -> ScoringState:
        current = now.state
        if current is None:
            raise HTTPException(503, f"no scoring state yet in {serving_dir}: materialise it first")
        return current

    def shop_time(moment: datetime | None) -> pd.Timestamp:
        if moment is None:
            return pd.Timestamp.now(tz=timezone).tz_localize(None)
        moment = pd.Timestamp(moment)
        return moment.tz_convert(timezone).tz_localize(None) if moment.tzinfo else moment

    def score(orders: list[Order]) -> list[dict[str, Any]]:
        now = source.get()  # one state and its model for the whole batch
        current_model, current_state = model(now), state(now)
        facts = [
            order_facts(
                [line.model_dump() for line in order.lines],
                shop_time(order.order_ts),
                current_state.customers.get(order.customer_id),
                current_state.products,
                current_state.categories,
                current_state.shop,
                customer_id=order.customer_id,
                channel=order.channel,
                country=order.country,
            )
            for order in orders
        ]
        return [
            {
                "model_version": risk.model_version,
                "state_version": now.state_version,
                "window_days": current_model.window_days,
                "lines": [{**asdict(line), "top_factors": _factors(line.top_factors)} for line in risk.lines],
                "order": {
                    "expected_returned_lines": risk.expected_returned_lines,
                    "max_line_probability": risk.max_line_probability,
                    "top_factors": _factors(risk.top_factors),
                },
            }
            for risk in score_orders(current_model, facts)
        ]

    def customer(customer_id: str) -> dict[str, Any]:
        current_state = state(source.get())
        return customer_profile(customer_id, current_state.customers.get(customer_id), current_state.shop)

    def recommendations(customer_id: str) -> dict[str, Any]:
        version, published = recommended.get()
        if published is None:
            raise HTTPException(503, f"no recommendations yet in {serving_dir}: materialise next_best_actions first")
        products, action = published.of(customer_id)
        return {
            "customer_id": customer_id,
            "known": action is not None,
            "recommendations_version": version,
            "next_best_action": None if action is None else {k: _present_or_none(v) for k, v in action.items()},
            "recommendations": [_recommendation(row) for row in products],
        }

    def card() -> dict[str, Any]:
        current = model(source.get())
        return {
            "version": current.version,
            "algorithm": current.algorithm,
            "label": {"window_days": current.window_days},
            **current.card,
        }

    batcher = OrderBatcher(score, _on_scorer, max_waiting)
    app = FastAPI(
        title="Return-risk scoring",
        summary="Return probability of each line of an order about to be placed, and why.",
        lifespan=lifespan,
        exception_handlers={
            RequestValidationError: _validation_error,
            StarletteHTTPException: _http_error,
            Exception: _server_error,
        },
        middleware=[
            Middleware(ShedWhenFull, batcher=batcher, path="/v1/return-risk"),
            Middleware(BodyLimit, limit=MAX_BODY_BYTES),
        ],
        redirect_slashes=False,
    )
    keyed = [Depends(require_key)]

    @app.post("/v1/return-risk", response_model=ReturnRiskOut, dependencies=keyed)
    async def return_risk(order: Order) -> dict[str, Any]:
        """Calibrated return probability of every line, the features behind it, and the order's total."""
        return await batcher.score(order)

    @app.get("/v1/customers/{customer_id}", response_model=CustomerOut, dependencies=keyed)
    async def customer_endpoint(customer_id: Annotated[str, PathParameter(max_length=MAX_TEXT)]) -> dict[str, Any]:
        """Segment, RFM, expected return rate and counts; an unknown customer answers defaults, known false."""
        return await _on_scorer(lambda: customer(customer_id))

    @app.get("/v1/customers/{customer_id}/recommendations", response_model=RecommendationsOut, dependencies=keyed)
    async def recommendations_endpoint(
        customer_id: Annotated[str, PathParameter(max_length=MAX_TEXT)],
    ) -> dict[str, Any]:
        """The customer's products to recommend, best first by expected kept value, with their return risk and
        the products they came from, and the customer's next best action; a customer who has never bought
        answers known false and an empty list."""
        return await _on_scorer(lambda: recommendations(customer_id))

    @app.get("/v1/model", dependencies=keyed)
    async def model_card() -> dict[str, Any]:
        """The served model's card: version, the return window its probabilities refer to, training periods, features, metrics."""
        return await _on_scorer(card)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """Liveness, and whether a model and the scoring state are loaded."""
        now = await _on_scorer(source.get)
        return {
            "status": "ok",
            "model_loaded": now.model is not None,
            "model_version": None if now.model is None else now.model.version,
            "state_loaded": now.state is not None,
            "state_version": now.state_version,
        }

    return app
