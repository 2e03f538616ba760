"""Benchmark: wall time, peak memory and rows per second of each stage, on generated shops.

    python -m segmentation_pipeline.benchmark [--scenario default|10m|1m_segments|serving] ...

Each stage runs in its own process so its peak resident memory is its own. The
figures go to data/reports/benchmark.json and a markdown table beside it.
The `1m_segments` scenario (1,000,000 customers) adds the customer snapshot of the
last day and the segmentation of every customer in it (refit and assignment, as the
`customer_segments` asset does them). ``serving`` (only when asked for) measures the
scoring API's latency at a steady 100 requests per second, on the production model and
scoring state of the settings.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import resource
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path

import duckdb

from segmentation_pipeline.serving.load_test import LatencyFigures, run_load_test
from segmentation_pipeline.settings import SETTINGS

# Generated lines per customer are about 16.7, so customers set the size.
SCENARIOS = {"default": 60_000, "10m": 620_000, "1m_segments": 1_000_000}
SERVING = "serving"
SERVING_SECONDS = 60
START, DAYS = date(2024, 1, 1), 731
ORDER = ["customers", "transactions", "returns", "campaign_exposures", "service_interactions"]


@dataclass(frozen=True)
class StageFigures:
    scenario: str
    stage: str
    rows: int
    seconds: float
    peak_rss_mib: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def _child(work: Callable[[], int], queue: multiprocessing.Queue) -> None:
    started = time.perf_counter()
    rows = work()
    seconds = time.perf_counter() - started
    queue.put((rows, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def measure(scenario: str, stage: str, work: Callable[[], int]) -> StageFigures:
    """Run `work` (which returns the rows it handled) in a fresh process and measure it."""
    queue: multiprocessing.Queue = multiprocessing.get_context("fork").Queue()
    process = multiprocessing.get_context("fork").Process(target=_child, args=(work, queue))
    process.start()
    rows, seconds, peak = queue.get()
    process.join()
    figures = StageFigures(scenario, stage, rows, round(seconds, 2), round(peak, 1))
    print(f"{scenario:>8} {stage:<10} {rows:>12,} rows {seconds:8.1f} s {peak:8.0f} MiB")
    return figures


def generate(folder: Path, customers: int) -> int:
    from segmentation_pipeline.sources.synthetic_shop import ShopSpec, generate_shop

    shutil.rmtree(folder, ignore_errors=True)
    generate_shop(ShopSpec(n_customers=customers, start=START, days=DAYS), folder)
    with duckdb.connect() as con:
        return con.sql(f"SELECT count(*) FROM read_parquet('{folder}/transactions.parquet')").fetchall()[0][0]


def load_raw(folder: Path, warehouse: Path) -> int:
    from segmentation_pipeline.domain.contract import TABLES
    from segmentation_pipeline.sources.files import FilesSource
    from segmentation_pipeline.warehouse import Window, load_raw_window

    window = Window(START, START + timedelta(days=DAYS))
    with duckdb.connect(str(warehouse)) as con:
        return sum(load_raw_window(con, FilesSource(folder), TABLES[name], window) for name in ORDER)


def stage(warehouse: Path) -> int:
    from segmentation_pipeline.domain.contract import TABLES
    from segmentation_pipeline.warehouse import Window, stage_window

    window = Window(START, START + timedelta(days=DAYS))
    with duckdb.connect(str(warehouse)) as con:
        return sum(stage_window(con, TABLES[name], window).raw for name in ORDER)


def snapshot_last_day(warehouse: Path) -> int:
    """The customer snapshot of the window's last day, with the pipeline's snapshot SQL."""
    from segmentation_pipeline.domain.contract import ATTRIBUTION_DAYS
    from segmentation_pipeline.sql import catalog, query
    from segmentation_pipeline.warehouse import Window, replace_days

    last = START + timedelta(days=DAYS - 1)
    with duckdb.connect(str(warehouse)) as con:
        return replace_days(
            con,
            catalog.SNAPSHOT,
            Window(last, last + timedelta(days=1)),
            query("segments/customer_snapshot"),
            {"attribution_days": ATTRIBUTION_DAYS},
        )


def segment_last_day(warehouse: Path) -> int:
    """Fit the segment model on the last day's customers and assign every one of them."""
    from segmentation_pipeline.domain.segments.refit import INPUT_COLUMNS, SegmentationSettings, refit
    from segmentation_pipeline.sql import catalog

    with duckdb.connect(str(warehouse), read_only=True) as con:
        snapshot = con.sql(f"SELECT {', '.join(INPUT_COLUMNS)} FROM {catalog.SNAPSHOT} ORDER BY customer_id").df()
    fitted = refit(snapshot, START + timedelta(days=DAYS - 1), None, SegmentationSettings())
    return len(fitted.assign(snapshot))


