"""Writes the dashboard as one self-contained HTML file that opens offline.

plotly.js (from the installed `plotly` package), the page's own script and style and the data are all inlined;
the page asks for nothing over the network, and its content security policy forbids it to. The same data
always gives the same bytes.
"""

from __future__ import annotations

import html
import json
import os
import re
from importlib.resources import files
from pathlib import Path

from plotly.offline import get_plotlyjs

from segmentation_pipeline.dashboard.contract import FRAME_COLUMNS, DashboardData, table_payload

SEGMENT_PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#86bcb6",
    "#8cd17d",
    "#d4a6c8",
)
"""Colours segments take: today's segments first, in alphabetical order of their names, then any other name
(a segment of an earlier segmentation, say), so today's segments keep distinct colours while the set stays the
same."""

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_ASSETS = files("segmentation_pipeline.dashboard")


def render_dashboard(data: DashboardData, path: Path) -> Path:
    """Write the dashboard for `data` to `path` (replacing any earlier file in one step) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(dashboard_html(data), encoding="utf-8")
    os.replace(partial, path)
    return path


def dashboard_html(data: DashboardData) -> str:
    """The dashboard page for `data`, as text."""
    parts = {
        "title": html.escape(data.title),
        "as_of": html.escape(data.as_of),
        "style": _asset("dashboard.css"),
        "plotly": get_plotlyjs().replace("</script", "<\\/script"),
        "data": script_safe_json(dashboard_payload(data)),
        "script": _asset("dashboard.js"),
    }
    return _PLACEHOLDER.sub(lambda match: parts[match.group(1)], _asset("template.html"))


def dashboard_payload(data: DashboardData) -> dict:
    """The data the page reads: title, as-of day, segments in display order with their colours, and every frame."""
    tables = {name: table_payload(name, getattr(data, name)) for name in FRAME_COLUMNS}
    segments = segment_order(tables)
    today = _column_values(tables["segments"], "segment")
    colours = segment_colours(today, segments + _column_values(tables["transitions"], "from_segment", "to_segment"))
    return {"title": data.title, "asOf": data.as_of, "segments": segments, "segmentColors": colours, "tables": tables}


def segment_order(tables: dict[str, dict]) -> list[str]:
    """Segments as the selector and the charts list them: those profiled, largest first, then any others by name."""
    rows = (dict(zip(tables["segments"]["columns"], row, strict=True)) for row in tables["segments"]["rows"])
    profiled = [row for row in rows if row["segment"] is not None]
    largest_first = [
        row["segment"] for row in sorted(profiled, key=lambda row: (-(row["customers"] or 0), row["segment"]))
    ]
    seen = set(largest_first)
    others = {
        name
        for table in tables.values()
        if "segment" in table["columns"]
        for name in _column_values(table, "segment")
        if name not in seen
    }
    return list(dict.fromkeys(largest_first)) + sorted(others)


def segment_colours(today: list[str], names: list[str]) -> dict[str, str]:
    """One colour per segment name, the same in every chart: ``today``'s segments take the first colours."""
    ordered = sorted(set(today)) + sorted(set(names) - set(today))
    return {name: SEGMENT_PALETTE[index % len(SEGMENT_PALETTE)] for index, name in enumerate(ordered)}


def script_safe_json(value) -> str:
    """JSON that cannot end the `<script>` element holding it: `<`, `>` and `&` are written as escapes."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _column_values(table: dict, *columns: str) -> list[str]:
    indexes = [table["columns"].index(column) for column in columns if column in table["columns"]]
    return [row[index] for row in table["rows"] for index in indexes if row[index] is not None]


def _asset(name: str) -> str:
    return (_ASSETS / name).read_text(encoding="utf-8")
