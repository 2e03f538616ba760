"""What the scoring service holds in memory, how the pipeline publishes it, and how the service
notices a new one.

The pipeline publishes a scoring state (the latest counts per customer, product, category and
for the shop) as one unit: it writes every file, and ``model.json`` naming the model in production
when it was written, into a new folder ``<serving_dir>/<version>/``, then moves one pointer,
``<serving_dir>/current.json`` (``publish_state``). The service looks at the pointers' identity
(``os.stat``: inode, modification time, size) on every request, which costs microseconds, and
when one changed loads the folder whole with its model (``served``): an answer is always computed
from one state and the model published with it. A state published without ``model.json`` is
served with the registry's production model, followed as it is promoted.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import pandas as pd

from segmentation_pipeline.domain.returns.model import ReturnModel
from segmentation_pipeline.domain.returns.registry import POINTER, ModelRegistry, write_atomically

logger = logging.getLogger(__name__)

STATE_FILES = ("customers", "products", "categories", "shop")
STATE_POINTER = "current.json"
MODEL_FILE = "model.json"
KEEP_STATES = 2
"""Published states kept: the current one, and the one before for a reader still loading it."""

T = TypeVar("T")


@dataclass(frozen=True)
class ScoringState:
    """Latest counts, as lookups: customer id, product id and category to their state row."""

    customers: dict[str, dict[str, Any]]
    products: dict[str, dict[str, Any]]
    categories: dict[str, dict[str, Any]]
    shop: dict[str, Any]

    @classmethod
    def read(cls, folder: Path) -> ScoringState | None:
        """The state in ``folder``, or None while any of its files is missing."""
        paths = [folder / f"{name}.parquet" for name in STATE_FILES]
        if not all(path.exists() for path in paths):
            return None
        customers, products, categories, shop = (pd.read_parquet(path) for path in paths)
        return cls(
            customers=_by_key(customers, "customer_id"),
            products=_by_key(products, "product_id"),
            categories=_by_key(categories, "category"),
            shop=shop.iloc[0].to_dict() if len(shop) else {},
        )


def _by_key(frame: pd.DataFrame, key: str) -> dict[str, dict[str, Any]]:
    frame = frame.drop_duplicates(key, keep="last")
    return dict(zip(frame[key].astype(str), frame.drop(columns=key).to_dict("records")))


def _identity(paths: Sequence[Path]) -> tuple:
    identity = []
    for path in paths:
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            identity.append(None)
        else:
            identity.append((stat.st_ino, stat.st_mtime_ns, stat.st_size))
    return tuple(identity)


class Reloading(Generic[T]):
    """A value loaded from files, loaded again when any of the files is replaced.

    ``get`` compares the files' identity with the one the value was loaded from and, when it
    differs, loads anew and swaps the value in one assignment, so a reader has the old
    value or the new, never a mix. A load that fails is logged and the previous value kept
    until the files change again.
    """

    def __init__(self, paths: Sequence[Path], load: Callable[[], T | None]):
        self.paths = list(paths)
        self._load = load
        self._lock = threading.Lock()
        self._current: tuple[tuple | None, T | None] = (None, None)

    def get(self) -> T | None:
        identity = _identity(self.paths)
        loaded_from, value = self._current
        if identity == loaded_from:
            return value
        with self._lock:
            loaded_from, value = self._current
            if identity != loaded_from:
                try:
                    value = self._load()
                except Exception:
                    logger.exception("could not load %s; keeping what was loaded before", self.paths)
                self._current = (identity, value)
        return value


def publish_state(serving_dir: Path, write: Callable[[Path], None], model_version: str | None) -> str:
    """Publish a scoring state as one unit: ``write`` fills a new folder with the ``STATE_FILES``,
    ``model.json`` names ``model_version``, then ``current.json`` points at the folder. Returns the
    state's version; older states beyond ``KEEP_STATES`` are removed."""
    version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = serving_dir / version
    folder.mkdir(parents=True)
    write(folder)
    write_atomically(folder / MODEL_FILE, json.dumps({"version": model_version}).encode())
    write_atomically(serving_dir / STATE_POINTER, json.dumps({"state": version}).encode())
    published = sorted(p for p in serving_dir.iterdir() if p.is_dir() and (p / MODEL_FILE).exists())
    for old in published[:-KEEP_STATES]:
        shutil.rmtree(old, ignore_errors=True)
    return version


def current_state(serving_dir: Path) -> Path | None:
    """The folder of the published scoring state, or None before the first is published."""
    pointer = serving_dir / STATE_POINTER
    return serving_dir / json.loads(pointer.read_text())["state"] if pointer.exists() else None


@dataclass(frozen=True)
class Served:
    """What an answer is computed from: a published scoring state and the model published with it."""

    state_version: str | None
    state: ScoringState | None
    model: ReturnModel | None


def served(models_dir: Path, serving_dir: Path) -> Reloading[Served]:
    """The published scoring state and its model, loaded again whole when either pointer moves."""
    registry = ModelRegistry(models_dir)
    loaded: dict[str, ReturnModel] = {}

    def model(version: str | None) -> ReturnModel | None:
        if version is None:
            return None
        if version not in loaded:  # a new state with the same model does not load it again
            loaded.clear()
            loaded[version] = registry.load(version)
        return loaded[version]

    def load() -> Served:
        folder = current_state(serving_dir)
        if folder is None:
            return Served(None, None, model(registry.production_version()))
        published = json.loads((folder / MODEL_FILE).read_text())["version"] if (folder / MODEL_FILE).exists() else None
        return Served(folder.name, ScoringState.read(folder), model(published or registry.production_version()))

    return Reloading([serving_dir / STATE_POINTER, registry.root / POINTER], load)


RECOMMENDATIONS_FOLDER = "recommendations"
"""Under the serving folder: the recommendation lists and next best actions, published as one unit."""


@dataclass(frozen=True)
class RecommendationState:
    """Every customer's recommendation list and next best action, sorted by customer for lookups."""

    lists: pd.DataFrame
    actions: pd.DataFrame

    @classmethod
    def read(cls, folder: Path) -> RecommendationState | None:
        """The lists and actions in ``folder``, or None while either file is missing."""
        paths = [folder / "recommendations.parquet", folder / "actions.parquet"]
        if not all(path.exists() for path in paths):
            return None
        lists, actions = (pd.read_parquet(path) for path in paths)
        lists = lists.astype({"customer_id": str}).sort_values(["customer_id", "rank"], ignore_index=True)
        actions = actions.astype({"customer_id": str}).sort_values("customer_id", ignore_index=True)
        return cls(lists, actions)

    def of(self, customer_id: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """The customer's list, best first, and next best action (None when the customer has none)."""
        first = self.lists["customer_id"].searchsorted(customer_id, side="left")
        end = self.lists["customer_id"].searchsorted(customer_id, side="right")
        found = self.actions["customer_id"].searchsorted(customer_id)
        action = None
        if found < len(self.actions) and self.actions["customer_id"].iat[found] == customer_id:
            action = self.actions.iloc[found].to_dict()
        return self.lists.iloc[first:end].to_dict("records"), action


def published_recommendations(serving_dir: Path) -> Reloading[tuple[str | None, RecommendationState | None]]:
    """The published recommendations and their version, loaded again whole when their pointer moves."""
    folder = serving_dir / RECOMMENDATIONS_FOLDER

    def load() -> tuple[str | None, RecommendationState | None]:
        current = current_state(folder)
        return (None, None) if current is None else (current.name, RecommendationState.read(current))

    return Reloading([folder / STATE_POINTER], load)
