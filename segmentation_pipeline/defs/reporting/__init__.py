"""Reporting: the interactive dashboard written from the warehouse on every refresh."""
