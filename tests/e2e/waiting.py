"""Waiting for a process the tests started (the gateway, nginx) to answer."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import Any

import httpx


def wait_until_healthy(
    process: subprocess.Popen[Any], url: str, name: str, logs: Callable[[], str], seconds: float
) -> None:
    """Return once ``GET url`` answers 200; raise ``RuntimeError`` with ``logs()`` when the
    process exits first or ``seconds`` pass. Stopping the process is the caller's."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{logs()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not answer {url} with 200 in {seconds:g} s:\n{logs()}")
