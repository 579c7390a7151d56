"""Password hashing: argon2id through pwdlib, always off the event loop.

An argon2id verify costs a few hundred milliseconds of CPU by design. Run on the event loop it
would stall every other request, so each hash or verify runs in a thread of a small pool of its
own, one per CPU the process may use, which keeps a burst of logins from running dozens of
64 MiB hashes at once.

argon2-cffi releases the GIL while it hashes, so those threads compete with the event loop for
the CPU only. On Linux each pool thread puts itself in the ``SCHED_IDLE`` class (a thread's
scheduling policy is its own there): it runs only on CPU time nothing else wants, and the event
loop, waking for a request, takes the CPU from it at once. A nice value of 19 alone is not
enough: the scheduler lets a nice-19 thread finish its slice first, milliseconds that every
request arriving during a login burst would wait. Where the class cannot be set, the thread
still has nice 19, else normal priority.

Hashes use one lane (``p=1``, OWASP's choice too) instead of argon2-cffi's four. With four,
libargon2 starts a thread per lane for every slice of every pass, 48 threads per verify, and
the kernel places each new thread at the run queue's average virtual runtime, ahead of an event
loop that has used its share, ``SCHED_IDLE`` or not: a request arriving then waited for them,
milliseconds at a time (docs/bench.md). One lane costs the same CPU; it gives up only the
spreading of one login over several idle cores, which a pool of one verify per CPU does anyway
under load. Hashes stored with four lanes are rehashed at the next login; until then, on a
machine with idle cores, a wrong password for such a user is answered sooner than one for an
unknown user (whose verify runs against a one-lane dummy), which tells that the user exists.
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
def password_hasher() -> PasswordHash:
    """What the gateway hashes and verifies with: argon2id, t=3, m=64 MiB (argon2-cffi's
    defaults, above OWASP's minimum of t=2, m=19 MiB), one lane."""
    return PasswordHash((Argon2Hasher(parallelism=1),))


@cache
def _dummy_hash() -> str:
    # A real hash of a random password, so an unknown user costs the same verify as a known one.
    return password_hasher().hash(secrets.token_urlsafe(32))


T = TypeVar("T")
LOW_PRIORITY = 19  # the lowest nice value


def _lower_priority() -> None:
    # Lowering one's own priority needs no privilege; sched_setscheduler(0, ...) applies to
    # the calling thread on Linux. The nice value is what is left where SCHED_IDLE is not.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOW_PRIORITY)
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def usable_cpus() -> int:
    """The CPUs this process may run on: fewer than the machine's under taskset or a cgroup
    cpuset. More hashing threads than that only queue behind each other, and argon2's own
    lane threads (four per hash) with them, while holding the GIL at the worst moments."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class Passwords:
    """Hash and verify passwords without blocking the event loop."""

    def __init__(self, concurrency: int | None = None) -> None:
        self._pool = ThreadPoolExecutor(
            max_workers=concurrency or usable_cpus(),
            thread_name_prefix="argon2",
            initializer=_lower_priority,
        )

    async def _run(self, work: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, work, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def hash(self, password: str) -> str:
        return await self._run(password_hasher().hash, password)

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
        password_hasher().verify(password, _dummy_hash())
        return False, None
    try:
        return password_hasher().verify_and_update(password, stored_hash)
    except UnknownHashError:
        # A hash from a scheme we no longer know cannot match; still spend the usual time.
        password_hasher().verify(password, _dummy_hash())
        return False, None
