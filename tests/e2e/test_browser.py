"""Each version's Swagger UI in a real headless Chromium, with the gateway direct and behind nginx.

A user opens ``/apiv<N>/docs``, authorizes with a username and password, and executes requests
from the page. The page must post the password grant to its own version's token route (under the
proxy prefix too: STANDARDS 19), load nothing from anywhere but the gateway (20), and keep one
version's persisted authorization out of another version's page on the same origin (21).

Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright's sync API; Playwright's own
browser download is never used. When a test fails, a screenshot of its page is saved under the
temporary folder and its path printed with the test's teardown output.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, Request, expect, sync_playwright

from tests.conftest import PASSWORD
from tests.e2e.conftest import PHASE_REPORTS, Server, get_token
from tests.e2e.nginx import Nginx

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium for the module's tests; each test gets a fresh context (no shared storage).

    Module scope rather than session scope on purpose: while Playwright's sync API is running it
    marks its event loop as the thread's running loop, so any anyio test collected after this
    module (tests/gateway, tests/versions) would fail with "Cannot run the event loop while
    another loop is running". The module's tests run together, so this still launches one browser.
    """
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(
            f"Chromium is not installed ({CHROMIUM} is missing): install the Debian package "
            "with `apt-get install chromium` (or run `make system-deps` as root)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    yield opened
    call = request.node.stash.get(PHASE_REPORTS, {}).get("call")
    if call is not None and call.failed:
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        path = Path(tempfile.gettempdir()) / f"e2e-{name}.png"
        opened.screenshot(path=path, full_page=True)
        print(f"screenshot of the failed page: {path}", file=sys.stderr)
    context.close()


@pytest.fixture
def requests_made(page: Page) -> list[Request]:
    """Every request the page makes, in order."""
    seen: list[Request] = []

    def record(request: Request) -> None:  # Playwright needs a function, not a bound builtin
        seen.append(request)

    page.on("request", record)
    return seen


@pytest.fixture(params=["direct", "proxy"])
def gateway_url(request: pytest.FixtureRequest) -> str:
    """Where the browser finds the gateway: uvicorn itself, or nginx's ``/gw`` prefix."""
    if request.param == "direct":
        server: Server = request.getfixturevalue("server")
        return server.url
    proxy: Nginx = request.getfixturevalue("proxy")
    return proxy.gateway_url


class SwaggerUI:
    """A Swagger UI page, driven the way a person does: buttons, dialogs, form fields."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self, url: str) -> None:
        self.page.goto(url)
        # The schema is loaded and rendered once the operations are on the page.
        expect(self.page.locator(".opblock").first).to_be_visible()

    def authorize(self, username: str = "alice", password: str = PASSWORD) -> None:
        """Log in through the Authorize dialog's password flow, then close the dialog."""
        self.page.locator("button.authorize").click()
        dialog = self.page.locator(".modal-ux")
        dialog.locator("input#oauth_username").fill(username)
        dialog.locator("input#oauth_password").fill(password)
        dialog.locator("button.modal-btn.auth.authorize").click()
        # Swagger UI swaps the dialog's Authorize button for Logout once it holds a token.
        expect(dialog.locator("button.modal-btn.auth", has_text="Logout")).to_be_visible()
        dialog.locator("button.modal-btn.auth.btn-done").click()
        expect(dialog).to_be_hidden()

    def operation(self, method: str, path: str) -> Locator:
        summary_path = self.page.locator(
            ".opblock-summary-path", has_text=re.compile(f"^{re.escape(path)}$")
        )
        return self.page.locator(f".opblock.opblock-{method.lower()}").filter(has=summary_path)

    def execute(self, method: str, path: str, **parameters: str) -> tuple[int, str]:
        """Expand an operation, "Try it out", fill in ``parameters`` by name, "Execute": the
        status and body the page shows. A request body is the example the page fills in."""
        operation = self.operation(method, path)
        operation.locator(".opblock-summary").click()
        operation.locator("button.try-out__btn").click()
        for name, value in parameters.items():
            operation.locator(f'tr[data-param-name="{name}"] input').fill(value)
        operation.locator("button.execute").click()
        response = operation.locator(".live-responses-table tbody tr.response")
        expect(response).to_be_visible()
        # The status cell reads "401\nUndocumented" for a status the schema does not list.
        status = response.locator(".response-col_status").inner_text().split()[0]
        body = response.locator(".response-col_description .microlight").first.inner_text()
        return int(status), body


def token_requests(requests: list[Request]) -> list[tuple[str, str]]:
    return [(r.method, r.url) for r in requests if urlsplit(r.url).path.endswith("/token")]


def assert_all_local(requests: list[Request], gateway_url: str) -> None:
    """No request left the machine, and none went around the proxy to the gateway."""
    assert requests
    assert {urlsplit(r.url).hostname for r in requests} == {"127.0.0.1"}
    origin = urlsplit(gateway_url)
    assert {urlsplit(r.url)[:2] for r in requests} == {origin[:2]}


def test_authorize_and_call_users_me(
    page: Page, requests_made: list[Request], gateway_url: str, version: int
) -> None:
    docs = SwaggerUI(page)
    docs.open(f"{gateway_url}/apiv{version}/docs")
    docs.authorize()
    status, body = docs.execute("GET", "/users/me")

    assert status == 200, body
    assert json.loads(body)["username"] == "alice"
    assert token_requests(requests_made) == [("POST", f"{gateway_url}/apiv{version}/token")]
    (me,) = [r for r in requests_made if r.url == f"{gateway_url}/apiv{version}/users/me"]
    assert me.headers["authorization"].startswith("Bearer ")
    assert_all_local(requests_made, gateway_url)


def test_list_items_in_v2(page: Page, requests_made: list[Request], gateway_url: str) -> None:
    bearer = {"Authorization": f"Bearer {get_token(gateway_url, 2)}"}
    created = httpx.post(  # so that the page has at least one item to show
        f"{gateway_url}/apiv2/items/",
        json={"title": "shown in Swagger UI", "price": {"amount": "3.50", "currency": "EUR"}},
        headers=bearer,
        timeout=10,
    )
    assert created.status_code == 201, created.text

    docs = SwaggerUI(page)
    docs.open(f"{gateway_url}/apiv2/docs")
    docs.authorize()
    status, body = docs.execute("GET", "/items/")

    assert status == 200, body
    shown: dict[str, Any] = json.loads(body)
    # What the page shows is the API's own answer to the request the page sent.
    items_path = urlsplit(f"{gateway_url}/apiv2/items/").path
    (listing,) = [r for r in requests_made if urlsplit(r.url).path == items_path]
    assert shown == httpx.get(listing.url, headers=bearer, timeout=10).json()
    assert set(shown) == {"data", "next_cursor"}
    assert shown["data"]
    assert set(shown["data"][0]) == {"id", "title", "price", "tags", "created_at"}
    assert listing.headers["authorization"].startswith("Bearer ")
    assert_all_local(requests_made, gateway_url)


def test_create_and_read_an_item_in_v1(
    page: Page, requests_made: list[Request], gateway_url: str
) -> None:
    docs = SwaggerUI(page)
    docs.open(f"{gateway_url}/apiv1/docs")
    docs.authorize()
    status, body = docs.execute("POST", "/items/")  # the page's example: {name, price: 9.99}

    assert status == 201, body
    created: dict[str, Any] = json.loads(body)
    assert set(created) == {"id", "name", "price"}
    assert created["price"] == 9.99
    status, body = docs.execute("GET", "/items/{item_id}", item_id=str(created["id"]))

    assert status == 200, body
    assert json.loads(body) == created
    assert token_requests(requests_made) == [("POST", f"{gateway_url}/apiv1/token")]
    calls = [(r.method, urlsplit(r.url).path) for r in requests_made if "/items/" in r.url]
    items_path = urlsplit(f"{gateway_url}/apiv1/items/").path
    assert calls == [("POST", items_path), ("GET", f"{items_path}{created['id']}")]
    # What the page shows is the API's own answer, read back in v2's shape too.
    bearer = {"Authorization": f"Bearer {get_token(gateway_url, 2)}"}
    in_v2 = httpx.get(f"{gateway_url}/apiv2/items/{created['id']}", headers=bearer, timeout=10)
    assert in_v2.json()["title"] == created["name"]
    assert in_v2.json()["price"] == {"amount": "9.99", "currency": "USD"}
    assert_all_local(requests_made, gateway_url)


def test_authorizing_v1_does_not_authorize_v2(
    page: Page, requests_made: list[Request], gateway_url: str
) -> None:
    v1 = SwaggerUI(page)
    v1.open(f"{gateway_url}/apiv1/docs")
    v1.authorize()

    v2 = SwaggerUI(page)  # same page, so same origin and same persisted authorization
    v2.open(f"{gateway_url}/apiv2/docs")
    # The page-wide Authorize button shows locked here as soon as anything is persisted for the
    # origin, whichever scheme it is for; the operation's own padlock tells whether the page
    # would send a token. A 401 alone proves nothing either: a leaked v1 token is refused by v2
    # for its audience. So check the padlock and the request itself.
    me_lock = v2.operation("GET", "/users/me").locator("button.authorization__btn")
    expect(me_lock).to_have_attribute("aria-label", "authorization button unlocked")
    status, body = v2.execute("GET", "/users/me")
    assert status == 401, body
    (v2_me,) = [r for r in requests_made if r.url == f"{gateway_url}/apiv2/users/me"]
    assert "authorization" not in v2_me.headers

    # Control: the authorization did persist, for the version it was made in.
    v1.open(f"{gateway_url}/apiv1/docs")
    status, body = v1.execute("GET", "/users/me")
    assert status == 200, body
    assert json.loads(body)["username"] == "alice"
    assert token_requests(requests_made) == [("POST", f"{gateway_url}/apiv1/token")]
    assert_all_local(requests_made, gateway_url)
