"""Segments of a generated shop, computed through the warehouse SQL, against the generator's latent types."""

from datetime import date, timedelta

import pytest

from segmentation_pipeline.domain.contract import ATTRIBUTION_DAYS
from segmentation_pipeline.domain.segments.latent_types import segments_vs_types
from segmentation_pipeline.domain.segments.refit import INPUT_COLUMNS, SegmentationSettings, refit
from segmentation_pipeline.sources.synthetic import SyntheticSource
from segmentation_pipeline.sources.synthetic_shop import ShopSpec, generate_shop
from segmentation_pipeline.sql import catalog, query
from segmentation_pipeline.warehouse import Window, connect, replace_days
from segmentation_pipeline_tests.shop_files import build

SPEC = ShopSpec(n_customers=3_000, start=date(2024, 1, 1), days=365, seed=42, write_line_truth=False)
LAST_DAY = SPEC.start + timedelta(days=SPEC.days - 1)
# Measured on this shop: adjusted Rand index 0.099 (k=4). Segments unrelated to the types score
# about 0; the floor leaves room for numerical differences between platforms.
ARI_FLOOR = 0.07


@pytest.fixture(scope="module")
def recovery(tmp_path_factory):
    folder = tmp_path_factory.mktemp("typed_shop") / "shop"
    generate_shop(SPEC, folder)
    source = SyntheticSource(folder, SPEC.n_customers, SPEC.seed, SPEC.start, SPEC.days)
    con = connect()
    build(con, source, [Window(SPEC.start, SPEC.start + timedelta(days=SPEC.days))])
    window = Window(SPEC.start, LAST_DAY + timedelta(days=1))
    history = query("segments/customer_history")
    replace_days(con, catalog.CUSTOMER_HISTORY, window, history, {"attribution_days": ATTRIBUTION_DAYS})
    snapshot = con.execute("FROM snapshot_on($day) ORDER BY customer_id", {"day": LAST_DAY}).df()[list(INPUT_COLUMNS)]
    segments = refit(snapshot, LAST_DAY, None, SegmentationSettings()).assign(snapshot)
    truth = con.execute(
        "SELECT customer_id, latent_type FROM read_parquet($path)", {"path": str(source.customer_truth_path())}
    ).df()
    return segments_vs_types(segments.merge(truth, on="customer_id"))


def test_segments_recover_the_latent_customer_types(recovery):
    assert recovery.adjusted_rand_index > ARI_FLOOR
