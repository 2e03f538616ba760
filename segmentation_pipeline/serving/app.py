"""The return-risk scoring API: validates requests, finds the state rows, calls the domain.

Scoring runs on one dedicated thread whose math libraries are limited to one thread each
(OpenMP limits are per thread, so the limit is set on that thread): a few hundred rows
score several times faster on one OpenMP thread than on two. Orders
that arrive while the model is busy wait and are then scored together in one model call
(``OrderBatcher``): a call's fixed cost dominates, so under load the batches grow instead
of the queue.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from fastapi import Depends, FastAPI, HTTPException, Request, Security
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field

from segmentation_pipeline.domain.returns.model import ReturnModel
from segmentation_pipeline.domain.returns.scoring import customer_profile, order_facts, score_orders
from segmentation_pipeline.serving.state import ScoringState, production_model, scoring_state

T = TypeVar("T")
MAX_LINES = 100


class OrderLine(BaseModel):
    """One line of the order being placed."""

    product_id: str = Field(min_length=1)
    quantity: int = Field(gt=0, description="Units on the line.")
    unit_price: float = Field(ge=0, description="Price per unit before discount.")
    discount: float = Field(0.0, ge=0, description="Money taken off the line.")
    category: str | None = Field(None, description="Product category; the known product's when absent.")

    model_config = ConfigDict(coerce_numbers_to_str=True)


class Order(BaseModel):
    """An order about to be placed."""

    customer_id: str = Field(min_length=1)
    order_ts: datetime | None = Field(None, description="ISO 8601; now when absent. Naive means shop time.")
    channel: str | None = None
    country: str | None = None
    lines: list[OrderLine] = Field(min_length=1, max_length=MAX_LINES)

    model_config = ConfigDict(coerce_numbers_to_str=True)


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


class CustomerOut(BaseModel):
    customer_id: str
    known: bool
    segment: str
    segment_id: int | None
    rfm: RfmOut
    expected_return_rate: float
    prior_orders: int
    prior_units: int
    prior_returned_units: int
    prior_contacts: int
    first_seen_ts: datetime | None
    last_order_ts: datetime | None


def _factors(pairs: list[tuple[str, float]]) -> list[dict[str, Any]]:
    return [{"feature": name, "effect": effect} for name, effect in pairs]


def _field(location: tuple) -> str:
    parts = [part for part in location if part not in ("body", "path", "query", "header")]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    """422 with FastAPI's detail list, each error also naming its field as ``lines[0].quantity``."""
    detail = [{**item, "field": _field(tuple(item.get("loc", ())))} for item in error.errors()]
    message = "; ".join(f"{item['field']}: {item['msg']}" for item in detail)
    return JSONResponse(status_code=422, content=jsonable_encoder({"message": message, "detail": detail}))


def _one_math_thread() -> None:
    import sklearn.ensemble  # noqa: F401  loads OpenMP so the limit below reaches it
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


class OrderBatcher:
    """Collects the orders that arrive while a batch is being scored and scores them next, together.

    Lives on the event loop: ``score`` queues an order and waits for its answer; one drain
    task at a time hands the queue to ``work`` on the scoring thread.
    """

    def __init__(self, work: Callable[[list[Order]], list[dict[str, Any]]], run: Callable[..., Any]):
        self._work = work
        self._run = run
        self._waiting: list[tuple[Order, asyncio.Future]] = []
        self._drainer: asyncio.Task | None = None

    async def score(self, order: Order) -> dict[str, Any]:
        answer = asyncio.get_running_loop().create_future()
        self._waiting.append((order, answer))
        if self._drainer is None:
            self._drainer = asyncio.get_running_loop().create_task(self._drain())
        return await answer

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    results = await self._run(partial(self._work, [order for order, _ in batch]))
                except Exception as error:  # noqa: BLE001  the error goes to every request of the batch
                    for _, answer in batch:
                        answer.set_exception(error)
                else:
                    for (_, answer), result in zip(batch, results):
                        answer.set_result(result)
        finally:
            self._drainer = None


