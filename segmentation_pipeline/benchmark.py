"""Benchmark: how long the pipeline takes, how much memory and disk it uses, against a notebook.

    python -m segmentation_pipeline.benchmark [--scenario NAME] ...

Scenarios (default: pipeline, pipeline_4y, online_retail, 10m, clv_1m, recommend_1m):

- ``pipeline``: the default shop (60,000 customers, two years) read as exported files: a first
  run up to three days before the end, then the nightly refresh of each of the last three days
  (its median reported), each the whole job (every asset and check) in its own process, as
  `make run` runs it; the warehouse's size and rows per staged order line after.
- ``pipeline_4y``: the same with twice the history (four years, 90,000 customers, twice the
  order lines), for the refresh's growth with history.
- ``online_retail``: the whole pipeline on the UCI Online Retail file against the pandas +
  scikit-learn notebook ``../shared/bench/peer_notebook.py`` on the same file, run before and
  after it; the ratio of wall times.
- ``10m``: a 10-million-line shop generated, loaded and staged, each stage in its own process,
  with peak memory.
- ``clv_1m``: lifetime value for a million simulated customers (BG/NBD purchases, Gamma-Gamma
  spends, first purchases spread over two years, times in whole days, counted in weeks): fitting
  BG/NBD, Pareto/NBD and Gamma-Gamma with their standard errors, then valuing every customer.
- ``recommend_1m``: product recommendations for a million simulated customers (2,000 products in 40
  styles, each customer buying about a dozen, mostly from two favourite styles): item-to-item
  weights fitted on their baskets, then every customer's 20 candidates and the reasons of their
  top 10.
- ``1m_segments`` (when asked): a million-customer shop, its last day's history and segments.
- ``serving`` (when asked): the scoring API at a steady 100 requests per second, on the model and
  scoring state of the settings, then overloaded at five times the rate it sustains for
  ``--soak`` seconds (default 60): how many orders it refuses with 503 and the latency of those
  it accepts.

Figures go to data/reports/benchmark.json and benchmark.md, and with the date and machine to
docs/benchmark-results.md.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import duckdb

from segmentation_pipeline.settings import PROJECT_ROOT, SETTINGS

SHOPS = {"default": 60_000, "10m": 620_000, "1m_segments": 1_000_000}
"""Customers of each generated shop; generated lines per customer are about 16."""
START = date(2024, 1, 1)
PIPELINES = {"pipeline": (60_000, date(2024, 1, 1)), "pipeline_4y": (90_000, date(2022, 1, 1))}
"""Customers and first day of the shops read as files; both end on 2025-12-31."""
END = date(2026, 1, 1)
REFRESH_NIGHTS = 3
"""Nightly refreshes measured after the first run; the median is reported (one run is noisy)."""
NOTEBOOK = PROJECT_ROOT.parent / "shared" / "bench" / "peer_notebook.py"
ONLINE_RETAIL = PROJECT_ROOT.parent / "shared" / "data" / "online_retail.csv.gz"
DEFAULT_SCENARIOS = ["pipeline", "pipeline_4y", "online_retail", "10m", "clv_1m", "recommend_1m"]
ALL_SCENARIOS = [*DEFAULT_SCENARIOS, "1m_segments", "serving"]
ORDER = ["customers", "transactions", "returns", "campaign_exposures", "service_interactions"]


@dataclass(frozen=True)
class Figure:
    scenario: str
    stage: str
    seconds: float
    peak_rss_mib: float
    rows: int | None = None
    note: str = ""


def record(figures: list[Figure], figure: Figure) -> Figure:
    figures.append(figure)
    rows = f"{figure.rows:>12,} rows" if figure.rows is not None else " " * 17
    print(
        f"{figure.scenario:>14} {figure.stage:<28} {rows} {figure.seconds:8.1f} s {figure.peak_rss_mib:7.0f} MiB "
        f"{figure.note}",
        flush=True,
    )
    return figure


def in_process(work: Callable[[], int]) -> tuple[int, float, float]:
    """Run `work` (which returns the rows it handled) in a fresh process: rows, seconds, peak RSS MiB."""
    queue: multiprocessing.Queue = multiprocessing.get_context("fork").Queue()

    def child() -> None:
        started = time.perf_counter()
        rows = work()
        queue.put((rows, time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    result = queue.get()
    process.join()
    return result


def command(args: list[str], env: dict[str, str], log: Path) -> tuple[float, float]:
    """Run a command in its own process: wall seconds and its peak RSS MiB."""
    started = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(args)} failed; see {log}")
    return seconds, usage.ru_maxrss / 1024


# --------------------------------------------------------------------------- the pipeline as `make run` runs it


def pipeline_env(folder: Path, **settings: str) -> dict[str, str]:
    """The environment of a pipeline run with its own data folder and Dagster instance."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEGMENTATION_")}
    env |= {"SEGMENTATION_DATA_DIR": str(folder / "data"), "DAGSTER_HOME": str(folder / "dagster_home")}
    env |= {f"SEGMENTATION_{k.upper()}": v for k, v in settings.items()}
    return env


