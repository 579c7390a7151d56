"""The gateway's error vocabulary: every exception class the gateway raises, in one place.

Two kinds of problem end in an exception. One must stop startup or a CLI command: it is a
``GatewayError``, whose message is one line naming the cause and, where possible, the fix; the CLI
prints that line and exits non-zero. The other ends one request: the route that catches it
answers with the standard's own error (RFC 6749 for the token and revocation routes, RFC 6750 for
bearer-protected routes), so the classes carry what that answer needs (status, error code,
``Retry-After``), never a response.

The hierarchy::

    Exception
    ├── GatewayError ............ the operator must fix it; the CLI prints it and exits 1
    │   ├── SettingsError ....... a settings value the gateway cannot run with
    │   ├── VersionLoadError .... a version module that cannot be mounted
    │   │   └── DerivationError . a derived version's declaration that does not fit its successor
    │   └── UserError ........... a user-management command that cannot be carried out
    ├── ValueError
    │   └── KeyMaterialError .... a signing key that cannot serve its algorithm
    │                             (startup turns it into a SettingsError)
    │
    │   Answered as they are:
    ├── BearerError ............. 401/403 with an RFC 6750 challenge, on a version's routes
    ├── OAuthError .............. 400/401 RFC 6749 error, on /token and /revoke
    ├── LimitExceededError ...... a rate limit is used up: 429 with Retry-After
    ├── StoreUnavailableError ... the shared rate-limit store does not answer: 503 with Retry-After
    │
    │   Translated by the route that catches them:
    ├── TokenError .............. an access token is refused (a BearerError ``invalid_token``)
    └── RefreshError ............ a refresh token is refused (an OAuthError ``invalid_grant``)

The request errors derive from ``Exception`` directly: no caller handles them as a group, and each
one's answer is its own. Nothing here imports from the rest of the gateway, so every layer can
raise and catch these classes.
"""


class GatewayError(Exception):
    """A problem the operator must fix; ``str(error)`` is one line that says what and where."""


class SettingsError(GatewayError):
    """The settings file or environment holds a value the gateway cannot run with."""


class VersionLoadError(GatewayError):
    """A version module could not be imported, lacks ``app``, or repeats a version number."""


class DerivationError(VersionLoadError):
    """A derived version's declaration names what its successor lacks, or contradicts another.

    The message names the module (when known) and the declaration by its text, so the operator
    can find the line: ``versions/v1.py: schema("ItemOutt")...: v2 has no schema ItemOutt``.
    """


class UserError(GatewayError):
    """A user-management request cannot be carried out (unknown user, duplicate, bad scope)."""


class KeyMaterialError(ValueError):
    """A key cannot serve its algorithm; the message says why (and never shows the key)."""


class BearerError(Exception):
    """An RFC 6750 failure: rendered by ``bearer_error_response`` with the version's realm.

    ``error`` is the RFC 6750 code (``invalid_token``, ``insufficient_scope``), or ``None`` when
    the request carried no token at all; ``scope`` names the scopes a 403 lacked. A version route
    may raise it to refuse its caller with the same answer as the gateway's own checks.
    """

    def __init__(
        self,
        status_code: int,
        error: str | None = None,
        description: str = "Authentication required",
        scope: str | None = None,
    ) -> None:
        super().__init__(description)
        self.status_code = status_code
        self.error = error
        self.description = description
        self.scope = scope


class OAuthError(Exception):
    """An RFC 6749 5.2 error response."""

    def __init__(self, error: str, description: str, status_code: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status_code = status_code


class LimitExceededError(Exception):
    """A limit is used up; a slot frees in ``retry_after`` seconds (at least 1)."""

    def __init__(self, description: str, retry_after: int) -> None:
        super().__init__(description)
        self.description = description
        self.retry_after = retry_after


class StoreUnavailableError(Exception):
    """The shared store does not answer; try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the rate-limit store does not answer; retry in {retry_after} seconds")
        self.retry_after = retry_after


class TokenError(Exception):
    """The token cannot be accepted; the message is safe to show to the client."""


class RefreshError(Exception):
    """The refresh token cannot be used; ``family_revoked`` when it was a replay."""

    def __init__(self, description: str, family_revoked: str | None = None) -> None:
        super().__init__(description)
        self.family_revoked = family_revoked
