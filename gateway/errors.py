"""The gateway's error vocabulary.

Every problem that should stop startup (or a CLI command) is a ``GatewayError``: its message is one
line that names the cause and, where possible, how to fix it. The CLI prints that line and exits
non-zero; nothing else needs to know the subclasses, but tests and callers can tell them apart.
"""


class GatewayError(Exception):
    """A problem the operator must fix; ``str(error)`` is one line that says what and where."""


class SettingsError(GatewayError):
    """The settings file or environment holds a value the gateway cannot run with."""


class VersionLoadError(GatewayError):
    """A version module could not be imported, lacks ``app``, or repeats a version number."""


class UserError(GatewayError):
    """A user-management request cannot be carried out (unknown user, duplicate, bad scope)."""
