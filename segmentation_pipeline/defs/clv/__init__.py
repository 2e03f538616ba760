"""Customer lifetime value and churn risk: purchase and spend models, the churn model, and every customer's value."""
