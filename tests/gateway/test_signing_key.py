"""With no configured key, a local run creates one (owner-only) once and reuses it."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from gateway import SettingsError
from gateway.settings import AuthSettings
from gateway.signing_key import resolve_signing_key


def test_configured_key_is_used(tmp_path: Path) -> None:
    auth = AuthSettings(secret_key="c" * 32, secret_key_file=tmp_path / "key")
    assert resolve_signing_key(auth) == "c" * 32
    assert not (tmp_path / "key").exists()


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
