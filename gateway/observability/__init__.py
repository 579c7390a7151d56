"""Observability: one pure-ASGI middleware for request ids, the JSON access log and metrics."""
