"""The data-quality page: rows kept and rejected per table and reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

UNPLACED_NOTE = (
    "Raw rows = staged + quarantined + unplaced. Quarantined rows have an event day; unplaced rows have no usable "
    "one (missing, unreadable, in the future or before the first day) and are held in quarantine too."
)


@dataclass(frozen=True)
class TableCounts:
    """Where a table's raw rows went: every one is staged, quarantined on its event day, or unplaced
    (no usable event day, also held in quarantine)."""

    table: str
    raw: int
    staged: int
    quarantined: int
    unplaced: int

    @property
    def unaccounted(self) -> int:
        """Raw rows neither staged nor quarantined (negative: more rows kept than read); 0 when the counts reconcile."""
        return self.raw - self.staged - self.quarantined - self.unplaced


def quality_report_markdown(totals: Sequence[TableCounts], reasons: Sequence[tuple[str, str, int]]) -> str:
    """The data-quality page: rows kept and rejected per table, and why rows were rejected.

    For each table, raw rows = staged + quarantined + unplaced; a table whose
    counts do not add up is marked in its row and named at the top of the page.
    ``reasons`` holds (table, reason, rows) over every quarantined row, unplaced
    ones included.
    """
    broken = [t for t in totals if t.unaccounted]
    lines = ["# Data quality", ""]
    if broken:
        names = ", ".join(f"{t.table} ({t.unaccounted:+,} rows)" for t in broken)
        lines += [f"**Counts do not reconcile** (raw - staged - quarantined - unplaced): {names}.", ""]
    lines += [
        UNPLACED_NOTE,
        "",
        "| table | raw rows | staged | quarantined | unplaced | share quarantined | reconciles |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for t in totals:
        rejected = t.quarantined + t.unplaced
        share = rejected / (t.staged + rejected) if t.staged + rejected else 0.0
        verdict = "yes" if not t.unaccounted else f"**no: {t.unaccounted:+,}**"
        lines.append(
            f"| {t.table} | {t.raw:,} | {t.staged:,} | {t.quarantined:,} | {t.unplaced:,} | {share:.1%} | {verdict} |"
        )
    lines += ["", "## Quarantine by reason", "", "| table | reason | rows |", "|---|---|---:|"]
    lines += [f"| {table} | {reason} | {rows:,} |" for table, reason, rows in reasons]
    if not reasons:
        lines.append("| | _no quarantined rows_ | |")
    return "\n".join(lines) + "\n"
