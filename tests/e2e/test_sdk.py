"""An SDK generated from each version's ``/apiv<N>/openapi.json`` works against the real gateway.

openapi-python-client is a widely used generator: it names methods after operationIds and
classes after schema titles, and it leaves out, with a warning, whatever it cannot follow. Each
version's client is generated once per session, with no warning allowed, then used as a user
would: log in, create, read and list items, and check that the answers are the generated,
typed classes.
"""

from __future__ import annotations

import datetime
import importlib
import re
import subprocess
import sys
import typing
from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

# What the generator reports when it leaves something out of the client.
WARNINGS = ("Warning", "Unable to parse", "duplicate", "will be omitted")
GENERATED = re.compile(r"^apiv[0-9]+_client(\.|$)")


class Sdk:
    """A generated client package, imported: ``sdk.api("items.create_item")``."""

    def __init__(self, package: str, base_url: str) -> None:
        self.package, self.base_url = package, base_url
        self.root = importlib.import_module(package)
        self.models = importlib.import_module(f"{package}.models")

    def api(self, name: str) -> Any:
        return importlib.import_module(f"{self.package}.api.{name}")

    def login(self) -> Any:
        body = self.models.GetTokenBody(
            grant_type=self.models.GetTokenBodyGrantType.PASSWORD,
            username="alice",
            password=PASSWORD,
        )
        with self.root.Client(base_url=self.base_url) as client:
            return self.api("auth.get_token").sync(client=client, body=body)


@pytest.fixture(scope="session")
def generate(
    server: Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[int], tuple[Sdk, str]]]:
    """``generate(N)``: version N's SDK, generated once, and what the generator printed."""
    folder = tmp_path_factory.mktemp("sdks")
    # No formatter hooks: their absence would be a warning, and they change no behaviour.
    config = folder / "config.yaml"
    config.write_text("post_hooks: []\n")
    sys.path.insert(0, str(folder))

    @cache
    def make(number: int) -> tuple[Sdk, str]:
        package = f"apiv{number}_client"
        command = [
            *(sys.executable, "-m", "openapi_python_client", "generate", "--fail-on-warning"),
            *("--url", f"{server.url}/apiv{number}/openapi.json", "--meta", "none"),
            *("--config", str(config), "--output-path", str(folder / package)),
        ]
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=120,
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0, output
        return Sdk(package, f"{server.url}/apiv{number}"), output

    yield make
    sys.path.remove(str(folder))
    for name in [n for n in sys.modules if GENERATED.match(n)]:
        del sys.modules[name]


def test_the_sdk_generates_without_warnings_and_names_methods_after_routes(
    generate: Callable[[int], tuple[Sdk, str]], version: int
) -> None:
    sdk, output = generate(version)
    assert not [word for word in WARNINGS if word in output], output
    methods = {path.stem for path in Path(sdk.root.__file__).parent.glob("api/*/*.py")}
    assert {"get_token", "revoke_token", "read_me", "list_items", "create_item"} <= methods
    assert {"read_item", "delete_item"} <= methods


def test_log_in_and_read_me_through_the_sdk(
    generate: Callable[[int], tuple[Sdk, str]], version: int
) -> None:
    sdk = generate(version)[0]
    token = sdk.login()
    assert isinstance(token, sdk.models.TokenResponse), token
    assert token.token_type.lower() == "bearer"
    with sdk.root.AuthenticatedClient(base_url=sdk.base_url, token=token.access_token) as client:
        me = sdk.api("users.read_me").sync(client=client)
    assert isinstance(me, sdk.models.UserOut), me
    assert me.username == "alice"


def test_create_read_and_list_items_through_the_sdk(
    generate: Callable[[int], tuple[Sdk, str]], version: int
) -> None:
    sdk = generate(version)[0]
    models = sdk.models
    token = sdk.login()
    with sdk.root.AuthenticatedClient(base_url=sdk.base_url, token=token.access_token) as client:
        body, check_item = _item_shape(models)
        created = sdk.api("items.create_item").sync(client=client, body=body)
        assert isinstance(created, models.ItemOut), created  # the 201's body, not None
        assert isinstance(created.id, int)
        check_item(created)
        read = sdk.api("items.read_item").sync(client=client, item_id=created.id)
        assert isinstance(read, models.ItemOut), read
        assert read.to_dict() == created.to_dict()
        listed = _list_all(sdk, client)
    assert all(isinstance(item, models.ItemOut) for item in listed)
    assert created.to_dict() in [item.to_dict() for item in listed]


def _item_shape(models: ModuleType) -> tuple[Any, Callable[[Any], None]]:
    """A new item's body and a check of the item returned, for the item shape of the version:
    v1's ``{name, price}`` with a number, or v2's ``{title, price: {amount, currency}}``."""
    if hasattr(models, "ItemIn"):  # v1
        assert typing.get_type_hints(models.ItemOut)["price"] is float

        def check_v1(item: Any) -> None:
            assert (item.name, item.price) == ("sdk kettle", 12.5)
            assert isinstance(item.price, float)

        return models.ItemIn(name="sdk kettle", price=12.5), check_v1
    if hasattr(models, "ItemCreate"):  # v2: the price's two schemas are two classes
        assert typing.get_type_hints(models.PriceOutput)["amount"] is str

        def check_v2(item: Any) -> None:
            assert item.title == "sdk kettle"
            assert isinstance(item.price, models.PriceOutput)
            assert isinstance(item.price.amount, str)  # a decimal, sent as a string
            assert (Decimal(item.price.amount), item.price.currency) == (Decimal("12.5"), "EUR")
            assert isinstance(item.created_at, datetime.datetime)
            assert item.tags == ["sdk"]

        price = models.PriceInput(amount="12.50", currency="EUR")
        return models.ItemCreate(title="sdk kettle", price=price, tags=["sdk"]), check_v2
    raise AssertionError(f"no item shape known for models {sorted(dir(models))}: add it here")


def _list_all(sdk: Sdk, client: Any) -> list[Any]:
    list_items = sdk.api("items.list_items")
    if not hasattr(sdk.models, "ItemPage"):
        page = list_items.sync(client=client, limit=1000)
        assert isinstance(page, list), page
        return page
    items: list[Any] = []
    cursor: Any = sdk.root.types.UNSET
    while True:
        page = list_items.sync(client=client, limit=100, cursor=cursor)
        assert isinstance(page, sdk.models.ItemPage), page
        items += page.data
        if not isinstance(page.next_cursor, str):
            return items
        cursor = page.next_cursor
