"""Test configuration: a small synthetic shop over a short window, in a temporary data folder.

The environment is set before the package is imported, so the partitions and
resources of the code location are built for the test window. Tests on the real
UCI Online Retail file look for it beside the project (`../shared/data/`) or at
SEGMENTATION_TEST_ONLINE_RETAIL, and skip when it is absent.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

TEST_DATA_DIR = Path(tempfile.mkdtemp(prefix="segmentation_tests_"))
atexit.register(shutil.rmtree, TEST_DATA_DIR, ignore_errors=True)
(TEST_DATA_DIR / "dagster_home").mkdir()
os.environ.update(
    {
        "DAGSTER_HOME": str(TEST_DATA_DIR / "dagster_home"),
        "SEGMENTATION_SOURCE": "synthetic",
        "SEGMENTATION_DATA_DIR": str(TEST_DATA_DIR),
        "SEGMENTATION_SYNTHETIC_CUSTOMERS": "800",
        "SEGMENTATION_START_DATE": "2024-01-01",
        "SEGMENTATION_END_DATE": "2024-03-01",
        "GX_ANALYTICS_ENABLED": "false",
    }
)
for name in ("SEGMENTATION_SOURCE_PATH", "SEGMENTATION_WAREHOUSE", "SEGMENTATION_SYNTHETIC_SEED"):
    os.environ.pop(name, None)

import pytest

REAL_ONLINE_RETAIL = Path(
    os.environ.get(
        "SEGMENTATION_TEST_ONLINE_RETAIL", Path(__file__).resolve().parents[2] / "shared/data/online_retail.csv.gz"
    )
)


@pytest.fixture
def online_retail_file() -> Path:
    if not REAL_ONLINE_RETAIL.exists():
        pytest.skip(f"real data not present: {REAL_ONLINE_RETAIL}")
    return REAL_ONLINE_RETAIL


@pytest.fixture(scope="session")
def shop_run(tmp_path_factory):
    """The whole pipeline, every asset and check, over the test shop's two months: one run, shared by the
    tests that only read what it wrote (a test that changes anything works on a copy)."""
    from segmentation_pipeline_tests.pipeline_runs import SHORT_CHURN, run

    folder = tmp_path_factory.mktemp("shop")
    return folder, run(folder, run_config=SHORT_CHURN)
