"""`python -m segmentation_pipeline.run` end to end on the real UCI Online Retail file."""

import os
import subprocess
import sys

import duckdb
import pytest


@pytest.mark.slow
def test_pipeline_runs_end_to_end_on_online_retail(online_retail_file, tmp_path):
    env = {
        **os.environ,
        "SEGMENTATION_SOURCE": "online_retail",
        "SEGMENTATION_SOURCE_PATH": str(online_retail_file),
        "SEGMENTATION_DATA_DIR": str(tmp_path / "data"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    for name in ("SEGMENTATION_START_DATE", "SEGMENTATION_END_DATE"):
        env.pop(name)
    (tmp_path / "dagster_home").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "segmentation_pipeline.run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Run succeeded" in result.stdout
    with duckdb.connect(str(tmp_path / "data" / "warehouse" / "online_retail.duckdb"), read_only=True) as con:
        kept = con.sql(
            "SELECT (SELECT count(*) FROM staging.transactions) + (SELECT count(*) FROM staging.returns)"
        ).fetchall()[0][0]
        quarantined = con.sql("SELECT count(*) FROM staging.quarantine").fetchall()[0][0]
        no_customer = con.sql(
            "SELECT count(*) FROM staging.quarantine WHERE NULLIF(raw_values->>'customer_id', '') IS NULL"
        ).fetchall()[0][0]
        [(promoted, test_roc_auc)] = con.sql("SELECT promoted, test_roc_auc FROM returns.model_runs").fetchall()
        judged = con.sql("SELECT * FROM recommend.evaluation").df().set_index("method")
    assert kept + quarantined == 541_909
    assert no_customer == 135_080
    assert (tmp_path / "data" / "reports" / "data_quality.md").exists()
    assert promoted and test_roc_auc > 0.75  # the README reports the figure measured with the default settings
    recommender = judged.loc["recommender, by purchase probability"]
    for baseline in ("global popularity", "segment popularity"):  # on real baskets, judged after a time split
        assert recommender["hit_rate"] > judged.loc[baseline, "hit_rate"]
        assert recommender["ndcg"] > judged.loc[baseline, "ndcg"]
