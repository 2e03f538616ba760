"""The raw-data contract: the five tables every source is turned into.

Column names are lower snake case. Required columns must be present in a
source file; optional ones may be absent and are then filled with NULL.
Types are DuckDB type names used when staging parses the raw text.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    required: bool
    description: str
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    event_ts: str | None
    description: str

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def partitioned(self) -> bool:
        """Event tables are partitioned by the day of their event timestamp."""
        return self.event_ts is not None

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def descriptions(self) -> dict[str, str]:
        return {c.name: c.description for c in self.columns}

    @property
    def bounded(self) -> list[Column]:
        """Columns with an allowed range (inclusive; NULL is not range-checked)."""
        return [c for c in self.columns if c.minimum is not None or c.maximum is not None]


def _c(
    name: str,
    sql_type: str,
    required: bool,
    description: str,
    minimum: float | None = None,
    maximum: float | None = None,
) -> Column:
    return Column(name, sql_type, required, description, minimum, maximum)


TRANSACTIONS = Table(
    name="transactions",
    description="One row per order line.",
    key=("order_id", "line_no"),
    event_ts="order_ts",
    columns=(
        _c("order_id", "VARCHAR", True, "Order (invoice) identifier."),
        _c("customer_id", "VARCHAR", True, "Customer who placed the order."),
        _c("order_ts", "TIMESTAMP", True, "When the order was placed."),
        _c("product_id", "VARCHAR", True, "Product (stock code) ordered."),
        _c("quantity", "BIGINT", True, "Units ordered; must be > 0.", minimum=1),
        _c("unit_price", "DOUBLE", True, "Price per unit before discount; must be >= 0.", minimum=0),
        _c("category", "VARCHAR", False, "Product category."),
        _c("discount", "DOUBLE", False, "Money taken off the whole line.", minimum=0),
        _c("channel", "VARCHAR", False, "Sales channel (web, app, ...)."),
        _c("country", "VARCHAR", False, "Shipping country."),
    ),
)

RETURNS = Table(
    name="returns",
    description="One row per returned line.",
    key=("return_id",),
    event_ts="return_ts",
    columns=(
        _c("return_id", "VARCHAR", True, "Return line identifier."),
        _c("customer_id", "VARCHAR", True, "Customer who returned."),
        _c("product_id", "VARCHAR", True, "Product returned."),
        _c("return_ts", "TIMESTAMP", True, "When the return was registered."),
        _c("quantity", "BIGINT", True, "Units returned; must be > 0.", minimum=1),
        _c("order_id", "VARCHAR", False, "Order the return belongs to; matched when absent."),
        _c("refund_amount", "DOUBLE", False, "Money refunded.", minimum=0),
        _c("reason", "VARCHAR", False, "Return reason given by the customer."),
    ),
)

CUSTOMERS = Table(
    name="customers",
    description="One row per customer.",
    key=("customer_id",),
    event_ts=None,
    columns=(
        _c("customer_id", "VARCHAR", True, "Customer identifier."),
        _c("signup_ts", "TIMESTAMP", False, "When the customer account was created."),
        _c("birth_year", "INTEGER", False, "Year of birth.", minimum=1900, maximum=2020),
        _c("gender", "VARCHAR", False, "Gender as given by the customer."),
        _c("country", "VARCHAR", False, "Home country."),
        _c("acquisition_channel", "VARCHAR", False, "Channel that brought the customer."),
    ),
)

CAMPAIGN_EXPOSURES = Table(
    name="campaign_exposures",
    description="One row per customer sent a campaign message.",
    key=("campaign_id", "customer_id"),
    event_ts="sent_ts",
    columns=(
        _c("campaign_id", "VARCHAR", True, "Campaign identifier."),
        _c("customer_id", "VARCHAR", True, "Customer exposed."),
        _c("sent_ts", "TIMESTAMP", True, "When the message was sent."),
        _c("variant", "VARCHAR", True, "Offer variant the customer was randomised to."),
        _c("is_control", "BOOLEAN", False, "True for the hold-out control group."),
        _c("channel", "VARCHAR", False, "Channel of the message (email, sms, ...)."),
        _c("offer", "VARCHAR", False, "Offer description."),
        _c("engaged", "BOOLEAN", False, "Customer opened or clicked."),
        _c("converted", "BOOLEAN", False, "Customer bought in the attribution window."),
        _c("revenue", "DOUBLE", False, "Revenue attributed to the exposure.", minimum=0),
    ),
)

SERVICE_INTERACTIONS = Table(
    name="service_interactions",
    description="One row per customer-service contact.",
    key=("interaction_id",),
    event_ts="interaction_ts",
    columns=(
        _c("interaction_id", "VARCHAR", True, "Contact identifier."),
        _c("customer_id", "VARCHAR", True, "Customer who made contact."),
        _c("interaction_ts", "TIMESTAMP", True, "When the contact happened."),
        _c("channel", "VARCHAR", False, "Contact channel (chat, phone, email)."),
        _c("topic", "VARCHAR", False, "Topic of the contact (delivery, return, ...)."),
        _c("resolved", "BOOLEAN", False, "Whether the contact was resolved."),
        _c("csat", "INTEGER", False, "Satisfaction score 1-5.", minimum=1, maximum=5),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (TRANSACTIONS, RETURNS, CUSTOMERS, CAMPAIGN_EXPOSURES, SERVICE_INTERACTIONS)
}
EVENT_TABLES = [t for t in TABLES.values() if t.partitioned]

ATTRIBUTION_DAYS = 14
"""Days after a campaign message in which a purchase counts as its conversion, when the exposure
file does not say whether it converted."""
