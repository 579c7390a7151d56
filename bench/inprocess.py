"""The cost of one request inside the process, without a server or a network: for profiling.

    python -m bench.inprocess [--requests N] [--profile G|R1|R2] [--top N]

wrk through uvicorn measures what a client sees, but between two runs it cannot say which
function a change made cheaper. This calls each app's ASGI entry directly, in a loop on one
event loop (uvloop), with the scope uvicorn would build for ``GET /apiv1/ping`` and a bearer
token, and prints microseconds per request (best of five loops) for:

- R1 and R2, the references of ``make bench`` (``bench/apps``), and R1-open (no dependency);
- G, the gateway built by ``create_app`` around the bench version module (JSON access log on,
  written to /dev/null through the gateway's own writer, as under ``gateway serve``), and
  G-open, its route with no authentication.

``--profile NAME`` then runs NAME's loop under cProfile and prints the functions that take the
most time of their own. Profiling inflates every call's cost, short ones most: read it for where
time goes, and these microseconds (without the profiler) for how much a change saved.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import uvloop

from bench.harness import APPS, GATEWAY, GENEROUS_LIMIT, ISSUER, USERNAME, resign

PATH = "/apiv1/ping"
OPEN_PATH = "/apiv1/open"
PACKAGE = "inprocess_versions"
PASSWORD = secrets.token_urlsafe(18)
ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def scope(path: str, headers: list[tuple[bytes, bytes]], method: str = "GET") -> dict[str, Any]:
    """What uvicorn passes an app for one HTTP/1.1 request."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": method,
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "state": {},
    }


async def call(app: ASGIApp, request: dict[str, Any], body: bytes = b"") -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(dict(request), receive, send)
    return sent


async def per_request(app: ASGIApp, request: dict[str, Any], count: int) -> float:
    """Microseconds per request: the best of five loops of ``count``, after a warm-up."""
    answer = await call(app, request)
    if answer[0]["status"] != 200:
        raise SystemExit(f"{request['path']} answered {answer[0]['status']}: {answer[1:]}")
    for _ in range(count // 5):
        await call(app, request)
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(count):
            await call(app, request)
        best = min(best, (time.perf_counter() - started) / count)
    return best * 1e6


def make_folder(folder: Path, secret_key: str) -> None:
    """A versions package holding the bench version module, settings and one user."""
    package = folder / PACKAGE
    package.mkdir()
    (package / "__init__.py").write_text("")
    shutil.copyfile(APPS / "gateway_version.py", package / "v1.py")
    (folder / "settings.toml").write_text(
        f'[auth]\nsecret_key = "{secret_key}"\nissuer = "{ISSUER}"\n'
        f'[database]\nurl = "sqlite+aiosqlite:///{folder}/gateway.db"\n'
        f'[versions]\npackage = "{PACKAGE}"\n'
        f'[ratelimit]\nauthenticated = "{GENEROUS_LIMIT}"\n'
        f'login_per_account = "{GENEROUS_LIMIT}"\nlogin_per_address = "{GENEROUS_LIMIT}"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    subprocess.run(
        [str(GATEWAY), "users", "add", USERNAME, "--password-stdin"],
        cwd=folder,
        env=env | {"PYTHONPATH": str(folder)},
        input=PASSWORD + "\n",
        text=True,
        capture_output=True,
        check=True,
    )


async def measure(count: int, profile: str | None, top: int, access_log: TextIO) -> None:
    # Imported here: the gateway reads its settings from the folder made above.
    from gateway import create_app, load_settings
    from gateway.observability.access_log import send_access_log_to

    secret = load_settings().auth.secret_key
    assert secret is not None
    secret_key = secret.get_secret_value()
    os.environ["BENCH_SECRET_KEY"] = secret_key
    from bench.apps import fastapi_bare, fastapi_jwt

    send_access_log_to(access_log)
    gateway: Any = create_app(load_settings())
    async with gateway.router.lifespan_context(gateway):
        form = f"grant_type=password&username={USERNAME}&password={PASSWORD}".encode()
        login = scope(
            "/apiv1/token",
            [(b"content-type", b"application/x-www-form-urlencoded")],
            method="POST",
        )
        answer = await call(gateway, login, form)
        token = json.loads(answer[1]["body"])["access_token"]
        bearer = [(b"authorization", f"Bearer {token}".encode())]
        own = [(b"authorization", f"Bearer {resign(token, secret_key)}".encode())]
        targets: dict[str, tuple[ASGIApp, dict[str, Any]]] = {
            "R1": (fastapi_bare.app, scope(PATH, bearer)),
            "R1-open": (fastapi_bare.app, scope(OPEN_PATH, [])),
            "R2": (fastapi_jwt.app, scope(PATH, own)),
            "G": (gateway, scope(PATH, bearer)),
            "G-open": (gateway, scope(OPEN_PATH, [])),
        }
        for name, (app, request) in targets.items():
            print(f"{name:8} {await per_request(app, request, count):7.1f} us per request")
        if profile:
            app, request = targets[profile]
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(count):
                await call(app, request)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000, metavar="N")
    parser.add_argument("--profile", choices=["R1", "R1-open", "R2", "G", "G-open"])
    parser.add_argument("--top", type=int, default=40, metavar="N")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gateway-inprocess-") as tmp:
        folder = Path(tmp)
        make_folder(folder, secrets.token_urlsafe(48))
        os.chdir(folder)
        sys.path.insert(0, str(folder))
        os.environ["GATEWAY_SETTINGS"] = str(folder / "settings.toml")
        with open(os.devnull, "w") as access_log:
            uvloop.run(measure(args.requests, args.profile, args.top, access_log))


if __name__ == "__main__":
    main()
