"""Return-aware product recommendations and the next best action per customer."""
