"""DuckDB SQL for the warehouse's raw, staging and quarantine tables.

The statements are rendered from the contract so every table follows the same
rules. Windows are half-open day ranges `[$start, $end)` passed as parameters.

Quarantine reasons, checked in this order (the first that applies wins):

| reason | meaning |
|---|---|
| (source rule) | a reason set by the source reader, e.g. `non_product_line` |
| `missing_value` | a required column is empty (`field` names it) |
| `unparseable_value` | a value cannot be read as its type (`field` names it) |
| `non_positive_quantity`, `negative_price`, `out_of_range` | a value breaks its range |
| `exact_duplicate` | the same raw values as an earlier row of the file |
| `duplicate_key` | the same key as an earlier accepted row in the window |
| `unknown_customer` | the customer is not in `staging.customers` (only when that table has rows) |
| `unmatched_return` | a return with no earlier purchase of the product by the customer |
"""

from __future__ import annotations

from dataclasses import dataclass

from segmentation_pipeline.domain.contract import TABLES, Table
from segmentation_pipeline.sql.catalog import QUARANTINE

EXTRA_COLUMNS: dict[str, dict[str, tuple[str, str]]] = {
    "transactions": {
        "line_no": ("BIGINT", "Line number inside the order, in source row order."),
        "gross_amount": ("DOUBLE", "Quantity x unit price."),
        "net_amount": ("DOUBLE", "Gross amount minus the line's discount."),
    },
    "returns": {
        "order_ts": ("TIMESTAMP", "When the matched order was placed."),
        "matched_by": ("VARCHAR", "How the return was matched to its order: 'order_id' or 'latest_purchase'."),
    },
}
"""Columns staging adds to a contract table: type and meaning."""
LINEAGE = {
    "_source_file": ("VARCHAR", "The source file the row came from."),
    "_source_row": ("BIGINT", "The row's 1-based position among the file's data rows."),
    "_partition_date": ("DATE", "The event day the row belongs to (NULL for tables without events)."),
}


def staged_columns(table: Table) -> list[tuple[str, str, str]]:
    """Every column of a staging table: name, DuckDB type and meaning."""
    own = [(c.name, c.sql_type, c.description) for c in table.columns]
    extra = [(name, kind, text) for name, (kind, text) in EXTRA_COLUMNS.get(table.name, {}).items()]
    return own + extra + [(name, kind, text) for name, (kind, text) in LINEAGE.items()]


@dataclass(frozen=True)
class Rule:
    reason: str
    field: str | None
    condition: str


# Reason codes of range breaks that have a name of their own; others are `out_of_range`.
RANGE_REASONS = {"quantity": "non_positive_quantity", "unit_price": "negative_price"}
# Rules across columns, beyond each column's own range.
CROSS_COLUMN_RULES: dict[str, list[Rule]] = {
    "transactions": [Rule("out_of_range", "discount", "discount > quantity * unit_price")],
}


def range_rules(table: Table) -> list[Rule]:
    """Rules from the contract's column ranges, then the table's cross-column rules."""
    rules = []
    for column in table.bounded:
        bounds = [
            f"{column.name} < {column.minimum}" if column.minimum is not None else None,
            f"{column.name} > {column.maximum}" if column.maximum is not None else None,
        ]
        condition = " OR ".join(b for b in bounds if b)
        rules.append(Rule(RANGE_REASONS.get(column.name, "out_of_range"), column.name, condition))
    return rules + CROSS_COLUMN_RULES.get(table.name, [])


def parse_timestamp_sql(expr: str) -> str:
    """The one rule that turns raw text into a timestamp (ISO 8601 date or date-time)."""
    return f"TRY_CAST(NULLIF(TRIM(CAST({expr} AS VARCHAR)), '') AS TIMESTAMP)"


def typed_expression(table: Table, column: str) -> str:
    """A raw column read as its contract type; NULL when the text is no such value. Counts must be whole
    (DuckDB alone would round '12.5' to 13) and amounts finite (it reads 'nan' and 'inf' as numbers)."""
    sql_type = table.column(column).sql_type
    if sql_type == "TIMESTAMP":
        return parse_timestamp_sql(f"raw.{column}")
    text = f"NULLIF(TRIM(raw.{column}), '')"
    if sql_type in ("BIGINT", "INTEGER"):
        return (
            f"CASE WHEN TRY_CAST({text} AS DOUBLE) = TRY_CAST({text} AS BIGINT) THEN TRY_CAST({text} AS {sql_type}) END"
        )
    if sql_type == "DOUBLE":
        return f"CASE WHEN abs(TRY_CAST({text} AS DOUBLE)) < 1e308 THEN TRY_CAST({text} AS DOUBLE) END"
    return text if sql_type == "VARCHAR" else f"TRY_CAST({text} AS {sql_type})"


