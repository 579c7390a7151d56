"""The versionizer peer: ``app.py``, run from ``bench/.venvs/versionizer``."""
