"""Reporting: the warehouse's results reshaped for the dashboard."""
