"""Campaign analytics: A/B statistics, response and uplift models."""