def create_tables_sql() -> str:
    """DDL for every raw, staging and quarantine table (idempotent)."""
    statements = ["CREATE SCHEMA IF NOT EXISTS raw", "CREATE SCHEMA IF NOT EXISTS staging"]
    lineage = "_source_file VARCHAR, _source_row BIGINT"
    for table in TABLES.values():
        raw_columns = ", ".join(f"{c} VARCHAR" for c in table.column_names)
        statements.append(
            f"CREATE TABLE IF NOT EXISTS raw.{table.name} ({raw_columns}, {lineage}, "
            "_reject_reason VARCHAR, _event_ts TIMESTAMP, _partition_date DATE)"
        )
        typed = ", ".join(f"{name} {kind}" for name, kind, _ in staged_columns(table))
        statements.append(f"CREATE TABLE IF NOT EXISTS staging.{table.name} ({typed})")
    statements.append(
        f"CREATE TABLE IF NOT EXISTS {QUARANTINE} (table_name VARCHAR, partition_date DATE, "
        "source_file VARCHAR, source_row BIGINT, reason VARCHAR, field VARCHAR, raw_values JSON)"
    )
    return ";\n".join(statements) + ";"


def window_filter(table: Table, column: str = "_partition_date") -> str:
    return f"{column} >= $start AND {column} < $end" if table.partitioned else "true"


def source_days_sql(table: Table, source_select: str) -> str:
    """The temp table `source_days`: for each event day of the window ($start, $end), the source's rows
    and a fingerprint of their values (a changed, added or lost row changes it); for a table without
    event days, one row (day NULL) for the whole table."""
    columns = ", ".join([*table.column_names, "_source_file", "_source_row", "_reject_reason"])
    day = "CAST(_event_ts AS DATE)" if table.partitioned else "CAST(NULL AS DATE)"
    placed = (
        "_event_ts >= CAST($start AS TIMESTAMP) AND _event_ts < CAST($end AS TIMESTAMP)"
        if table.partitioned
        else "true"
    )
    return f"""
CREATE OR REPLACE TEMP TABLE source_days AS
SELECT {day} AS day, count(*) AS source_rows, sum(hash({columns})) AS fingerprint
FROM ({source_select}) AS src
WHERE {placed}
GROUP BY 1
"""


def unbalanced_days_sql(table: Table) -> str:
    """Days of the window ($start, $end) whose raw rows are not all staged or quarantined: day, raw, staged, quarantined."""
    return f"""
WITH raw_days AS (SELECT _partition_date AS day, count(*) AS n FROM raw.{table.name}
                  WHERE {window_filter(table)} GROUP BY 1),
staged_days AS (SELECT _partition_date AS day, count(*) AS n FROM staging.{table.name}
                WHERE {window_filter(table)} GROUP BY 1),
quarantined_days AS (SELECT partition_date AS day, count(*) AS n FROM {QUARANTINE}
                     WHERE table_name = $table AND {window_filter(table, "partition_date")} GROUP BY 1)
SELECT day, COALESCE(r.n, 0), COALESCE(s.n, 0), COALESCE(q.n, 0)
FROM raw_days AS r FULL JOIN staged_days AS s USING (day) FULL JOIN quarantined_days AS q USING (day)
WHERE COALESCE(r.n, 0) <> COALESCE(s.n, 0) + COALESCE(q.n, 0)
ORDER BY day
"""


def table_counts_sql(table: Table) -> str:
    """Over every loaded day: rows in `raw.<table>`, staged rows, quarantined rows with an event day, and
    unplaced rows (quarantined with no event day: only an event table's rows can lack one)."""
    unplaced = "partition_date IS NULL" if table.partitioned else "false"
    return f"""
SELECT (SELECT count(*) FROM raw.{table.name}), (SELECT count(*) FROM staging.{table.name}),
       count(*) FILTER (WHERE NOT ({unplaced})), count(*) FILTER (WHERE {unplaced})
FROM {QUARANTINE} WHERE table_name = '{table.name}'
"""


def load_raw_sql(table: Table, source_select: str) -> str:
    """Replace the window's raw rows with the source's rows whose event day is in the window."""
    placed = (
        "WHERE _event_ts >= CAST($start AS TIMESTAMP) AND _event_ts < CAST($end AS TIMESTAMP)"
        if table.partitioned
        else ""
    )
    return f"""
DELETE FROM raw.{table.name} WHERE {window_filter(table)};
INSERT INTO raw.{table.name}
SELECT *, CAST(_event_ts AS DATE) AS _partition_date FROM ({source_select}) AS src {placed};
"""