def create_app(models_dir: Path, serving_dir: Path, api_key: str, timezone: str = "UTC") -> FastAPI:
    """The API scoring with the production model of the registry at ``models_dir`` and the
    scoring state in ``serving_dir``; every endpoint but ``/healthz`` needs ``api_key``."""
    if not api_key:
        raise ValueError("an API key is required: set SEGMENTATION_API_KEY")
    model_source = production_model(models_dir)
    state_source = scoring_state(serving_dir)
    scorer: dict[str, ThreadPoolExecutor] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scorer["pool"] = ThreadPoolExecutor(1, thread_name_prefix="scorer", initializer=_one_math_thread)
        await _on_scorer(model_source.get)
        await _on_scorer(state_source.get)
        yield
        scorer.pop("pool").shutdown()

    async def _on_scorer(work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(scorer["pool"], work)

    def require_key(key: str | None = Security(APIKeyHeader(name="X-API-Key", auto_error=False))) -> None:
        if key is None or not secrets.compare_digest(key.encode(), api_key.encode()):
            raise HTTPException(401, "missing or wrong API key (header X-API-Key)")

    def model() -> ReturnModel:
        current = model_source.get()
        if current is None:
            raise HTTPException(503, f"no production model yet in {models_dir}: train and promote one first")
        if not current.scores_current_features:
            raise HTTPException(
                503, f"production model {current.version} was trained on other features: promote a current one"
            )
        return current

    def state() -> ScoringState:
        current = state_source.get()
        if current is None:
            raise HTTPException(503, f"no scoring state yet in {serving_dir}: materialise it first")
        return current

    def shop_time(moment: datetime | None) -> pd.Timestamp:
        if moment is None:
            return pd.Timestamp.now(tz=timezone).tz_localize(None)
        moment = pd.Timestamp(moment)
        return moment.tz_convert(timezone).tz_localize(None) if moment.tzinfo else moment

    def score(orders: list[Order]) -> list[dict[str, Any]]:
        current_model, current_state = model(), state()
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
        current_state = state()
        return customer_profile(customer_id, current_state.customers.get(customer_id), current_state.shop)

    def card() -> dict[str, Any]:
        current = model()
        return {
            "version": current.version,
            "algorithm": current.algorithm,
            "label": {"window_days": current.window_days},
            **current.card,
        }

    app = FastAPI(
        title="Return-risk scoring",
        summary="Return probability of each line of an order about to be placed, and why.",
        lifespan=lifespan,
        exception_handlers={RequestValidationError: _validation_error},
    )
    keyed = [Depends(require_key)]
    batcher = OrderBatcher(score, _on_scorer)

    @app.post("/v1/return-risk", response_model=ReturnRiskOut, dependencies=keyed)
    async def return_risk(order: Order) -> dict[str, Any]:
        """Calibrated return probability of every line, the features behind it, and the order's total."""
        return await batcher.score(order)

    @app.get("/v1/customers/{customer_id}", response_model=CustomerOut, dependencies=keyed)
    async def customer_endpoint(customer_id: str) -> dict[str, Any]:
        """Segment, RFM, expected return rate and counts; an unknown customer answers defaults, known false."""
        return await _on_scorer(lambda: customer(customer_id))

    @app.get("/v1/model", dependencies=keyed)
    async def model_card() -> dict[str, Any]:
        """The production model's card: version, the return window its probabilities refer to, training periods, features, metrics."""
        return await _on_scorer(card)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """Liveness, and whether a model and the scoring state are loaded."""
        current_model = await _on_scorer(model_source.get)
        current_state = await _on_scorer(state_source.get)
        return {
            "status": "ok",
            "model_loaded": current_model is not None,
            "model_version": None if current_model is None else current_model.version,
            "state_loaded": current_state is not None,
        }

    return app