def run_pipeline(env: dict[str, str], log: Path, *args: str) -> tuple[float, float, float]:
    """`python -m segmentation_pipeline.run` in its own process: wall seconds, peak RSS MiB and the seconds
    of the Dagster run itself (from its start to its end, as the instance recorded them)."""
    import dagster as dg

    runner = [sys.executable, "-m", "segmentation_pipeline.run"]
    subprocess.run([*runner, "--write-instance-config"], env=env, check=True, capture_output=True)
    wall, peak = command([*runner, *args], env, log)
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        [latest] = instance.get_runs(limit=1)
        stats = instance.get_run_stats(latest.run_id)
    return wall, peak, stats.end_time - stats.start_time


def warehouse_figures(path: Path) -> dict[str, float]:
    """Size of the warehouse file and rows of the tables outside raw and staging per staged order line."""
    with duckdb.connect(str(path)) as con:
        con.execute("CHECKPOINT").fetchall()
        tables = con.sql(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name NOT IN ('raw', 'staging')"
        ).fetchall()
        derived = sum(con.sql(f"SELECT count(*) FROM {s}.{t}").fetchall()[0][0] for s, t in tables)
        lines = con.sql("SELECT count(*) FROM staging.transactions").fetchall()[0][0]
    return {
        "warehouse_mb": round(path.stat().st_size / 1e6, 1),
        "derived_rows": derived,
        "staged_order_lines": lines,
        "derived_rows_per_line": round(derived / lines, 2),
    }


def prepare_shop(source) -> int:
    """Generate a shop; its order lines."""
    source.prepare()
    with duckdb.connect() as con:
        return con.sql(f"SELECT count(*) FROM read_parquet('{source.folder}/transactions.parquet')").fetchall()[0][0]


