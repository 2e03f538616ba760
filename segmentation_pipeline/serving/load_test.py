"""Latency of the scoring API under a steady load, as a shop's checkout would call it.

``run_load_test`` starts the service in its own process against a registry and a scoring
state, then sends 5-line orders on a fixed schedule (open loop: request i leaves at
``i / rate`` seconds whatever happened to the earlier ones) from a pool of client threads,
and measures each latency from the moment the request was due, so a slow answer that
delays later sends counts against the service instead of hiding. Sent faster than the
service can score, it shows the overload behaviour: orders refused with 503 (shed) and the
latency of those accepted.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from segmentation_pipeline.serving.state import current_state

OVERLOAD_RATE = 750.0
"""Orders per second of the overload run: five times the 150 per second that two workers served at
their normal latency on the shared 2-core machine the waiting limit was sized on."""


@dataclass(frozen=True)
class Service:
    """A running scoring service: where it listens and the key it wants."""

    host: str
    port: int
    api_key: str
    pid: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants (Linux /proc)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
        found.append(current)
    return found


def process_tree_rss_mib(pid: int) -> float:
    """Resident memory in MiB of a process and all its descendants (Linux /proc)."""
    total_kib = 0
    for current in process_tree(pid):
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except FileNotFoundError:
            continue
        total_kib += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return round(total_kib / 1024, 1)


def process_tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and all its descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for current in process_tree(pid):
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


@contextmanager
def start_service(models_dir: Path, serving_dir: Path, startup_seconds: float = 60.0) -> Iterator[Service]:
    """Run ``python -m segmentation_pipeline.serving`` on a free local port until the block ends.

    Waits until ``/healthz`` answers; stops the process afterwards.
    """
    host, port, api_key = "127.0.0.1", free_port(), secrets.token_hex(16)
    env = os.environ | {
        "SEGMENTATION_RETURN_MODELS_DIR": str(models_dir),
        "SEGMENTATION_SERVING_DIR": str(serving_dir),
        "SEGMENTATION_API_KEY": api_key,
        "SEGMENTATION_SERVING_HOST": host,
        "SEGMENTATION_SERVING_PORT": str(port),
    }
    process = subprocess.Popen([sys.executable, "-m", "segmentation_pipeline.serving"], env=env)
    service = Service(host, port, api_key, process.pid)
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the scoring service exited with code {process.returncode} while starting")
            try:
                connection = http.client.HTTPConnection(service.host, service.port, timeout=5)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the scoring service did not answer within {startup_seconds} s") from None
                time.sleep(0.1)
        yield service
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class LatencyFigures:
    """Latency percentiles in milliseconds of the requests answered 200 of ``requests`` sent at
    ``rate`` per second.

    ``shed`` requests were refused with 503 and Retry-After because too many orders were
    waiting; ``errors`` failed in any other way. ``served_per_second`` is the rate of 200
    answers. ``server_cpu_ms_per_request`` is the CPU the service's processes used during the
    run per request: what the service costs whatever else the machine is doing.
    ``server_rss_mib_start`` and ``server_rss_mib_end`` are its processes' resident memory when
    the timed requests began and when they ended: flat when nothing accumulates.
    """

    requests: int
    rate: float
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    shed: int
    served_per_second: float
    server_cpu_ms_per_request: float
    server_rss_mib_start: float
    server_rss_mib_end: float


def sample_orders(serving_dir: Path, count: int, lines: int = 5, seed: int = 0) -> list[bytes]:
    """Request bodies of ``count`` orders of ``lines`` lines by known customers for known products."""
    rng = np.random.default_rng(seed)
    state = current_state(serving_dir)
    if state is None:
        raise FileNotFoundError(f"no scoring state published in {serving_dir}: materialise return_scoring_state first")
    customers = pd.read_parquet(state / "customers.parquet", columns=["customer_id"])["customer_id"].astype(str)
    products = pd.read_parquet(state / "products.parquet", columns=["product_id", "product_usual_price"])
    prices = products["product_usual_price"].fillna(10.0).to_numpy()
    product_ids = products["product_id"].astype(str).to_numpy()
    bodies = []
    for customer in rng.choice(customers.to_numpy(), size=count):
        picks = rng.integers(0, len(product_ids), size=lines)
        order = {
            "customer_id": customer,
            "channel": "web",
            "lines": [
                {
                    "product_id": product_ids[i],
                    "quantity": int(rng.integers(1, 4)),
                    "unit_price": round(float(prices[i]), 2),
                }
                for i in picks
            ],
        }
        bodies.append(json.dumps(order).encode())
    return bodies


def run_load_test(
    models_dir: Path, serving_dir: Path, seconds: float = 30.0, rate: float = 100.0, clients: int = 16
) -> LatencyFigures:
    """Start the service on ``models_dir`` / ``serving_dir`` and score 5-line orders at ``rate`` per second."""
    count = int(seconds * rate)
    bodies = sample_orders(serving_dir, count)
    latencies = np.full(count, np.nan)
    statuses = np.zeros(count, dtype=int)
    retry_after = np.zeros(count, dtype=bool)
    local = threading.local()
    with start_service(models_dir, serving_dir) as service:
        headers = {"Content-Type": "application/json", "X-API-Key": service.api_key}

        def send(i: int, due: float) -> None:
            if not hasattr(local, "connection"):
                local.connection = http.client.HTTPConnection(service.host, service.port, timeout=30)
            try:
                local.connection.request("POST", "/v1/return-risk", body=bodies[i], headers=headers)
                response = local.connection.getresponse()
                response.read()
                statuses[i] = response.status
                retry_after[i] = response.getheader("Retry-After") is not None
            except OSError:
                local.connection.close()
            latencies[i] = time.perf_counter() - due

        with ThreadPoolExecutor(clients) as pool:
            for i in range(min(50, count)):
                pool.submit(send, i, time.perf_counter()).result()
            latencies[:] = np.nan
            statuses[:] = 0
            retry_after[:] = False
            cpu_before = process_tree_cpu_seconds(service.pid)
            rss_start = process_tree_rss_mib(service.pid)
            start = time.perf_counter() + 0.1
            for i in range(count):
                due = start + i / rate
                time.sleep(max(0.0, due - time.perf_counter()))
                pool.submit(send, i, due)
        elapsed = time.perf_counter() - start
        server_cpu = process_tree_cpu_seconds(service.pid) - cpu_before
        rss_end = process_tree_rss_mib(service.pid)
    served, shed = statuses == 200, (statuses == 503) & retry_after
    milliseconds = latencies[served] * 1000 if served.any() else np.full(1, np.nan)
    return LatencyFigures(
        requests=count,
        rate=rate,
        seconds=seconds,
        p50_ms=round(float(np.percentile(milliseconds, 50)), 2),
        p95_ms=round(float(np.percentile(milliseconds, 95)), 2),
        p99_ms=round(float(np.percentile(milliseconds, 99)), 2),
        max_ms=round(float(milliseconds.max()), 2),
        errors=int((~served & ~shed).sum()),
        shed=int(shed.sum()),
        served_per_second=round(float(served.sum()) / elapsed, 1),
        server_cpu_ms_per_request=round(server_cpu * 1000 / count, 2),
        server_rss_mib_start=rss_start,
        server_rss_mib_end=rss_end,
    )
