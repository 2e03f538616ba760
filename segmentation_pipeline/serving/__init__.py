"""The real-time return-risk scoring HTTP service (``make serve``)."""
