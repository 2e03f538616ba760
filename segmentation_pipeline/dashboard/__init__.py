"""The shop's dashboard: one self-contained, offline HTML page built from aggregate DataFrames."""

from segmentation_pipeline.dashboard.contract import FRAME_COLUMNS, DashboardData
from segmentation_pipeline.dashboard.render import dashboard_html, render_dashboard

__all__ = ["FRAME_COLUMNS", "DashboardData", "dashboard_html", "render_dashboard"]
