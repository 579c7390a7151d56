"""Versioning: discovery of version modules, the version factory, lifecycle, dispatch, docs and
the index of versions."""
