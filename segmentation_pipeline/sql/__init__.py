"""DuckDB SQL for the warehouse."""

from pathlib import Path

SNAPSHOT_SQL = (Path(__file__).resolve().parent / "customer_snapshot.sql").read_text()
"""Customer snapshots for the days in [$start, $end) (see the file's header)."""
SNAPSHOT_TABLE = "features.customer_snapshot"
