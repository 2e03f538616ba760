"""Marts: stable, documented tables for BI tools and marketing, and the data dictionary that describes them."""
