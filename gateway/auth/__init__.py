"""Authentication: tokens and their keys, passwords, users, the bearer check, the OAuth2 token and
revoke endpoints, refresh tokens, revocations and rate limits.

Pure functions (``tokens``, ``passwords``) know nothing of HTTP; the endpoint and dependency
modules turn their failures into RFC 6749 and RFC 6750 responses.
"""
