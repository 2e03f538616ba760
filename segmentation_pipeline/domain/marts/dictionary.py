"""The data dictionary of the marts (`docs/data-dictionary.md`), written from the column descriptions.

Regenerate it after changing a mart's columns: `python -m segmentation_pipeline.domain.marts.dictionary`.
"""

from __future__ import annotations

from pathlib import Path

from segmentation_pipeline.domain.marts.columns import (
    AUDIENCE_COLUMNS,
    MART_COLUMNS,
    MART_PURPOSES,
    UPLIFT_AUDIENCE_COLUMNS,
    Column,
)
from segmentation_pipeline.settings import PROJECT_ROOT

DICTIONARY_PATH = PROJECT_ROOT / "docs" / "data-dictionary.md"
HEADER = """# Data dictionary

The tables of the `marts` schema of the DuckDB warehouse, each also exported as
`data/exports/marts/<table>.parquet`, and the audience CSVs under `data/exports/audiences/`.
What each is for, and how to connect BI tools: [marts.md](marts.md). Written by
`python -m segmentation_pipeline.domain.marts.dictionary` from `segmentation_pipeline/domain/marts/columns.py`;
do not edit by hand.
"""


def columns_table(columns: dict[str, Column]) -> str:
    rows = [f"| `{name}` | {column.type} | {column.description} |" for name, column in columns.items()]
    return "\n".join(["| column | type | description |", "|---|---|---|", *rows])


def data_dictionary() -> str:
    """The data dictionary as markdown: every mart table with its purpose and columns, then the audience CSVs."""
    sections = [HEADER]
    for table, columns in MART_COLUMNS.items():
        sections.append(f"## `{table}`\n\n{MART_PURPOSES[table]}\n\n{columns_table(columns)}\n")
    sections.append(
        "## Audience CSVs\n\n"
        "`audiences/segment/<segment>.csv` and `audiences/churn_band/<band>.csv`: one row per customer.\n\n"
        f"{columns_table(AUDIENCE_COLUMNS)}\n\n"
        "`audiences/uplift_decile/<campaign_id>_d<NN>.csv`: the same, with the campaign's uplift.\n\n"
        f"{columns_table({k: v for k, v in UPLIFT_AUDIENCE_COLUMNS.items() if k not in AUDIENCE_COLUMNS})}\n"
    )
    return "\n".join(sections)


def write_dictionary(path: Path = DICTIONARY_PATH) -> Path:
    path.write_text(data_dictionary())
    return path


if __name__ == "__main__":
    print(f"wrote {write_dictionary()}")
