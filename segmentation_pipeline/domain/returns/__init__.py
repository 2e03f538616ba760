"""Product returns: order-line facts and labels, the return model, its training, gate, card, registry and scoring."""
