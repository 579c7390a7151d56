"""Per-address limits behind a proxy on another host: ``server.trusted_proxies``.

Loopback addresses other than 127.0.0.1 stand in for other hosts: nginx connects to the gateway
from 127.0.0.9 (``proxy_bind``), clients bind to 127.0.0.2 to .5. The gateway trusts only
127.0.0.9, so the address nginx forwards counts, and a client that connects directly is counted
by its own address whatever ``X-Forwarded-For`` it sends. With ``--workers 2`` the limits live
in a Redis of the test's own, so that both workers count against one budget.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import Server, Workdir, free_port, start_server
from tests.e2e.nginx import MISSING as NGINX_MISSING
from tests.e2e.nginx import NGINX, Nginx, start_nginx
from tests.e2e.services import own_redis

pytestmark = pytest.mark.e2e

PROXY_ADDRESS = "127.0.0.9"
PER_ADDRESS = 3


@pytest.fixture(scope="module", params=[1, 2], ids=["one-worker", "two-workers"])
def proxied(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Nginx]]:
    """A gateway trusting only nginx's address, and that nginx, connecting from it.

    Shared by the tests of one worker count; each test spends the budgets of addresses of its
    own.
    """
    if not (NGINX.is_file() and os.access(NGINX, os.X_OK)):
        pytest.skip(NGINX_MISSING)
    workers: int = request.param
    tmp_path = tmp_path_factory.mktemp(f"trusted-proxies-{workers}")
    with ExitStack() as stack:
        workdir = Workdir.create(tmp_path / "gateway")
        workdir.env["GATEWAY_RATELIMIT__LOGIN_PER_ADDRESS"] = f"{PER_ADDRESS}/minute"
        workdir.env["GATEWAY_SERVER__TRUSTED_PROXIES"] = json.dumps([PROXY_ADDRESS])
        if workers > 1:
            redis = stack.enter_context(own_redis())
            workdir.env["GATEWAY_RATELIMIT__STORAGE_URL"] = redis.url
        workdir.add_user("alice")
        server = start_server(workdir, "--workers", str(workers))
        stack.callback(server.stop)
        proxy = start_nginx(tmp_path / "nginx", free_port(), server.port, proxy_bind=PROXY_ADDRESS)
        stack.callback(proxy.stop)
        yield server, proxy


def client_from(address: str, base_url: str) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(transport=transport, base_url=base_url, timeout=30)


def log_in(client: httpx.Client, path: str, headers: dict[str, str] | None = None) -> int:
    form = {"grant_type": "password", "username": "alice", "password": PASSWORD}
    return client.post(path, data=form, headers=headers).status_code


def test_clients_behind_a_trusted_proxy_have_budgets_of_their_own(
    proxied: tuple[Server, Nginx],
) -> None:
    _, proxy = proxied
    path = f"{proxy.prefix}/apiv1/token"
    with client_from("127.0.0.2", proxy.url) as first, client_from("127.0.0.3", proxy.url) as other:
        assert [log_in(first, path) for _ in range(PER_ADDRESS)] == [200] * PER_ADDRESS
        assert log_in(first, path) == 429
        # Same proxy, another client: a budget of its own, not the proxy's spent one.
        assert [log_in(other, path) for _ in range(PER_ADDRESS)] == [200] * PER_ADDRESS
        assert log_in(other, path) == 429


def test_a_direct_client_is_counted_by_its_own_address_whatever_it_forwards(
    proxied: tuple[Server, Nginx],
) -> None:
    server, proxy = proxied
    path = f"{proxy.prefix}/apiv1/token"
    with client_from("127.0.0.5", proxy.url) as behind_proxy:
        assert [log_in(behind_proxy, path) for _ in range(PER_ADDRESS)] == [200] * PER_ADDRESS
    with client_from("127.0.0.4", server.url) as direct:
        # Claiming to be the spent 127.0.0.5 does not spend its budget: 127.0.0.4 is not trusted.
        assert log_in(direct, "/apiv1/token", {"X-Forwarded-For": "127.0.0.5"}) == 200
        # Nor does a new address per attempt buy a new budget.
        forged = [
            log_in(direct, "/apiv1/token", {"X-Forwarded-For": f"10.0.0.{n}"}) for n in range(3)
        ]
        assert forged == [200] * (PER_ADDRESS - 1) + [429]
