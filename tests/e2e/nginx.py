"""A real nginx reverse proxy for end-to-end tests, run as a child process of the test session.

``start_nginx(folder, port, upstream_port)`` writes a configuration of its own into ``folder``
(prefix, pid file, error and access logs, temporary files: nothing outside it), starts ``nginx``
in the foreground on ``127.0.0.1:port`` and waits until it answers. ``location /gw/`` passes
requests to the gateway with the prefix stripped, as a deployment under a path prefix does, with
the forwarding headers of uvicorn's deployment guide. ``proxy_bind`` makes nginx connect to the
gateway from another loopback address, as a proxy on another host would.
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.waiting import wait_until_healthy

NGINX = Path("/usr/sbin/nginx")
MISSING = (
    f"nginx is not installed ({NGINX} is missing): install the Debian package with "
    "`apt-get install nginx` (or run `make system-deps` as root)"
)

CONFIG = """\
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
lock_file {folder}/nginx.lock;
error_log {folder}/error.log info;
{user}
events {{
    worker_connections 256;
}}

http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;

    server {{
        listen 127.0.0.1:{port};
        server_name 127.0.0.1;

        location {prefix}/ {{
            proxy_pass http://127.0.0.1:{upstream_port}/;
            {proxy_bind}
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
        }}
    }}
}}
"""


@dataclass
class Nginx:
    """A running nginx; ``url`` is its origin and ``prefix`` the path the gateway is served at."""

    process: subprocess.Popen[bytes]
    port: int
    folder: Path
    prefix: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def gateway_url(self) -> str:
        """Where a client reaches the gateway through the proxy: ``url`` plus the prefix."""
        return self.url + self.prefix

    def logs(self) -> str:
        parts = []
        for name in ("output.log", "error.log", "access.log"):
            path = self.folder / name
            if path.exists():
                parts.append(f"--- {name}\n{path.read_text(errors='replace')}")
        return "\n".join(parts)

    def stop(self) -> None:
        """Graceful shutdown (SIGQUIT lets the workers finish), then force if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_nginx(
    folder: Path,
    port: int,
    upstream_port: int,
    prefix: str = "/gw",
    proxy_bind: str | None = None,
) -> Nginx:
    """Start nginx on ``127.0.0.1:port``, passing ``prefix/...`` to ``127.0.0.1:upstream_port/...``.

    Returns once a request for the gateway's ``/healthz`` comes back through the proxy.
    """
    folder.mkdir(parents=True, exist_ok=True)
    # Run as root, nginx hands requests to workers running as "nobody", who could not reach
    # temporary files under the test's private folder; keep the workers as the current user.
    user = "user root root;" if os.geteuid() == 0 else ""
    config = folder / "nginx.conf"
    config.write_text(
        CONFIG.format(
            folder=folder,
            port=port,
            upstream_port=upstream_port,
            prefix=prefix,
            user=user,
            proxy_bind=f"proxy_bind {proxy_bind};" if proxy_bind else "",
        )
    )
    with (folder / "output.log").open("wb") as sink:
        process = subprocess.Popen(
            [str(NGINX), "-p", f"{folder}/", "-c", str(config), "-e", str(folder / "error.log")],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    proxy = Nginx(process, port, folder, prefix)
    try:
        wait_until_healthy(process, proxy.gateway_url + "/healthz", "nginx", proxy.logs, 15)
    except RuntimeError:
        proxy.stop()
        raise
    return proxy
