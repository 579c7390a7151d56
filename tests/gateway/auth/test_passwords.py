"""Password hashing runs in low-priority threads, off the event loop."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from gateway.auth.passwords import LOW_PRIORITY, Passwords, usable_cpus

pytestmark = pytest.mark.anyio


def own_priority() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
async def test_hashing_threads_yield_the_cpu_to_the_event_loop() -> None:
    passwords = Passwords()
    try:
        assert await passwords._run(own_priority) == LOW_PRIORITY
        assert await passwords._run(os.sched_getscheduler, 0) == os.SCHED_IDLE
        # The event loop's thread keeps its priority.
        assert own_priority() != LOW_PRIORITY
        assert os.sched_getscheduler(0) == os.SCHED_OTHER
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


@pytest.mark.skipif(sys.platform != "linux", reason="CPU affinity is Linux's")
def test_one_hashing_thread_per_cpu_the_process_may_use() -> None:
    allowed = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(allowed)})
        assert usable_cpus() == 1
    finally:
        os.sched_setaffinity(0, allowed)
    assert usable_cpus() == len(allowed)