def pipeline(scenario: str, bench: Path, figures: list[Figure]) -> dict:
    """First run to the day before the last, then the nightly refresh of the last day."""
    from segmentation_pipeline.sources.synthetic import SyntheticSource

    customers, first_day = PIPELINES[scenario]
    folder = bench / scenario
    shutil.rmtree(folder, ignore_errors=True)
    shop = folder / "shop"
    source = SyntheticSource(shop, customers, 42, first_day, (END - first_day).days)
    rows, seconds, peak = in_process(partial(prepare_shop, source))
    record(figures, Figure(scenario, "generate the shop", round(seconds, 1), round(peak), rows))
    exports, last = folder / "exports", END - timedelta(days=1)
    nights = [last - timedelta(days=n) for n in reversed(range(REFRESH_NIGHTS))]
    env = pipeline_env(folder, source="files", source_path=str(exports), start_date=str(first_day), end_date=str(END))
    source.export(exports, nights[0] - timedelta(days=1))
    wall, peak, run = run_pipeline(env, folder / "first_run.log")
    record(
        figures, Figure(scenario, "first run (all days but 3)", round(wall, 1), round(peak), note=f"run {run:.1f} s")
    )
    refreshes = []
    for night in nights:  # each night's export holds one more day; the run is the schedule's for that day
        source.export(exports, night)
        refreshes.append(run_pipeline(env, folder / f"refresh_{night}.log", "--day", str(night)))
    runs = sorted(run for _, _, run in refreshes)
    median = runs[len(runs) // 2]
    nightly = ", ".join(f"{run:.1f}" for _, _, run in refreshes)
    peak = max(peak for _, peak, _ in refreshes)
    record(
        figures,
        Figure(scenario, "daily refresh (median of 3 nights)", round(median, 1), round(peak), note=f"runs {nightly} s"),
    )
    size = warehouse_figures(folder / "data" / "warehouse" / "files.duckdb")
    print(f"{scenario:>14} warehouse {size}", flush=True)
    return {"refresh_run_seconds": round(median, 2), **size}


def online_retail(bench: Path, figures: list[Figure]) -> dict:
    """The whole pipeline on Online Retail between two runs of the peer notebook on the same file."""
    if not ONLINE_RETAIL.exists() or not NOTEBOOK.exists():
        print(f"online_retail: skipped, {ONLINE_RETAIL} or {NOTEBOOK} not present")
        return {}
    folder = bench / "online_retail"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    notebook = [sys.executable, str(NOTEBOOK), str(ONLINE_RETAIL)]
    before, peak = command(notebook, dict(os.environ), folder / "notebook_before.log")
    record(figures, Figure("online_retail", "notebook (before)", round(before, 1), round(peak)))
    env = pipeline_env(folder, source="online_retail", source_path=str(ONLINE_RETAIL))
    wall, peak, run = run_pipeline(env, folder / "pipeline.log")
    record(
        figures,
        Figure(
            "online_retail", "pipeline, every asset and check", round(wall, 1), round(peak), note=f"run {run:.1f} s"
        ),
    )
    after, peak = command(notebook, dict(os.environ), folder / "notebook_after.log")
    record(figures, Figure("online_retail", "notebook (after)", round(after, 1), round(peak)))
    ratio = wall / ((before + after) / 2)
    print(f"online_retail: pipeline / notebook = {ratio:.2f}", flush=True)
    return {
        "pipeline_seconds": round(wall, 1),
        "notebook_seconds": [round(before, 1), round(after, 1)],
        "ratio": round(ratio, 2),
    }


# --------------------------------------------------------------------------- stages of large generated shops


def generate(folder: Path, customers: int) -> int:
    from segmentation_pipeline.sources.synthetic_shop import ShopSpec, generate_shop

    shutil.rmtree(folder, ignore_errors=True)
    generate_shop(ShopSpec(n_customers=customers, start=START, days=(END - START).days), folder)
    with duckdb.connect() as con:
        return con.sql(f"SELECT count(*) FROM read_parquet('{folder}/transactions.parquet')").fetchall()[0][0]


def duckdb_config(warehouse: Path) -> dict[str, str]:
    """The pipeline's DuckDB settings, spilling beside the benchmark's warehouse."""
    return {**SETTINGS.duckdb_config, "temp_directory": str(warehouse.parent / "duckdb_tmp")}


def load_raw(folder: Path, warehouse: Path) -> int:
    from segmentation_pipeline.domain.contract import TABLES
    from segmentation_pipeline.sources.files import FilesSource
    from segmentation_pipeline.warehouse import Window, connect, load_raw_window

    with connect(warehouse, duckdb_config(warehouse)) as con:
        return sum(load_raw_window(con, FilesSource(folder), TABLES[name], Window(START, END)) for name in ORDER)


def stage(warehouse: Path) -> int:
    from segmentation_pipeline.domain.contract import TABLES
    from segmentation_pipeline.warehouse import Window, connect, stage_window

    with connect(warehouse, duckdb_config(warehouse)) as con:
        return sum(stage_window(con, TABLES[name], Window(START, END)).raw for name in ORDER)


def history_last_day(warehouse: Path) -> int:
    """The customer history of the whole window, with the pipeline's SQL; the last day's snapshot rows."""
    from segmentation_pipeline.domain.contract import ATTRIBUTION_DAYS
    from segmentation_pipeline.sql import catalog, query
    from segmentation_pipeline.warehouse import Window, connect, replace_days

    with connect(warehouse, duckdb_config(warehouse)) as con:
        history = query("segments/customer_history")
        replace_days(con, catalog.CUSTOMER_HISTORY, Window(START, END), history, {"attribution_days": ATTRIBUTION_DAYS})
        return con.execute("SELECT count(*) FROM snapshot_on($day)", {"day": END - timedelta(days=1)}).fetchall()[0][0]


def segment_last_day(warehouse: Path) -> int:
    """Fit the segment model on the last day's customers and assign every one of them."""
    from segmentation_pipeline.domain.segments.refit import INPUT_COLUMNS, SegmentationSettings, refit
    from segmentation_pipeline.warehouse import connect

    last = END - timedelta(days=1)
    with connect(warehouse, duckdb_config(warehouse)) as con:
        columns = ", ".join(INPUT_COLUMNS)
        snapshot = con.execute(f"SELECT {columns} FROM snapshot_on($day) ORDER BY customer_id", {"day": last}).df()
    fitted = refit(snapshot, last, None, SegmentationSettings())
    return len(fitted.assign(snapshot))


def large_shop(scenario: str, bench: Path, figures: list[Figure]) -> None:
    folder, warehouse = bench / f"shop_{scenario}", bench / f"{scenario}.duckdb"
    warehouse.unlink(missing_ok=True)
    stages = [
        ("generate", partial(generate, folder, SHOPS[scenario])),
        ("raw load", partial(load_raw, folder, warehouse)),
        ("staging", partial(stage, warehouse)),
    ]
    if scenario == "1m_segments":
        stages += [
            ("history", partial(history_last_day, warehouse)),
            ("segmentation", partial(segment_last_day, warehouse)),
        ]
    for name, work in stages:
        rows, seconds, peak = in_process(work)
        record(figures, Figure(scenario, name, round(seconds, 1), round(peak), rows))


CLV_CUSTOMERS = 1_000_000
CLV_TRUTH = {"bg_nbd": (0.25, 4.0, 0.8, 2.5), "gamma_gamma": (6.0, 4.0, 15.0)}
"""Parameters the million customers are simulated from (weekly rates)."""


def simulated_customers(path: Path) -> int:
    """A million customers simulated from BG/NBD and Gamma-Gamma, saved to ``path`` (npz)."""
    import numpy as np

    from segmentation_pipeline.domain.clv import bgnbd, gamma_gamma

    rng = np.random.default_rng(0)
    first_day = rng.integers(0, 728, CLV_CUSTOMERS)
    T = (728 - first_day) / 7
    x, t_x, _ = bgnbd.simulate(CLV_TRUTH["bg_nbd"], T, 0.0, seed=1)
    t_x = np.minimum(np.round(t_x * 7) / 7, T)
    m = np.where(x > 0, gamma_gamma.simulate(CLV_TRUTH["gamma_gamma"], np.maximum(x, 1), seed=2), np.nan)
    np.savez(path, x=x, t_x=t_x, T=T, m=m)
    return CLV_CUSTOMERS


def fit_lifetime_value(path: Path, timings: Path) -> int:
    """Fit the three models on the simulated customers; each fit's seconds go to ``timings`` (JSON)."""
    import numpy as np

    from segmentation_pipeline.domain.clv.fitting import fit_purchases, fit_spend

    data = np.load(path)
    x, t_x, T, m = (data[k] for k in ("x", "t_x", "T", "m"))
    seconds = {}
    for name, fit in (
        ("bg_nbd", lambda: fit_purchases("bg_nbd", x, t_x, T)),
        ("pareto_nbd", lambda: fit_purchases("pareto_nbd", x, t_x, T)),
        ("gamma_gamma", lambda: fit_spend(x, m)),
    ):
        started = time.perf_counter()
        fitted = fit()
        seconds[name] = round(time.perf_counter() - started, 2)
        seconds[f"{name} estimates"] = {k: round(v, 3) for k, v in fitted.params.items()}
    timings.write_text(json.dumps(seconds))
    return len(x)


def value_customers(path: Path) -> int:
    """Value every simulated customer with the true parameters: P(alive), expected purchases, CLV, net CLV."""
    import numpy as np
    import pandas as pd

    from segmentation_pipeline.domain.clv import bgnbd
    from segmentation_pipeline.domain.clv.settings import ClvSettings
    from segmentation_pipeline.domain.clv.value import customer_values

    data = np.load(path)
    customers = pd.DataFrame({k: data[k] for k in ("x", "t_x", "T", "m")})
    rate = np.full(len(customers), 0.2)
    settings = ClvSettings()
    values = customer_values(bgnbd, CLV_TRUTH["bg_nbd"], CLV_TRUTH["gamma_gamma"], customers, rate, settings)
    return len(values)


def lifetime_value(bench: Path, figures: list[Figure]) -> dict:
    customers, timings = bench / "clv_1m.npz", bench / "clv_1m_timings.json"
    rows, seconds, peak = in_process(partial(simulated_customers, customers))
    record(figures, Figure("clv_1m", "simulate customers", round(seconds, 1), round(peak), rows))
    rows, seconds, peak = in_process(partial(fit_lifetime_value, customers, timings))
    fits = json.loads(timings.read_text())
    note = ", ".join(f"{name} {fits[name]} s" for name in ("bg_nbd", "pareto_nbd", "gamma_gamma"))
    record(figures, Figure("clv_1m", "fit the three models", round(seconds, 1), round(peak), rows, note=note))
    rows, seconds, peak = in_process(partial(value_customers, customers))
    record(figures, Figure("clv_1m", "value every customer", round(seconds, 1), round(peak), rows))
    return {"fit_seconds": sum(fits[name] for name in ("bg_nbd", "pareto_nbd", "gamma_gamma")), "target_seconds": 10}


RECOMMEND_CUSTOMERS, RECOMMEND_PRODUCTS, RECOMMEND_STYLES = 1_000_000, 2_000, 40
RECOMMEND_TARGET_SECONDS = 120
"""Fitting and scoring a million customers' candidates must fit in this budget."""


def simulated_baskets(path: Path) -> int:
    """A million customers' purchases (customer, product, bought recently or not), saved to ``path`` (npz)."""
    import numpy as np

    rng = np.random.default_rng(0)
    style = rng.integers(RECOMMEND_STYLES, size=RECOMMEND_PRODUCTS)
    popularity = np.exp(rng.normal(0.0, 1.2, RECOMMEND_PRODUCTS))
    by_style = [np.flatnonzero(style == s) for s in range(RECOMMEND_STYLES)]
    bought = 1 + rng.poisson(11, RECOMMEND_CUSTOMERS)
    customer = np.repeat(np.arange(RECOMMEND_CUSTOMERS), bought)
    favourite = rng.integers(RECOMMEND_STYLES, size=(RECOMMEND_CUSTOMERS, 2))[
        customer, rng.integers(2, size=customer.size)
    ]
    product = rng.choice(RECOMMEND_PRODUCTS, customer.size, p=popularity / popularity.sum())
    loyal = rng.random(customer.size) < 0.5
    for s, members in enumerate(by_style):
        lines = np.flatnonzero(loyal & (favourite == s))
        weights = popularity[members] / popularity[members].sum()
        product[lines] = rng.choice(members, lines.size, p=weights)
    np.savez(path, customer=customer, product=product, recent=rng.random(customer.size) < 0.1)
    return int(customer.size)


def recommend_everyone(path: Path) -> int:
    """Fit the item-to-item weights on the simulated baskets, then every customer's candidates and reasons."""
    import numpy as np
    import pandas as pd

    from segmentation_pipeline.domain.recommend.candidates import (
        Baskets,
        because_you_bought,
        fit_item_model,
        score_customers,
    )
    from segmentation_pipeline.domain.recommend.settings import RecommendSettings

    data = np.load(path)
    purchases = pd.DataFrame(
        {"customer_id": data["customer"], "product_id": data["product"], "recent": data["recent"]}
    ).drop_duplicates(["customer_id", "product_id"])
    segments = pd.DataFrame({"customer_id": np.arange(RECOMMEND_CUSTOMERS), "segment": "all"})
    settings = RecommendSettings()
    baskets = Baskets.of(purchases, segments)
    model = fit_item_model(baskets, l2=200.0, mix=1.0)
    candidates = score_customers(model, baskets, settings.candidates, settings.chunk_customers)
    rows = np.repeat(np.arange(len(baskets.customers)), settings.top_n)
    top = candidates.products[:, : settings.top_n].ravel()
    because_you_bought(model, baskets, rows[top >= 0], top[top >= 0])
    return len(baskets.customers)


def recommendations(bench: Path, figures: list[Figure]) -> dict:
    baskets = bench / "recommend_1m.npz"
    rows, seconds, peak = in_process(partial(simulated_baskets, baskets))
    record(figures, Figure("recommend_1m", "simulate baskets", round(seconds, 1), round(peak), rows))
    rows, seconds, peak = in_process(partial(recommend_everyone, baskets))
    note = f"{RECOMMEND_PRODUCTS:,} products; 20 candidates per customer, reasons of the top 10"
    record(figures, Figure("recommend_1m", "fit and score every customer", round(seconds, 1), round(peak), rows, note))
    return {"seconds": round(seconds, 1), "target_seconds": RECOMMEND_TARGET_SECONDS}


# --------------------------------------------------------------------------- reports


def machine() -> dict:
    memory = next(
        (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), "0"
    )
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {multiprocessing.cpu_count()} cores, {int(memory) / 2**20:.0f} GiB",
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "load average at the start": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def markdown(figures: list[Figure], summary: dict, about: dict) -> str:
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`segmentation_pipeline/benchmark.py`); do not edit by hand.",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in about.items()]
    lines += ["", "| scenario | stage | rows | seconds | peak RSS MiB | note |", "|---|---|---:|---:|---:|---|"]
    lines += [
        f"| {f.scenario} | {f.stage} | {'' if f.rows is None else f'{f.rows:,}'} | {f.seconds:.1f} | "
        f"{f.peak_rss_mib:,.0f} | {f.note} |"
        for f in figures
    ]
    for name, values in summary.items():
        lines += ["", f"**{name}**: " + ", ".join(f"{k} {v}" for k, v in values.items())]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--scenario", action="append", choices=ALL_SCENARIOS, help="default: " + ", ".join(DEFAULT_SCENARIOS)
    )
    parser.add_argument(
        "--soak", type=float, default=60.0, metavar="SECONDS", help="serving: length of the overload run (default 60)"
    )
    args = parser.parse_args(argv)
    about, figures, summary = machine(), [], {}
    bench = SETTINGS.data_dir / "bench"
    bench.mkdir(parents=True, exist_ok=True)
    for scenario in args.scenario or DEFAULT_SCENARIOS:
        if scenario in PIPELINES:
            summary[scenario] = pipeline(scenario, bench, figures)
        elif scenario == "online_retail":
            summary[scenario] = online_retail(bench, figures)
        elif scenario == "clv_1m":
            summary[scenario] = lifetime_value(bench, figures)
        elif scenario == "recommend_1m":
            summary[scenario] = recommendations(bench, figures)
        elif scenario == "serving":
            from segmentation_pipeline.serving.load_test import OVERLOAD_RATE, run_load_test

            served = SETTINGS.return_models_dir, SETTINGS.serving_dir
            summary[scenario] = asdict(run_load_test(*served, seconds=60))
            overload = run_load_test(*served, seconds=args.soak, rate=OVERLOAD_RATE, clients=128)
            summary["serving_overload"] = asdict(overload)
        else:
            large_shop(scenario, bench, figures)
    if {"pipeline", "pipeline_4y"} <= summary.keys():
        growth = summary["pipeline_4y"]["refresh_run_seconds"] / summary["pipeline"]["refresh_run_seconds"]
        summary["refresh with twice the history"] = {"ratio": round(growth, 2)}
    report = {**about, "figures": [asdict(f) for f in figures], "summary": summary}
    SETTINGS.reports_dir.mkdir(parents=True, exist_ok=True)
    (SETTINGS.reports_dir / "benchmark.json").write_text(json.dumps(report, indent=2, default=str))
    text = markdown(figures, summary, about)
    (SETTINGS.reports_dir / "benchmark.md").write_text(text)
    (PROJECT_ROOT / "docs" / "benchmark-results.md").write_text(text)
    print(f"Figures written to {SETTINGS.reports_dir / 'benchmark.md'} and docs/benchmark-results.md")


if __name__ == "__main__":
    main()
