"""The cadwyn peer: ``app.py``, run from ``bench/.venvs/cadwyn``."""
