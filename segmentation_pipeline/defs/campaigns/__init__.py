"""Campaign analytics: A/B results per segment with a return guardrail, response and uplift models, audiences."""
