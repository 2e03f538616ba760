"""The warehouse's DuckDB SQL: one file per query under this folder, read by `query`.

Table names live in `catalog.py`; SQL rendered from the contract (raw, staging and
quarantine) is built in `staging.py`.
"""

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent


@cache
def query(name: str) -> str:
    """The text of `sql/<name>.sql`, e.g. `query("segments/customer_snapshot")`."""
    path = SQL_DIR / f"{name}.sql"
    if not path.exists():
        raise FileNotFoundError(f"no SQL file {path}")
    return path.read_text()
