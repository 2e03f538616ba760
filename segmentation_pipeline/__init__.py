"""Segmentation pipeline: a Dagster code location for customer segmentation and return-rate optimisation."""
