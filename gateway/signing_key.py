"""The token signing key: configured, or created once for a local run.

Secrets never sit in a committed file. When no key is configured, the gateway creates a random one
in ``auth.secret_key_file`` (readable by its owner only), says so in the log, and reuses it on every
later start, so tokens survive a restart and all worker processes sign with the same key.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from gateway.errors import SettingsError
from gateway.settings import AuthSettings, check_key_length

log = logging.getLogger("gateway")


def resolve_signing_key(auth: AuthSettings) -> str:
    if auth.secret_key is not None:
        return auth.secret_key.get_secret_value()
    path = auth.secret_key_file
    try:
        key = _create(path)
        log.warning(
            "created a signing key in %s (owner-only); set auth.secret_key or "
            "GATEWAY_AUTH__SECRET_KEY to choose your own",
            path,
        )
    except FileExistsError:
        key = _read(path)
    check_key_length(key, auth.algorithm, f"the signing key in {path}")
    return key


def _create(path: Path) -> str:
    key = secrets.token_urlsafe(48)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(key)
        try:
            # link() fails if the name exists: when several workers start at once, exactly one
            # key wins, and nobody ever reads a half-written file.
            os.link(temporary, path)
        finally:
            temporary.unlink()
    except FileExistsError:
        raise
    except OSError as error:
        raise SettingsError(
            f"cannot create the signing key file {path}: {error.strerror}"
        ) from None
    return key


def _read(path: Path) -> str:
    try:
        if path.stat().st_mode & 0o077:
            raise SettingsError(
                f"the signing key file {path} is readable by others; run: chmod 600 {path}"
            )
        key = path.read_text().strip()
    except OSError as error:
        raise SettingsError(f"cannot read the signing key file {path}: {error.strerror}") from None
    if not key:
        raise SettingsError(f"the signing key file {path} is empty; delete it to create a new one")
    return key
