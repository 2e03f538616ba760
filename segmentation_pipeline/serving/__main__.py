"""``make serve``: the scoring API on SEGMENTATION_SERVING_HOST:SEGMENTATION_SERVING_PORT (127.0.0.1:8000).

Serves the production model of ``settings.return_models_dir`` with the scoring state of
``settings.serving_dir`` from SEGMENTATION_SERVING_WORKERS processes (default 2, one per core
of the machine it was sized on); refuses to start without SEGMENTATION_API_KEY.
"""

from __future__ import annotations

import os

import uvicorn
from fastapi import FastAPI

from segmentation_pipeline.serving.app import create_app
from segmentation_pipeline.settings import SETTINGS

MISSING_KEY = (
    "SEGMENTATION_API_KEY is not set: the scoring API needs a key, which clients send in the X-API-Key header."
)


def app_from_environment() -> FastAPI:
    """The API configured by the settings and SEGMENTATION_API_KEY; each worker process builds its own."""
    return create_app(
        SETTINGS.return_models_dir, SETTINGS.serving_dir, os.environ.get("SEGMENTATION_API_KEY", ""), SETTINGS.timezone
    )


def main() -> None:
    if not os.environ.get("SEGMENTATION_API_KEY"):
        raise SystemExit(MISSING_KEY)
    uvicorn.run(
        f"{__spec__.name}:app_from_environment",
        factory=True,
        host=os.environ.get("SEGMENTATION_SERVING_HOST", "127.0.0.1"),
        port=int(os.environ.get("SEGMENTATION_SERVING_PORT", "8000")),
        workers=int(os.environ.get("SEGMENTATION_SERVING_WORKERS", "2")),
        access_log=False,
    )


if __name__ == "__main__":
    main()