def _unplaced_judgement(table: Table, source_select: str) -> str:
    """The source rows with `unplaced_reason` (why no event day holds them, or NULL) and `pending`."""
    ts = table.event_ts
    return f"""
  SELECT *, CASE
      WHEN NULLIF(TRIM({ts}), '') IS NULL THEN 'missing_value'
      WHEN _event_ts IS NULL THEN 'unparseable_value'
      WHEN _event_ts > $now THEN 'future_timestamp'
      WHEN _event_ts < CAST($first_day AS TIMESTAMP) THEN 'before_first_partition'
    END AS unplaced_reason,
    COALESCE(_event_ts >= CAST($end AS TIMESTAMP) AND _event_ts <= $now, false) AS pending
  FROM ({source_select}) AS src"""


def unplaced_counts_sql(table: Table, source_select: str) -> str:
    """How many source rows are unplaced and how many pending; reads only the timestamp column."""
    judged = _unplaced_judgement(table, source_select)
    return (
        f"SELECT count(*) FILTER (WHERE unplaced_reason IS NOT NULL), count(*) FILTER (WHERE pending) FROM ({judged})"
    )


def unplaced_rows_sql(table: Table, source_select: str) -> str:
    """Replace the quarantined source rows that belong to no event day.

    A row is unplaced when its event timestamp is missing, unparseable, later than `$now` or
    earlier than `$first_day`; such rows carry no partition date. Rows dated from `$end` (the
    end of the last partition) to `$now` wait for their partition (`pending`).
    """
    raw_values = ", ".join(f"{c} := {c}" for c in table.column_names)
    return f"""
DELETE FROM {QUARANTINE} WHERE table_name = '{table.name}' AND partition_date IS NULL;
INSERT INTO {QUARANTINE}
SELECT '{table.name}', NULL, _source_file, _source_row, unplaced_reason, '{table.event_ts}',
       to_json(struct_pack({raw_values}))
FROM ({_unplaced_judgement(table, source_select)}) AS judged
WHERE unplaced_reason IS NOT NULL;
"""


def _first_reason(rules: list[Rule]) -> tuple[str, str]:
    reason = "CASE " + " ".join(f"WHEN {r.condition} THEN '{r.reason}'" for r in rules) + " END"
    field = "CASE " + " ".join(f"WHEN {r.condition} THEN {_quote(r.field)}" for r in rules) + " END"
    return reason, field


def _quote(text: str | None) -> str:
    return "NULL" if text is None else f"'{text}'"


def row_rules(table: Table) -> list[Rule]:
    """Rules that judge a row on its own values."""
    missing = [Rule("missing_value", c, f"NULLIF(TRIM(raw_{c}), '') IS NULL") for c in table.required]
    unparseable = [
        Rule("unparseable_value", c, f"NULLIF(TRIM(raw_{c}), '') IS NOT NULL AND {c} IS NULL")
        for c in table.column_names
    ]
    return missing + unparseable + range_rules(table)


