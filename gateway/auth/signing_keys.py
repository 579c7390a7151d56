"""The token signing keys: configured, or created once for a local run.

``[[auth.keys]]`` lists keys with ids: HMAC secrets, or RS256 and EdDSA keys in PEM files, read and
checked here once at startup so that a bad file stops the gateway with one line naming it.

The simple form is one HMAC key, ``auth.secret_key``. Secrets never sit in a committed file: when
no key is configured, a local run creates a random one in ``auth.secret_key_file`` (readable by its
owner only), says so in the log, and reuses it on every later start, so tokens survive a restart
and all worker processes sign with the same key. A production run refuses to start instead: a key
nobody chose, kept on one machine's disk, would log everyone out whenever that disk is replaced.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from gateway.auth.tokens import (
    SigningKey,
    asymmetric_key,
    check_key_type,
    hmac_key,
)
from gateway.errors import KeyMaterialError, SettingsError
from gateway.settings import AuthSettings, KeySettings, check_key_length

log = logging.getLogger("gateway")


def load_signing_keys(auth: AuthSettings, environment: str = "local") -> list[SigningKey]:
    """Every configured key, prepared for ``Tokens``, in the configured order.

    Raises ``SettingsError`` for a key file that is missing, unreadable, not PEM, or of the wrong
    type for its algorithm, and in production when no key is configured at all.
    """
    if auth.keys:
        keys = [_configured_key(key) for key in auth.keys]
    elif auth.secret_key is None and environment == "production":
        raise SettingsError(
            "server.environment is production, and the gateway refuses to start without a "
            "configured signing key: set auth.secret_key (GATEWAY_AUTH__SECRET_KEY) "
            "or [[auth.keys]] (GATEWAY_AUTH__KEYS)"
        )
    else:
        try:
            keys = [hmac_key(resolve_signing_key(auth), auth.algorithm)]
        except KeyMaterialError as error:
            raise SettingsError(f"auth.secret_key cannot be used: {error}") from None
    active = auth.active_key.kid if auth.active_key else keys[0].kid
    log.info(
        "signing tokens with key %s; verifying with %s",
        active,
        ", ".join(key.kid for key in keys),
    )
    return keys


def _configured_key(key: KeySettings) -> SigningKey:
    where = f"auth.keys {key.kid!r}"
    try:
        if key.secret is not None:
            return hmac_key(key.secret.get_secret_value(), key.algorithm, kid=key.kid)
        private = _read_private(key.private_key_file, key.algorithm, where)
        public = _read_public(key.public_key_file, key.algorithm, where)
        return asymmetric_key(key.kid, key.algorithm, private_key=private, public_key=public)
    except KeyMaterialError as error:
        files = " and ".join(str(f) for f in (key.private_key_file, key.public_key_file) if f)
        raise SettingsError(f"{where}: {files or 'secret'}: {error}") from None


def _read_private(path: Path | None, algorithm: str, where: str) -> PrivateKeyTypes | None:
    if path is None:
        return None
    data = _read_pem(path, where)
    try:
        key = load_pem_private_key(data, password=None)
    except TypeError:  # cryptography's word for "encrypted, and no password given"
        raise SettingsError(f"{where}: {path} is encrypted; give an unencrypted key") from None
    except (ValueError, UnsupportedAlgorithm):
        raise SettingsError(f"{where}: {path} is not a PEM private key") from None
    _check_type(key, algorithm, path, where)
    return key


def _read_public(path: Path | None, algorithm: str, where: str) -> PublicKeyTypes | None:
    if path is None:
        return None
    try:
        key = load_pem_public_key(_read_pem(path, where))
    except (ValueError, UnsupportedAlgorithm):
        raise SettingsError(f"{where}: {path} is not a PEM public key") from None
    _check_type(key, algorithm, path, where)
    return key


def _read_pem(path: Path, where: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise SettingsError(f"{where}: cannot read {path}: {error.strerror}") from None


def _check_type(
    key: PrivateKeyTypes | PublicKeyTypes, algorithm: str, path: Path, where: str
) -> None:
    try:
        check_key_type(key, algorithm)
    except KeyMaterialError as error:
        raise SettingsError(f"{where}: {path}: {error}") from None


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
