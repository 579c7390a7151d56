"""The router_versioning peer: ``app.py``, run from ``bench/.venvs/router_versioning``."""
