"""``make serve``: the scoring API on SEGMENTATION_SERVING_HOST:SEGMENTATION_SERVING_PORT (127.0.0.1:8000).

Serves the production model of ``settings.return_models_dir`` with the scoring state of
``settings.serving_dir`` from SEGMENTATION_SERVING_WORKERS processes (default 2, one per core
of the machine it was sized on), each holding at most SEGMENTATION_SERVING_MAX_WAITING orders
waiting for the model. The API key comes from SEGMENTATION_API_KEY or, so that it stays out of
the process environment, from the file named by SEGMENTATION_API_KEY_FILE (a mounted secret);
without one the service refuses to start.
"""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from segmentation_pipeline.serving.app import MAX_WAITING_ORDERS, create_app
from segmentation_pipeline.settings import SETTINGS

MISSING_KEY = (
    "SEGMENTATION_API_KEY is not set: the scoring API needs a key, which clients send in the X-API-Key header "
    "(set SEGMENTATION_API_KEY, or SEGMENTATION_API_KEY_FILE to a file holding it)."
)


def api_key() -> str:
    """The key of SEGMENTATION_API_KEY_FILE's file (its first line) or else of SEGMENTATION_API_KEY; '' if none."""
    key_file = os.environ.get("SEGMENTATION_API_KEY_FILE")
    if key_file:
        try:
            lines = Path(key_file).read_text().splitlines()
        except OSError as error:
            raise SystemExit(f"SEGMENTATION_API_KEY_FILE cannot be read: {error.strerror}") from None
        return lines[0].strip() if lines else ""
    return os.environ.get("SEGMENTATION_API_KEY", "")


def app_from_environment() -> FastAPI:
    """The API configured by the settings and the API key; each worker process builds its own."""
    return create_app(
        SETTINGS.return_models_dir,
        SETTINGS.serving_dir,
        api_key(),
        SETTINGS.timezone,
        max_waiting=int(os.environ.get("SEGMENTATION_SERVING_MAX_WAITING", str(MAX_WAITING_ORDERS))),
    )


def main() -> None:
    if not api_key():
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
