"""Password hashing: argon2id through pwdlib, always off the event loop.

An argon2id verify costs a few hundred milliseconds of CPU by design. Run on the event loop it
would stall every other request, so each hash or verify runs in a worker thread, and a limiter
sized to the CPU count keeps a burst of logins from queueing dozens of 64 MiB hashes at once.
"""

from __future__ import annotations

import os
import secrets
from functools import cache

import anyio.to_thread
from anyio import CapacityLimiter
from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher


@cache
def _hasher() -> PasswordHash:
    # argon2-cffi's defaults (t=3, m=64 MiB, p=4) exceed OWASP's minimum (t=2, m=19 MiB, p=1).
    return PasswordHash((Argon2Hasher(),))


@cache
def _dummy_hash() -> str:
    # A real hash of a random password, so an unknown user costs the same verify as a known one.
    return _hasher().hash(secrets.token_urlsafe(32))


class Passwords:
    """Hash and verify passwords without blocking the event loop."""

    def __init__(self, concurrency: int | None = None) -> None:
        self._limiter = CapacityLimiter(concurrency or os.cpu_count() or 1)

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(_hasher().hash, password, limiter=self._limiter)

    async def verify(self, password: str, stored_hash: str | None) -> tuple[bool, str | None]:
        """Check ``password`` against ``stored_hash`` (``None`` for an unknown user).

        Returns whether it matched and, when the stored hash uses outdated parameters, a fresh
        hash to store in its place. An unknown user still pays for one full verify.
        """
        return await anyio.to_thread.run_sync(_verify, password, stored_hash, limiter=self._limiter)

    async def warm_up(self) -> None:
        """Compute the dummy hash now, so the first unknown-user login is not slower."""
        await anyio.to_thread.run_sync(_dummy_hash, limiter=self._limiter)


def _verify(password: str, stored_hash: str | None) -> tuple[bool, str | None]:
    if stored_hash is None:
        _hasher().verify(password, _dummy_hash())
        return False, None
    try:
        return _hasher().verify_and_update(password, stored_hash)
    except UnknownHashError:
        # A hash from a scheme we no longer know cannot match; still spend the usual time.
        _hasher().verify(password, _dummy_hash())
        return False, None
