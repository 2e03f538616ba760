"""Paths and defaults, resolved from the project root and overridable by environment.

Every setting has a `SEGMENTATION_*` environment variable; nothing here depends on
the working directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

SOURCE_KINDS = ("synthetic", "files", "online_retail")

# The window of event days each source covers by default (end exclusive).
DEFAULT_WINDOWS: dict[str, tuple[str, str | None]] = {
    "synthetic": ("2024-01-01", "2026-01-01"),
    "online_retail": ("2010-12-01", "2011-12-10"),
    "files": ("2024-01-01", None),
}


@dataclass(frozen=True)
class Settings:
    source: str
    source_path: Path
    data_dir: Path
    warehouse_path: Path
    reports_dir: Path
    serving_dir: Path
    exports_dir: Path
    partitions_start: str
    partitions_end: str | None
    synthetic_customers: int
    synthetic_seed: int
    return_models_dir: Path
    segment_models_dir: Path
    duckdb_memory_limit: str
    duckdb_temp_dir: Path
    timezone: str = "UTC"

    @property
    def duckdb_config(self) -> dict[str, str]:
        """DuckDB settings of every warehouse connection: the memory it may hold, and where it spills beyond."""
        return {"memory_limit": self.duckdb_memory_limit, "temp_directory": str(self.duckdb_temp_dir)}


def load_settings(env: Mapping[str, str] = os.environ) -> Settings:
    """Read the settings from an environment mapping (os.environ by default)."""
    source = env.get("SEGMENTATION_SOURCE", "synthetic")
    if source not in SOURCE_KINDS:
        raise ValueError(f"SEGMENTATION_SOURCE={source!r}: expected one of {', '.join(SOURCE_KINDS)}")
    data_dir = Path(env.get("SEGMENTATION_DATA_DIR", PROJECT_ROOT / "data")).resolve()
    customers = int(env.get("SEGMENTATION_SYNTHETIC_CUSTOMERS", 60_000))
    seed = int(env.get("SEGMENTATION_SYNTHETIC_SEED", 42))
    default_start, default_end = DEFAULT_WINDOWS[source]
    start = env.get("SEGMENTATION_START_DATE", default_start)
    end = env.get("SEGMENTATION_END_DATE", default_end) or None
    default_source_path = {
        # everything that shapes the generated shop is in its folder name, so another window is another shop
        "synthetic": data_dir / "sources" / f"synthetic_{customers}_seed{seed}_{start}_{end}",
        "files": data_dir / "samples" / "files",
        "online_retail": PROJECT_ROOT.parent / "shared" / "data" / "online_retail.csv.gz",
    }[source]
    warehouse_path = Path(env.get("SEGMENTATION_WAREHOUSE", data_dir / "warehouse" / f"{source}.duckdb")).resolve()
    return Settings(
        source=source,
        source_path=Path(env.get("SEGMENTATION_SOURCE_PATH", default_source_path)).resolve(),
        data_dir=data_dir,
        warehouse_path=warehouse_path,
        reports_dir=data_dir / "reports",
        serving_dir=Path(env.get("SEGMENTATION_SERVING_DIR", data_dir / "serving")).resolve(),
        exports_dir=data_dir / "exports",
        partitions_start=start,
        partitions_end=end,
        synthetic_customers=customers,
        synthetic_seed=seed,
        return_models_dir=Path(env.get("SEGMENTATION_RETURN_MODELS_DIR", data_dir / "models" / "returns")).resolve(),
        segment_models_dir=Path(
            env.get("SEGMENTATION_SEGMENT_MODELS_DIR", data_dir / "models" / "segments" / warehouse_path.stem)
        ).resolve(),
        # DuckDB's own default is 80% of the machine's memory; 2 GB keeps a run's peak near 3 GB on
        # any machine, and larger sorts and joins spill to the temp folder instead.
        duckdb_memory_limit=env.get("SEGMENTATION_DUCKDB_MEMORY_LIMIT", "2GB"),
        duckdb_temp_dir=Path(env.get("SEGMENTATION_DUCKDB_TEMP_DIR", warehouse_path.parent / "duckdb_tmp")).resolve(),
    )


SETTINGS = load_settings()
