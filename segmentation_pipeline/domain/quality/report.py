"""The data-quality page: rows kept and rejected per table and reason."""

from __future__ import annotations

from collections.abc import Sequence


def quality_report_markdown(
    totals: Sequence[tuple[str, int, int, int]], reasons: Sequence[tuple[str, str, int]]
) -> str:
    """The data-quality page: rows kept and rejected per table, and why rows were rejected.

    ``totals`` holds (table, raw, staged, quarantined); ``reasons`` holds
    (table, reason, rows). Quarantined rows include those that belong to no day,
    so raw + unplaced = staged + quarantined for each table.
    """
    lines = [
        "# Data quality",
        "",
        "| table | raw rows | staged | quarantined | share quarantined |",
        "|---|---:|---:|---:|---:|",
    ]
    for table, raw, staged, quarantined in totals:
        share = quarantined / (staged + quarantined) if staged + quarantined else 0.0
        lines.append(f"| {table} | {raw:,} | {staged:,} | {quarantined:,} | {share:.1%} |")
    lines += ["", "## Quarantine by reason", "", "| table | reason | rows |", "|---|---|---:|"]
    lines += [f"| {table} | {reason} | {rows:,} |" for table, reason, rows in reasons]
    if not reasons:
        lines.append("| | _no quarantined rows_ | |")
    return "\n".join(lines) + "\n"
