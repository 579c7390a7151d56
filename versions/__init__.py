"""The API's versions. Each ``v<N>.py`` module or ``v<N>/`` package here is mounted at ``/apiv<N>``;
modules starting with ``_`` hold code the versions share and are never mounted.
"""
