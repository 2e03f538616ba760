"""Customer lifetime value: purchase and spend models, validation and value."""
