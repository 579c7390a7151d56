"""Password hashing: argon2id through pwdlib, always off the event loop.

An argon2id verify costs a few hundred milliseconds of CPU by design. Run on the event loop it
would stall every other request, so each hash or verify runs in a thread of a small pool of its
own, one per CPU, which keeps a burst of logins from running dozens of 64 MiB hashes at once.

argon2-cffi releases the GIL while it hashes, so those threads compete with the event loop for
the CPU only: on Linux each pool thread lowers its own scheduling priority (a thread's nice
value is its own there), and a burst of logins then takes the CPU the rest of the traffic
leaves, instead of slowing every other request down.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import TypeVar

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


T = TypeVar("T")
LOW_PRIORITY = 19  # the lowest: hashing runs when nothing else wants the CPU


def _lower_priority() -> None:
    # Raising one's nice value needs no privilege; where threads cannot be reniced, hashing
    # still runs, at normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOW_PRIORITY)


class Passwords:
    """Hash and verify passwords without blocking the event loop."""

    def __init__(self, concurrency: int | None = None) -> None:
        self._pool = ThreadPoolExecutor(
            max_workers=concurrency or os.cpu_count() or 1,
            thread_name_prefix="argon2",
            initializer=_lower_priority,
        )

    async def _run(self, work: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, work, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def hash(self, password: str) -> str:
        return await self._run(_hasher().hash, password)

    async def verify(self, password: str, stored_hash: str | None) -> tuple[bool, str | None]:
        """Check ``password`` against ``stored_hash`` (``None`` for an unknown user).

        Returns whether it matched and, when the stored hash uses outdated parameters, a fresh
        hash to store in its place. An unknown user still pays for one full verify.
        """
        return await self._run(_verify, password, stored_hash)

    async def warm_up(self) -> None:
        """Compute the dummy hash now, so the first unknown-user login is not slower."""
        await self._run(_dummy_hash)


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
