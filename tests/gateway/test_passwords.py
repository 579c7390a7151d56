"""Password hashing runs in low-priority threads, off the event loop."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from gateway.passwords import LOW_PRIORITY, Passwords

pytestmark = pytest.mark.anyio


def own_priority() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
async def test_hashing_threads_yield_the_cpu_to_the_event_loop() -> None:
    passwords = Passwords()
    try:
        assert await passwords._run(own_priority) == LOW_PRIORITY
        assert own_priority() != LOW_PRIORITY  # the event loop's thread keeps its priority
        assert await passwords._run(threading.current_thread) is not threading.current_thread()
    finally:
        passwords.close()


async def test_hash_and_verify() -> None:
    passwords = Passwords()
    try:
        stored = await passwords.hash("a good password")
        assert await passwords.verify("a good password", stored) == (True, None)
        assert await passwords.verify("a bad password", stored) == (False, None)
        assert await passwords.verify("anything", None) == (False, None)
    finally:
        passwords.close()
