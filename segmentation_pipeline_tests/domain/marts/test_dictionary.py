"""The data dictionary: generated from the column descriptions, committed, and naming every mart of the catalogue."""

import duckdb
import pytest

from segmentation_pipeline.domain.marts.columns import (
    AUDIENCE_COLUMNS,
    MART_COLUMNS,
    MART_PURPOSES,
    UPLIFT_AUDIENCE_COLUMNS,
)
from segmentation_pipeline.domain.marts.dictionary import DICTIONARY_PATH, data_dictionary, write_dictionary
from segmentation_pipeline.sql import catalog

CATALOGUED_MARTS = {value for value in vars(catalog).values() if isinstance(value, str) and value.startswith("marts.")}


def test_the_committed_data_dictionary_is_the_generated_one():
    assert DICTIONARY_PATH.read_text() == data_dictionary(), (
        "docs/data-dictionary.md is out of date: run `python -m segmentation_pipeline.domain.marts.dictionary`"
    )


def test_every_mart_of_the_catalogue_is_described_and_nothing_else():
    assert set(MART_COLUMNS) == set(MART_PURPOSES) == CATALOGUED_MARTS


@pytest.mark.parametrize("table", sorted(MART_COLUMNS))
def test_every_column_is_listed_with_a_duckdb_type_and_a_one_line_description(table):
    text = data_dictionary()
    section = text.split(f"## `{table}`\n", 1)[1].split("\n## ", 1)[0]
    for name, column in MART_COLUMNS[table].items():
        assert f"| `{name}` | {column.type} | {column.description} |" in section
        assert column.description.strip() and "\n" not in column.description and "|" not in column.description
        assert duckdb.sql(f"SELECT CAST(NULL AS {column.type}) AS x").types[0] == column.type


def test_the_audience_columns_are_the_customers_mart_columns_they_name():
    assert set(AUDIENCE_COLUMNS) <= set(MART_COLUMNS["marts.customers"])
    assert list(UPLIFT_AUDIENCE_COLUMNS)[: len(AUDIENCE_COLUMNS)] == list(AUDIENCE_COLUMNS)
    assert all(f"| `{name}` |" in data_dictionary() for name in UPLIFT_AUDIENCE_COLUMNS)


def test_the_generator_writes_the_dictionary_it_builds(tmp_path):
    path = write_dictionary(tmp_path / "dictionary.md")

    assert path.read_text() == data_dictionary()
