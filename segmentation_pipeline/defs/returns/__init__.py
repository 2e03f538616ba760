"""Product returns: order-line facts, the return model behind its quality gate, batch scores and the scoring state."""
