"""What the scoring service holds in memory, and how it notices that the files behind it changed.

The pipeline writes the scoring state (the latest counts per customer, product, category and
for the shop) to ``<serving_dir>/*.parquet`` and promotes models by replacing the registry's
``production.json``; both are replaced atomically. The service looks at the files' identity
(``os.stat``: inode, modification time, size) on every request, which costs microseconds,
and loads them again only when it changed.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import pandas as pd

from segmentation_pipeline.domain.returns.model import ReturnModel
from segmentation_pipeline.domain.returns.registry import POINTER, ModelRegistry

logger = logging.getLogger(__name__)

STATE_FILES = ("customers", "products", "categories", "shop")

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


def production_model(registry_root: Path) -> Reloading[ReturnModel]:
    """The registry's production model, following its pointer."""
    registry = ModelRegistry(registry_root)
    return Reloading([registry.root / POINTER], registry.load_production)


def scoring_state(serving_dir: Path) -> Reloading[ScoringState]:
    """The scoring state in ``serving_dir``, read again when any of its files is replaced."""
    return Reloading([serving_dir / f"{name}.parquet" for name in STATE_FILES], lambda: ScoringState.read(serving_dir))
