"""Product recommendations and the next best action per customer."""