# Stages run after generate, raw load and staging in some scenarios.
FOLLOW_UP_STAGES: dict[str, list[tuple[str, Callable[[Path], int]]]] = {
    "1m_segments": [("snapshot", snapshot_last_day), ("segmentation", segment_last_day)],
}


def write_reports(figures: list[StageFigures], out_dir: Path, serving: LatencyFigures | None = None) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    machine = {"python": platform.python_version(), "cpus": multiprocessing.cpu_count(), "duckdb": duckdb.__version__}
    rows = [asdict(f) | {"rows_per_second": round(f.rows_per_second)} for f in figures]
    report = {"machine": machine, "stages": rows} | ({"serving": asdict(serving)} if serving else {})
    (out_dir / "benchmark.json").write_text(json.dumps(report, indent=2))
    lines = [
        "| scenario | stage | rows | seconds | peak RSS MiB | rows/s |",
        "|---|---|---:|---:|---:|---:|",
        *(
            f"| {f.scenario} | {f.stage} | {f.rows:,} | {f.seconds:.1f} | {f.peak_rss_mib:.0f} | "
            f"{f.rows_per_second:,.0f} |"
            for f in figures
        ),
    ]
    if serving:
        lines += [
            "",
            "| scoring API | requests | rate/s | p50 ms | p95 ms | p99 ms | max ms | errors | server CPU ms/request |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            (
                f"| 5-line orders | {serving.requests:,} | {serving.rate:.0f} | {serving.p50_ms:.1f} | "
                f"{serving.p95_ms:.1f} | {serving.p99_ms:.1f} | {serving.max_ms:.1f} | {serving.errors} | "
                f"{serving.server_cpu_ms_per_request:.1f} |"
            ),
        ]
    (out_dir / "benchmark.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--scenario", action="append", choices=sorted([*SCENARIOS, SERVING]), help="default: all but serving"
    )
    args = parser.parse_args(argv)
    bench_dir = SETTINGS.data_dir / "bench"
    figures = []
    scenarios = args.scenario or list(SCENARIOS)
    serving = None
    if SERVING in scenarios:
        serving = run_load_test(SETTINGS.return_models_dir, SETTINGS.serving_dir, seconds=SERVING_SECONDS)
        print(f"serving: {serving}")
    for scenario in (s for s in scenarios if s != SERVING):
        folder = bench_dir / f"shop_{scenario}"
        warehouse = bench_dir / f"{scenario}.duckdb"
        warehouse.unlink(missing_ok=True)
        figures.append(measure(scenario, "generate", partial(generate, folder, SCENARIOS[scenario])))
        figures.append(measure(scenario, "raw load", partial(load_raw, folder, warehouse)))
        figures.append(measure(scenario, "staging", partial(stage, warehouse)))
        for name, work in FOLLOW_UP_STAGES.get(scenario, []):
            figures.append(measure(scenario, name, partial(work, warehouse)))
    write_reports(figures, SETTINGS.reports_dir, serving)
    print(f"Figures written to {SETTINGS.reports_dir / 'benchmark.json'} and benchmark.md")


if __name__ == "__main__":
    main()
