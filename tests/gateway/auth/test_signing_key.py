"""Signing keys: the simple form (configured, or created once, owner-only, for a local run), the
``[[auth.keys]]`` list with HMAC secrets and RS256/EdDSA PEM files, and the production refusal.
Every bad configuration stops startup with one line naming the key and, for a file, the file."""

from __future__ import annotations

import functools
import logging
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from gateway import SettingsError, load_settings
from gateway.auth.signing_keys import load_signing_keys, resolve_signing_key
from gateway.auth.tokens import Tokens, derive_kid
from gateway.settings import AuthSettings

SECRET = "s" * 40


# PEM helpers, shared with test_tokens.py and test_jwks.py.


@functools.cache
def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def write_private(path: Path, key: PrivateKeyTypes, password: bytes | None = None) -> Path:
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    return path


def write_public(path: Path, key: PrivateKeyTypes) -> Path:
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, **overrides: Any) -> Any:
    """Settings from this TOML alone, as the CLI and ``create_app`` would read them."""
    for name in [n for n in os.environ if n.startswith("GATEWAY_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "settings.toml"
    path.write_text(toml)
    return load_settings(path, **overrides)


# The simple form.


def test_configured_key_is_used(tmp_path: Path) -> None:
    auth = AuthSettings(secret_key="c" * 32, secret_key_file=tmp_path / "key")
    assert resolve_signing_key(auth) == "c" * 32
    assert not (tmp_path / "key").exists()
    [key] = load_signing_keys(auth)
    # A stable kid derived from the key: the same in every worker, new when the key changes.
    assert key.kid == derive_kid(b"c" * 32) == load_signing_keys(auth)[0].kid
    assert key.kid != derive_kid(b"d" * 32)
    assert len(key.kid) == 16
    assert key.algorithm == "HS256"
    assert key.public_jwk is None


def test_key_is_created_once_owner_only_and_reused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    auth = AuthSettings(secret_key_file=tmp_path / "var" / "secret.key")
    with caplog.at_level(logging.WARNING, logger="gateway"):
        first = resolve_signing_key(auth)
    assert "created a signing key in" in caplog.text
    assert stat.S_IMODE((tmp_path / "var" / "secret.key").stat().st_mode) == 0o600
    assert len(first.encode()) >= 32
    assert resolve_signing_key(auth) == first
    assert list((tmp_path / "var").iterdir()) == [tmp_path / "var" / "secret.key"]


def test_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text("k" * 40)
    path.chmod(0o644)
    with pytest.raises(SettingsError, match=r"readable by others; run: chmod 600"):
        resolve_signing_key(AuthSettings(secret_key_file=path))


def test_short_key_in_the_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text("short")
    path.chmod(0o600)
    with pytest.raises(SettingsError, match=r"is 5 bytes; an HS256 signing key needs at least 32"):
        resolve_signing_key(AuthSettings(secret_key_file=path))


def test_a_public_key_as_the_hmac_secret_is_refused(tmp_path: Path) -> None:
    pem = write_public(tmp_path / "public.pem", rsa_key()).read_text()
    with pytest.raises(SettingsError, match=r"^auth.secret_key cannot be used: .*asymmetric key"):
        load_signing_keys(AuthSettings(secret_key=pem))


# Production.


def test_production_refuses_to_start_without_a_configured_key(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text("k" * 40)  # a key a local run created is not a configured one
    path.chmod(0o600)
    with pytest.raises(SettingsError) as raised:
        load_signing_keys(AuthSettings(secret_key_file=path), "production")
    message = str(raised.value)
    assert "refuses to start without a configured signing key" in message
    assert "auth.secret_key (GATEWAY_AUTH__SECRET_KEY) or [[auth.keys]]" in message
    assert "\n" not in message


def test_production_accepts_a_configured_key(tmp_path: Path) -> None:
    auth = AuthSettings(secret_key=SECRET, secret_key_file=tmp_path / "secret.key")
    assert [key.kid for key in load_signing_keys(auth, "production")] == [derive_kid(b"s" * 40)]
    assert not (tmp_path / "secret.key").exists()
    listed = AuthSettings(keys=[{"kid": "a", "secret": SECRET}], secret_key_file=tmp_path / "k")
    assert [key.kid for key in load_signing_keys(listed, "production")] == ["a"]


def test_production_with_a_short_key_is_the_length_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SettingsError, match=r"auth.secret_key is 5 bytes; an HS256 signing key"):
        load(
            tmp_path,
            monkeypatch,
            '[server]\nenvironment = "production"\n[auth]\nsecret_key = "short"\n',
        )


def test_local_run_still_creates_the_key(tmp_path: Path) -> None:
    auth = AuthSettings(secret_key_file=tmp_path / "secret.key")
    [key] = load_signing_keys(auth, "local")
    assert key.kid == derive_kid((tmp_path / "secret.key").read_bytes())


# The list form.


def test_keys_of_every_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rsa_file = write_private(tmp_path / "rsa.pem", rsa_key())
    ed_public = write_public(tmp_path / "ed.pub.pem", ed25519.Ed25519PrivateKey.generate())
    settings = load(
        tmp_path,
        monkeypatch,
        f"""
[[auth.keys]]
kid = "2025-rsa"
algorithm = "RS256"
private_key_file = "{rsa_file}"

[[auth.keys]]
kid = "2024-hmac"
secret = "{SECRET}"

[[auth.keys]]
kid = "partner-ed"
algorithm = "EdDSA"
public_key_file = "{ed_public}"
""",
    )
    keys = load_signing_keys(settings.auth)
    assert [(k.kid, k.algorithm, k.signer is not None) for k in keys] == [
        ("2025-rsa", "RS256", True),
        ("2024-hmac", "HS256", True),
        ("partner-ed", "EdDSA", False),  # verify only
    ]
    tokens = Tokens(keys, active_kid=settings.auth.active_kid)
    assert tokens.active.kid == "2025-rsa"  # the first, when active_kid is not set


def test_keys_from_the_environment_as_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("GATEWAY_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv(
        "GATEWAY_AUTH__KEYS",
        f'[{{"kid": "old", "secret": "{SECRET}"}}, {{"kid": "new", '
        f'"algorithm": "HS512", "secret": "{"n" * 64}"}}]',
    )
    monkeypatch.setenv("GATEWAY_AUTH__ACTIVE_KID", "new")
    (tmp_path / "settings.toml").write_text("[auth]\nissuer = 'me'\n")
    settings = load_settings(tmp_path / "settings.toml")
    assert settings.auth.issuer == "me"  # the rest of the [auth] table is kept
    assert [key.kid for key in settings.auth.keys] == ["old", "new"]
    assert settings.auth.active_key is not None
    assert settings.auth.active_key.algorithm == "HS512"


BAD_LISTS = {
    "unknown active_kid": (
        f'[auth]\nactive_kid = "nope"\n[[auth.keys]]\nkid = "a"\nsecret = "{SECRET}"\n',
        "auth: active_kid 'nope' is none of the keys' kids: a",
    ),
    "active_kid without keys": ('[auth]\nactive_kid = "a"\n', "auth.keys is empty"),
    "duplicate kid": (
        f'[[auth.keys]]\nkid = "a"\nsecret = "{SECRET}"\n[[auth.keys]]\nkid = "a"\n'
        f'secret = "{SECRET}"\n',
        "auth: two keys have the kid 'a'",
    ),
    "both forms": (
        f'[auth]\nsecret_key = "{SECRET}"\n[[auth.keys]]\nkid = "a"\nsecret = "{SECRET}"\n',
        "auth: set either secret_key or keys, not both",
    ),
    "short secret": (
        '[[auth.keys]]\nkid = "a"\nsecret = "short"\n',
        "the secret of key 'a' in auth.keys is 5 bytes; an HS256 signing key needs at least 32",
    ),
    "short HS384 secret": (
        f'[[auth.keys]]\nkid = "a"\nalgorithm = "HS384"\nsecret = "{SECRET}"\n',
        "an HS384 signing key needs at least 48",
    ),
    "HMAC with a file": (
        '[[auth.keys]]\nkid = "a"\nprivate_key_file = "x.pem"\n',
        "auth.keys.0: key 'a': HS256 needs a secret, not key files",
    ),
    "RS256 with a secret": (
        f'[[auth.keys]]\nkid = "a"\nalgorithm = "RS256"\nsecret = "{SECRET}"\n',
        "auth.keys.0: key 'a': RS256 needs private_key_file (to sign) or public_key_file",
    ),
    "RS256 with nothing": (
        '[[auth.keys]]\nkid = "a"\nalgorithm = "RS256"\n',
        "key 'a': RS256 needs private_key_file",
    ),
    "active key without a private key": (
        '[[auth.keys]]\nkid = "a"\nalgorithm = "EdDSA"\npublic_key_file = "a.pem"\n',
        "auth: the active key 'a' signs tokens: set its private_key_file",
    ),
    "unknown algorithm": (
        f'[[auth.keys]]\nkid = "a"\nalgorithm = "none"\nsecret = "{SECRET}"\n',
        "auth.keys.0.algorithm: Input should be 'HS256'",
    ),
}


@pytest.mark.parametrize("case", BAD_LISTS)
def test_bad_key_lists_are_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    toml, message = BAD_LISTS[case]
    with pytest.raises(SettingsError) as raised:
        load(tmp_path, monkeypatch, toml)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert SECRET not in str(raised.value)  # a secret is never echoed back


def pem_settings(**key: Any) -> AuthSettings:
    return AuthSettings(keys=[{"kid": "k1", "algorithm": "RS256", **key}])


def bad_files(tmp_path: Path) -> dict[str, tuple[AuthSettings, str]]:
    ed = ed25519.Ed25519PrivateKey.generate()
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n")
    locked = write_private(tmp_path / "locked.pem", rsa_key(), password=b"pass")
    ed_file = write_private(tmp_path / "ed.pem", ed)
    mine = write_private(tmp_path / "rsa.pem", rsa_key())
    other = write_public(tmp_path / "other.pub.pem", rsa.generate_private_key(65537, 2048))
    small = write_private(tmp_path / "small.pem", rsa_key(1024))
    return {
        "missing": (
            pem_settings(private_key_file=tmp_path / "missing.pem"),
            f"auth.keys 'k1': cannot read {tmp_path / 'missing.pem'}: No such file or directory",
        ),
        "not PEM": (
            pem_settings(private_key_file=garbage),
            f"auth.keys 'k1': {garbage} is not a PEM private key",
        ),
        "encrypted": (
            pem_settings(private_key_file=locked),
            f"auth.keys 'k1': {locked} is encrypted; give an unencrypted key",
        ),
        "a private key as the public one": (
            AuthSettings(
                keys=[
                    {"kid": "main", "secret": SECRET},
                    {"kid": "k1", "algorithm": "RS256", "public_key_file": mine},
                ]
            ),
            f"auth.keys 'k1': {mine} is not a PEM public key",
        ),
        "Ed25519 key for RS256": (
            pem_settings(private_key_file=ed_file),
            f"auth.keys 'k1': {ed_file}: Ed25519PrivateKey given, but RS256 needs an RSA key",
        ),
        "RSA key for EdDSA": (
            AuthSettings(keys=[{"kid": "k1", "algorithm": "EdDSA", "private_key_file": mine}]),
            f"{mine}: RSAPrivateKey given, but EdDSA needs an Ed25519 or Ed448 key",
        ),
        "not a pair": (
            pem_settings(private_key_file=mine, public_key_file=other),
            f"auth.keys 'k1': {mine} and {other}: the private and the public key are not a pair",
        ),
        "RSA too small": (
            pem_settings(private_key_file=small),
            f"{small}: The RSA key is 1024 bits long, which is below the minimum",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "not PEM",
        "encrypted",
        "a private key as the public one",
        "Ed25519 key for RS256",
        "RSA key for EdDSA",
        "not a pair",
        "RSA too small",
    ],
)
def test_bad_key_files_are_one_line_naming_the_file(tmp_path: Path, case: str) -> None:
    auth, message = bad_files(tmp_path)[case]
    with pytest.raises(SettingsError) as raised:
        load_signing_keys(auth)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_private_and_public_files_of_one_pair(tmp_path: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    auth = AuthSettings(
        keys=[
            {
                "kid": "ed",
                "algorithm": "EdDSA",
                "private_key_file": write_private(tmp_path / "ed.pem", key),
                "public_key_file": write_public(tmp_path / "ed.pub.pem", key),
            }
        ]
    )
    [loaded] = load_signing_keys(auth)
    assert loaded.signer is not None
    assert loaded.public_jwk is not None
    assert loaded.public_jwk["crv"] == "Ed25519"
