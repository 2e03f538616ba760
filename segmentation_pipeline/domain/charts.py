"""Compact text charts for run metadata, which has no chart type of its own."""

from __future__ import annotations

import math

import pandas as pd

EIGHTHS = " ▏▎▍▌▋▊▉"
K_SCORE_COLUMNS = (
    ("inertia", "inertia ↓"),
    ("silhouette", "silhouette ↑"),
    ("davies_bouldin", "Davies-Bouldin ↓"),
    ("calinski_harabasz", "Calinski-Harabasz ↑"),
)
"""Score column and chart heading; the arrow says which way is better."""


def bar(value: float, top: float, width: int) -> str:
    """A horizontal bar of ``width`` characters at most, in eighths of a character, for value / top."""
    if not math.isfinite(value) or not math.isfinite(top) or top <= 0 or value <= 0:
        return ""
    eighths = round(min(value / top, 1.0) * width * 8)
    return "█" * (eighths // 8) + EIGHTHS[eighths % 8].strip()


def _number(value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3f}"


def bars_chart(
    table: pd.DataFrame,
    label: str,
    columns: tuple[tuple[str, str], ...],
    marked: object = None,
    footer: str = "",
    width: int = 8,
) -> str:
    """A table as a fenced markdown block: one row per row of ``table`` (named by its ``label`` column),
    one bar per (column, heading) of ``columns``, each scaled to that column's largest value and followed
    by the figure; the row whose label is ``marked`` is marked, and ``footer`` closes the block."""
    header = [label, *(title for _, title in columns)]
    rows = []
    for row in table.to_dict("records"):
        cells = [str(row[label])]
        for column, _ in columns:
            value, top = float(row[column]), float(table[column].max())
            cells.append(f"{bar(value, top, width):<{width}} {_number(value)}")
        rows.append((cells, row[label] == marked))
    widths = [max(len(c) for c in column) for column in zip(header, *(cells for cells, _ in rows), strict=True)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    for cells, chosen in rows:
        line = "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
        lines.append(line + ("  ◀ chosen" if chosen else ""))
    return "```\n" + "\n".join([*lines, *([footer] if footer else [])]) + "\n```"


def k_scores_chart(scores: pd.DataFrame, chosen_k: int, width: int = 8) -> str:
    """The model-selection scores: one row per k, one bar per score, chosen k marked; a closing line says
    how to read the arrows."""
    table = scores.sort_values("k").assign(k=lambda f: f["k"].astype(int))
    footer = "↑ higher is better, ↓ lower is better; bars scaled to each score's largest value"
    return bars_chart(table, "k", K_SCORE_COLUMNS, marked=chosen_k, footer=footer, width=width)
