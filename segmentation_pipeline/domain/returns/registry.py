"""Versioned return models on disk, and the production pointer the scoring service follows.

Layout under the registry root (``<data_dir>/models/returns`` by default):

    <version>/model.pkl     the pickled ``ReturnModel``
    <version>/card.json     its model card
    production.json         {"version": ...}: the model in production

Versions are never overwritten or deleted, so an older one stays loadable. The pointer is
replaced atomically (write a temporary file, then rename), so a reader sees the old or the
new version, never half of one.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path
from typing import Any

from segmentation_pipeline.domain.returns.model import ReturnModel

POINTER = "production.json"


def write_atomically(path: Path, data: bytes) -> None:
    """Replace a file in one step: readers see the old content or the new, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


class ModelRegistry:
    """Saved model versions under ``root`` and which one is in production."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def save(self, model: ReturnModel) -> Path:
        """Store a new version; refuses to overwrite an existing one."""
        folder = self.root / model.version
        if (folder / "model.pkl").exists():
            raise FileExistsError(f"model version {model.version} already exists in {self.root}")
        write_atomically(folder / "card.json", json.dumps(model.card, indent=2, default=str).encode())
        write_atomically(folder / "model.pkl", pickle.dumps(model))
        return folder

    def versions(self) -> list[str]:
        """Saved versions, oldest first (versions sort by time)."""
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "model.pkl").exists())

    def load(self, version: str) -> ReturnModel:
        path = self.root / version / "model.pkl"
        if not path.exists():
            raise FileNotFoundError(f"no model version {version!r} in {self.root}")
        return pickle.loads(path.read_bytes())

    def card(self, version: str) -> dict[str, Any]:
        return json.loads((self.root / version / "card.json").read_text())

    def production_version(self) -> str | None:
        pointer = self.root / POINTER
        return json.loads(pointer.read_text())["version"] if pointer.exists() else None

    def promote(self, version: str) -> None:
        """Point production at a saved version."""
        if version not in self.versions():
            raise FileNotFoundError(f"no model version {version!r} in {self.root}")
        write_atomically(self.root / POINTER, json.dumps({"version": version}).encode())

    def settle(self, recorded: set[str], production: str | None) -> list[str]:
        """Make the folder agree with the recorded training runs, after a run that died half-way.

        A version on disk that no run recorded (its run died before recording it) is removed, and
        production points at ``production``, the version the latest recorded run left in production
        (a run that died between recording and promoting), when that version is on disk. Returns the
        versions removed.
        """
        saved = self.versions()
        orphans = [version for version in saved if version not in recorded]
        for version in orphans:
            shutil.rmtree(self.root / version)
        if production in saved and production != self.production_version():
            self.promote(production)
        return orphans

    def load_production(self) -> ReturnModel | None:
        version = self.production_version()
        return None if version is None else self.load(version)
