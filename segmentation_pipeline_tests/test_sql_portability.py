"""The warehouse SQL keeps to constructs sqlglot transpiles from DuckDB to Spark SQL, so the same models
can run on Spark when a shop outgrows one machine."""

from pathlib import Path

import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from segmentation_pipeline.domain.contract import TABLES
from segmentation_pipeline.sql import SQL_DIR
from segmentation_pipeline.sql.staging import (
    create_tables_sql,
    load_raw_sql,
    source_days_sql,
    stage_sql,
    table_counts_sql,
    unbalanced_days_sql,
    unplaced_counts_sql,
    unplaced_rows_sql,
)

FILES = sorted(SQL_DIR.rglob("*.sql"))
RENDERED = {
    "create_tables": create_tables_sql(),
    **{f"stage_{name}": stage_sql(table) for name, table in TABLES.items()},
    **{f"load_raw_{name}": load_raw_sql(table, "SELECT 1") for name, table in TABLES.items()},
    **{f"unbalanced_days_{name}": unbalanced_days_sql(table) for name, table in TABLES.items()},
    **{f"table_counts_{name}": table_counts_sql(table) for name, table in TABLES.items()},
    **{f"source_days_{name}": source_days_sql(table, "SELECT 1") for name, table in TABLES.items()},
    **{f"unplaced_{t.name}": unplaced_rows_sql(t, "SELECT 1") for t in TABLES.values() if t.event_ts},
    **{f"unplaced_counts_{t.name}": unplaced_counts_sql(t, "SELECT 1") for t in TABLES.values() if t.event_ts},
}


def to_spark(text: str) -> list[str]:
    return sqlglot.transpile(text, read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SQL_DIR)))
def test_every_sql_file_transpiles_to_spark(path: Path):
    assert to_spark(path.read_text())


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_sql_rendered_from_the_contract_transpiles_to_spark(name: str):
    assert to_spark(RENDERED[name])


def test_the_check_fails_on_sql_spark_cannot_take():
    with pytest.raises(sqlglot.errors.ParseError):
        to_spark("SELECT * FROM t WHERE")
