"""``make serve``: the scoring API on SEGMENTATION_SERVING_HOST:SEGMENTATION_SERVING_PORT (127.0.0.1:8000).

Serves the production model of ``settings.return_models_dir`` with the scoring state of
``settings.serving_dir``; refuses to start without SEGMENTATION_API_KEY.
"""

from __future__ import annotations

import os

import uvicorn

from segmentation_pipeline.serving.app import create_app
from segmentation_pipeline.settings import SETTINGS


def main() -> None:
    api_key = os.environ.get("SEGMENTATION_API_KEY", "")
    if not api_key:
        raise SystemExit(
            "SEGMENTATION_API_KEY is not set: the scoring API needs a key, which clients send in the X-API-Key header."
        )
    host = os.environ.get("SEGMENTATION_SERVING_HOST", "127.0.0.1")
    port = int(os.environ.get("SEGMENTATION_SERVING_PORT", "8000"))
    app = create_app(SETTINGS.return_models_dir, SETTINGS.serving_dir, api_key, SETTINGS.timezone)
    uvicorn.run(app, host=host, port=port, access_log=False)


if __name__ == "__main__":
    main()