def checked_rows_sql(table: Table) -> str:
    """The window's raw rows, typed, with the first quarantine reason that applies (NULL if none)."""
    cols = table.column_names
    typed = ",\n    ".join(f"{typed_expression(table, c)} AS {c}" for c in cols)
    raw_aliases = ", ".join(f"raw.{c} AS raw_{c}" for c in cols)
    own_reason, own_field = _first_reason(row_rules(table))
    raw_values = ", ".join(f"raw_{c}" for c in cols)
    # Order lines have no natural key: their line number is assigned when they are staged.
    natural_key = table.key if table.name != "transactions" else ()
    key_rank = (
        f"row_number() OVER (PARTITION BY own_reason IS NULL, {', '.join(natural_key)} ORDER BY _source_row)"
        if natural_key
        else "1"
    )
    later_rules = [Rule("exact_duplicate", None, "exact_rank > 1")]
    if natural_key:
        later_rules.append(Rule("duplicate_key", ",".join(natural_key), "key_rank > 1"))
    joins = ""
    link_columns = ""
    if table.name != "customers":
        later_rules.append(Rule("unknown_customer", "customer_id", "NOT known_customer AND has_customers"))
        joins += (
            "\n  LEFT JOIN (SELECT DISTINCT customer_id FROM staging.customers) AS known"
            " ON known.customer_id = ranked.customer_id"
            "\n  CROSS JOIN (SELECT count(*) > 0 AS has_customers FROM staging.customers) AS customer_table"
        )
        link_columns += ", known.customer_id IS NOT NULL AS known_customer, has_customers"
    if table.name == "returns":
        later_rules.append(Rule("unmatched_return", "order_id", "matched_order_ts IS NULL"))
        joins += "\n" + RETURN_MATCH_JOIN
        link_columns += (
            ", CASE WHEN ranked.order_id IS NULL THEN latest.order_id ELSE by_order.order_id END AS matched_order_id"
            ", CASE WHEN ranked.order_id IS NULL THEN latest.order_ts ELSE by_order.order_ts END AS matched_order_ts"
        )
    later_reason, later_field = _first_reason(later_rules)
    return f"""
WITH typed AS (
  SELECT
    {typed},
    {raw_aliases},
    raw._source_file, raw._source_row, raw._reject_reason, raw._partition_date
  FROM raw.{table.name} AS raw
  WHERE {window_filter(table, "raw._partition_date")}
), judged AS (
  SELECT *,
    COALESCE(_reject_reason, {own_reason}) AS own_reason,
    CASE WHEN _reject_reason IS NULL THEN {own_field} END AS own_field
  FROM typed
), ranked AS (
  SELECT *,
    row_number() OVER (PARTITION BY own_reason IS NULL, {raw_values} ORDER BY _source_row) AS exact_rank,
    {key_rank} AS key_rank
  FROM judged
), linked AS (
  SELECT ranked.*{link_columns}
  FROM ranked{joins}
)
SELECT *,
  COALESCE(own_reason, {later_reason}) AS quarantine_reason,
  CASE WHEN own_reason IS NOT NULL THEN own_field ELSE {later_field} END AS quarantine_field
FROM linked
"""


# A return names its order, or is matched to the customer's latest purchase of the
# product at or before the return.
# Only the purchases of the window's returning customers are read, so a day costs what its returns do.
RETURN_MATCH_JOIN = """  ASOF LEFT JOIN (SELECT customer_id, product_id, order_id, order_ts FROM staging.transactions
                  WHERE customer_id IN (SELECT customer_id FROM ranked)) AS by_order
    ON by_order.customer_id = ranked.customer_id AND by_order.product_id = ranked.product_id
    AND by_order.order_id = ranked.order_id AND ranked.return_ts >= by_order.order_ts
  ASOF LEFT JOIN (SELECT customer_id, product_id, order_id, order_ts FROM staging.transactions
                  WHERE customer_id IN (SELECT customer_id FROM ranked)) AS latest
    ON latest.customer_id = ranked.customer_id AND latest.product_id = ranked.product_id
    AND ranked.return_ts >= latest.order_ts"""


def staged_columns_sql(table: Table) -> str:
    """The accepted rows' values, in staging column order."""
    extras = {
        "transactions": [
            "row_number() OVER (PARTITION BY order_id ORDER BY _source_row) AS line_no",
            "ROUND(quantity * unit_price, 2) AS gross_amount",
            "ROUND(quantity * unit_price - COALESCE(discount, 0), 2) AS net_amount",
        ],
        "returns": [
            "matched_order_ts AS order_ts",
            "CASE WHEN order_id IS NULL THEN 'latest_purchase' ELSE 'order_id' END AS matched_by",
        ],
    }.get(table.name, [])
    columns = [
        c if c != "order_id" or table.name != "returns" else "matched_order_id AS order_id" for c in table.column_names
    ]
    return ", ".join(columns + extras + ["_source_file", "_source_row", "_partition_date"])


def stage_sql(table: Table) -> str:
    """Replace the window's staged and quarantined rows from its raw rows."""
    raw_values = ", ".join(f"{c} := raw_{c}" for c in table.column_names)
    return f"""
CREATE OR REPLACE TEMP TABLE checked_{table.name} AS {checked_rows_sql(table)};
DELETE FROM staging.{table.name} WHERE {window_filter(table)};
INSERT INTO staging.{table.name}
SELECT {staged_columns_sql(table)} FROM checked_{table.name} WHERE quarantine_reason IS NULL;
DELETE FROM {QUARANTINE} WHERE table_name = '{table.name}' AND {window_filter(table, "partition_date")};
INSERT INTO {QUARANTINE}
SELECT '{table.name}', _partition_date, _source_file, _source_row, quarantine_reason, quarantine_field,
       to_json(struct_pack({raw_values}))
FROM checked_{table.name} WHERE quarantine_reason IS NOT NULL;
DROP TABLE checked_{table.name};
"""
