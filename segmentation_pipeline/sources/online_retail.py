"""The `online_retail` source: the UCI Online Retail (or Online Retail II) file.

Rules, applied to every line of the file:

- Lines of `C` invoices (cancellations, negative quantity) become `returns`: the
  returned quantity is the negated quantity, `return_id` is the invoice number
  and the file row, the refund is quantity x price, and the order is matched in
  staging to the customer's latest earlier purchase of the product.
- All other lines become `transactions`; the invoice is the order.
- Lines that are not sales of a product keep their table but carry a reason and
  end in quarantine: `bad_debt_adjustment` (`A` invoices),
  `non_product_line` (postage, carriage, fees, manual entries, discounts,
  samples, bank charges, gift vouchers: see NON_PRODUCT_CODES) and
  `stock_adjustment` (negative quantity on a non-cancellation invoice: damaged,
  lost or written-off stock).
- Lines without a customer id are quarantined in staging as missing a key.
- `customers` holds one row per customer id: signup is the first invoice, the
  country the one most often used.
- The file has no campaign exposures or service interactions: both are empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from segmentation_pipeline.domain.contract import Table
from segmentation_pipeline.sources.base import (
    SourceError,
    contract_select,
    empty_table_sql,
    relation_columns,
    sql_literal,
)

# Each field, in the Online Retail spelling and the Online Retail II spelling.
COLUMN_SPELLINGS = {
    "invoice": ("InvoiceNo", "Invoice"),
    "stock_code": ("StockCode",),
    "quantity": ("Quantity",),
    "invoice_date": ("InvoiceDate",),
    "price": ("UnitPrice", "Price"),
    "customer": ("CustomerID", "Customer ID"),
    "country": ("Country",),
}
NON_PRODUCT_CODES = ("POST", "DOT", "C2", "M", "D", "S", "B", "BANK CHARGES", "AMAZONFEE", "CRUK")
GIFT_VOUCHER_PREFIX = "GIFT_0001"


def resolve_columns(path: Path, file_columns: list[str]) -> dict[str, str]:
    """Map each field to the quoted column name this file uses for it."""
    resolved = {}
    for field, spellings in COLUMN_SPELLINGS.items():
        found = [s for s in spellings if s in file_columns]
        if not found:
            raise SourceError(f"{path}: no column {' or '.join(spellings)}; found {', '.join(file_columns)}")
        resolved[field] = f'"{found[0]}"'
    return resolved


def lines_sql(path: Path, col: dict[str, str]) -> str:
    """Every file line with its row number and normalised fields."""
    codes = ", ".join(sql_literal(c) for c in NON_PRODUCT_CODES)
    return f"""(
    SELECT
      row_number() OVER () AS source_row,
      TRIM({col["invoice"]}) AS invoice,
      TRIM({col["stock_code"]}) AS stock_code,
      TRY_CAST({col["quantity"]} AS BIGINT) AS quantity,
      {col["quantity"]} AS quantity_text,
      {col["invoice_date"]} AS invoice_date,
      {col["price"]} AS price,
      TRIM({col["customer"]}) AS customer,
      {col["country"]} AS country,
      UPPER(TRIM({col["stock_code"]})) IN ({codes})
        OR UPPER(TRIM({col["stock_code"]})) LIKE '{GIFT_VOUCHER_PREFIX}%' AS is_non_product
    FROM read_csv({sql_literal(path)}, all_varchar = true, header = true)
  )"""


@dataclass(frozen=True)
class OnlineRetailSource:
    path: Path
    cache_dir: Path | None = None
    """Where the file's parsed lines are kept as Parquet, so later reads skip the CSV (None: no cache)."""

    def _cache(self) -> Path | None:
        """The Parquet copy of this version of the file (its size and modification time name it)."""
        if self.cache_dir is None:
            return None
        stat = self.path.stat()
        return self.cache_dir / f"{self.path.name.split('.')[0]}_{stat.st_size}_{stat.st_mtime_ns}.parquet"

    def prepare(self) -> None:
        """Check the file is there and parse it once into the Parquet cache."""
        if not self.path.exists():
            raise SourceError(f"{self.path}: Online Retail file not found (set SEGMENTATION_SOURCE_PATH)")
        cache = self._cache()
        if cache is None or cache.exists():
            return
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_name(f".{cache.name}.partial")
        with duckdb.connect() as con:
            lines = lines_sql(self.path, self._columns(con))
            con.execute(f"COPY (SELECT * FROM {lines}) TO '{partial}' (FORMAT parquet)").fetchall()
        partial.rename(cache)

    def _lines(self, con: duckdb.DuckDBPyConnection) -> str:
        cache = self._cache()
        if cache is not None and cache.exists():
            return f"read_parquet({sql_literal(cache)})"
        return lines_sql(self.path, self._columns(con))

    def _columns(self, con: duckdb.DuckDBPyConnection) -> dict[str, str]:
        relation = f"read_csv({sql_literal(self.path)}, all_varchar = true, header = true)"
        return resolve_columns(self.path, relation_columns(con, relation, self.path, "Online Retail"))

    def table_sql(self, con: duckdb.DuckDBPyConnection, table: Table) -> str:
        builder = {
            "transactions": self._transactions,
            "returns": self._returns,
            "customers": self._customers,
        }.get(table.name)
        return builder(table, self._lines(con)) if builder else empty_table_sql(table)

    def _transactions(self, table: Table, lines: str) -> str:
        return contract_select(
            table,
            {
                "order_id": "invoice",
                "customer_id": "customer",
                "order_ts": "invoice_date",
                "product_id": "stock_code",
                "quantity": "quantity_text",
                "unit_price": "price",
                "country": "country",
            },
            source_file=str(self.path),
            source_row="source_row",
            reject_reason="""CASE
              WHEN invoice LIKE 'A%' THEN 'bad_debt_adjustment'
              WHEN is_non_product THEN 'non_product_line'
              WHEN quantity < 0 THEN 'stock_adjustment'
            END""",
            relation=f"{lines} WHERE invoice NOT LIKE 'C%'",
        )

    def _returns(self, table: Table, lines: str) -> str:
        return contract_select(
            table,
            {
                "return_id": "invoice || '-' || source_row",
                "customer_id": "customer",
                "product_id": "stock_code",
                "return_ts": "invoice_date",
                "quantity": "-quantity",
                "refund_amount": "ROUND(-quantity * TRY_CAST(price AS DOUBLE), 2)",
                "reason": "'cancellation'",
            },
            source_file=str(self.path),
            source_row="source_row",
            reject_reason="CASE WHEN is_non_product THEN 'non_product_line' END",
            relation=f"{lines} WHERE invoice LIKE 'C%'",
        )

    def _customers(self, table: Table, lines: str) -> str:
        per_customer = f"""(
    SELECT customer, MIN(source_row) AS source_row,
           MIN(TRY_CAST(invoice_date AS TIMESTAMP)) AS first_invoice,
           MODE(country ORDER BY source_row) AS country
    FROM {lines} WHERE customer IS NOT NULL AND customer <> ''
    GROUP BY customer
  )"""
        return contract_select(
            table,
            {"customer_id": "customer", "signup_ts": "first_invoice", "country": "country"},
            source_file=str(self.path),
            source_row="source_row",
            relation=per_customer,
        )

    def describe(self) -> str:
        return f"UCI Online Retail file {self.path}"

    def customer_labels_sql(self, con: duckdb.DuckDBPyConnection) -> None:
        """Real data: customers' true types are unknown."""
