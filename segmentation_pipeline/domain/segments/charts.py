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


def k_scores_chart(scores: pd.DataFrame, chosen_k: int, width: int = 8) -> str:
    """The model-selection scores as a fenced markdown block: one row per k, one bar per score, chosen k marked.

    Each score's bars are scaled to its largest value (zero or negative values draw no
    bar) and followed by the figure; a closing line says how to read the arrows.
    """
    table = scores.sort_values("k")
    header = ["k", *(title for _, title in K_SCORE_COLUMNS)]
    rows = []
    for row in table.itertuples():
        cells = [str(int(row.k))]
        for column, _ in K_SCORE_COLUMNS:
            value, top = float(getattr(row, column)), float(table[column].max())
            cells.append(f"{bar(value, top, width):<{width}} {_number(value)}")
        rows.append((cells, int(row.k) == chosen_k))
    widths = [max(len(c) for c in column) for column in zip(header, *(cells for cells, _ in rows), strict=True)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    for cells, chosen in rows:
        line = "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
        lines.append(line + ("  ◀ chosen" if chosen else ""))
    lines.append("↑ higher is better, ↓ lower is better; bars scaled to each score's largest value")
    return "```\n" + "\n".join(lines) + "\n```"
