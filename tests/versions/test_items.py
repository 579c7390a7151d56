"""The shipped versions: v1 and v2 read and write the same items in their own shapes."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import AddUser, bearer, login

pytestmark = pytest.mark.anyio


@pytest.fixture
async def v1(client: httpx.AsyncClient, add_user: AddUser) -> dict[str, str]:
    await add_user("alice")
    return bearer(await login(client, 1))


@pytest.fixture
async def v2(client: httpx.AsyncClient, v1: dict[str, str]) -> dict[str, str]:
    return bearer(await login(client, 2))


async def test_v1_crud(client: httpx.AsyncClient, v1: dict[str, str]) -> None:
    created = await client.post("/apiv1/items/", headers=v1, json={"name": "Pen", "price": 1.5})
    assert created.status_code == 201
    assert created.json() == {"id": 1, "name": "Pen", "price": 1.5}
    assert (await client.get("/apiv1/items/1", headers=v1)).json() == created.json()
    assert (await client.get("/apiv1/items/", headers=v1)).json() == [created.json()]
    assert (await client.delete("/apiv1/items/1", headers=v1)).status_code == 204
    missing = await client.get("/apiv1/items/1", headers=v1)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Item 1 not found"}


async def test_v1_price_is_an_exact_decimal_number(
    client: httpx.AsyncClient, v1: dict[str, str]
) -> None:
    for sent, shown in [(19.99, 19.99), ("0.10", 0.1), (1000000, 1000000.0)]:
        response = await client.post("/apiv1/items/", headers=v1, json={"name": "x", "price": sent})
        assert response.json()["price"] == shown
        assert f'"price":{shown}' in response.text


async def test_v2_crud_and_partial_update(client: httpx.AsyncClient, v2: dict[str, str]) -> None:
    body = {"title": "Lamp", "price": {"amount": "12.50", "currency": "EUR"}, "tags": ["home"]}
    created = await client.post("/apiv2/items/", headers=v2, json=body)
    assert created.status_code == 201
    item = created.json()
    assert {k: item[k] for k in body} == body
    assert item["created_at"].endswith("Z") or item["created_at"].endswith("+00:00")
    patched = await client.patch(f"/apiv2/items/{item['id']}", headers=v2, json={"tags": []})
    assert patched.status_code == 200
    assert patched.json() == {**item, "tags": []}
    patched = await client.patch(
        f"/apiv2/items/{item['id']}", headers=v2, json={"price": {"amount": "3"}}
    )
    assert patched.json()["price"] == {"amount": "3.00", "currency": "USD"}
    assert patched.json()["title"] == "Lamp"
    assert (await client.delete(f"/apiv2/items/{item['id']}", headers=v2)).status_code == 204
    assert (await client.get(f"/apiv2/items/{item['id']}", headers=v2)).status_code == 404


async def test_both_versions_share_one_store(
    client: httpx.AsyncClient, v1: dict[str, str], v2: dict[str, str]
) -> None:
    one = (await client.post("/apiv1/items/", headers=v1, json={"name": "Cup", "price": 4})).json()
    seen = (await client.get(f"/apiv2/items/{one['id']}", headers=v2)).json()
    assert seen["title"] == "Cup"
    assert seen["price"] == {"amount": "4.00", "currency": "USD"}
    assert seen["tags"] == []
    await client.patch(f"/apiv2/items/{one['id']}", headers=v2, json={"title": "Mug"})
    assert (await client.get(f"/apiv1/items/{one['id']}", headers=v1)).json()["name"] == "Mug"
    await client.delete(f"/apiv1/items/{one['id']}", headers=v1)
    assert (await client.get(f"/apiv2/items/{one['id']}", headers=v2)).status_code == 404


async def test_v2_cursor_pagination(client: httpx.AsyncClient, v2: dict[str, str]) -> None:
    for n in range(7):
        body = {"title": f"item {n}", "price": {"amount": "1"}}
        assert (await client.post("/apiv2/items/", headers=v2, json=body)).status_code == 201
    titles, cursor, pages = [], None, 0
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/apiv2/items/", headers=v2, params=params)).json()
        titles += [item["title"] for item in page["data"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert titles == [f"item {n}" for n in range(7)]
    assert pages == 3


@pytest.mark.parametrize("cursor", ["nonsense", "YWZ0ZXI6eA", "", "%%%"])
async def test_v2_bad_cursor_is_a_clear_400(
    client: httpx.AsyncClient, v2: dict[str, str], cursor: str
) -> None:
    response = await client.get("/apiv2/items/", headers=v2, params={"cursor": cursor})
    if cursor == "":
        assert response.status_code == 200  # an empty cursor is the first page
        return
    assert response.status_code == 400
    assert "next_cursor" in response.json()["detail"]


BAD_V1 = [
    {"name": "", "price": 1},
    {"name": "x", "price": -1},
    {"name": "x", "price": 1.234},
    {"name": "x", "price": "abc"},
    {"name": "x"},
    {"name": "x", "price": 1, "colour": "red"},
    {"name": "x" * 201, "price": 1},
]
BAD_V2 = [
    {"title": "x", "price": {"amount": "1", "currency": "euro"}},
    {"title": "x", "price": 5},
    {"title": "x", "price": {"amount": "1"}, "tags": ["a"] * 21},
    {"title": None, "price": {"amount": "1"}},
]


@pytest.mark.parametrize(("version", "body"), [(1, b) for b in BAD_V1] + [(2, b) for b in BAD_V2])
async def test_bad_input_is_a_422_and_nothing_is_stored(
    client: httpx.AsyncClient, v1: dict[str, str], v2: dict[str, str], version: int, body: object
) -> None:
    headers = v1 if version == 1 else v2
    response = await client.post(f"/apiv{version}/items/", headers=headers, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["msg"]
    assert (await client.get("/apiv1/items/", headers=v1)).json() == []


async def test_bad_patch_changes_nothing(client: httpx.AsyncClient, v2: dict[str, str]) -> None:
    body = {"title": "Lamp", "price": {"amount": "1"}}
    item = (await client.post("/apiv2/items/", headers=v2, json=body)).json()
    for patch in ({"title": None}, {"price": None}, {"title": ""}, {"owner": "me"}):
        response = await client.patch(f"/apiv2/items/{item['id']}", headers=v2, json=patch)
        assert response.status_code == 422, patch
    assert (await client.get(f"/apiv2/items/{item['id']}", headers=v2)).json() == item


@pytest.mark.parametrize("item_id", ["0", "-1", str(2**63), "99999999999999999999999", "abc"])
async def test_out_of_range_ids_are_422_not_500(
    client: httpx.AsyncClient, v1: dict[str, str], v2: dict[str, str], item_id: str
) -> None:
    for version, headers in ((1, v1), (2, v2)):
        response = await client.get(f"/apiv{version}/items/{item_id}", headers=headers)
        assert response.status_code == 422, (version, item_id)


async def test_limits_are_bounded(
    client: httpx.AsyncClient, v1: dict[str, str], v2: dict[str, str]
) -> None:
    assert (await client.get("/apiv2/items/?limit=101", headers=v2)).status_code == 422
    assert (await client.get("/apiv2/items/?limit=0", headers=v2)).status_code == 422
    assert (await client.get("/apiv1/items/?limit=1001", headers=v1)).status_code == 422
    assert (await client.get(f"/apiv1/items/?skip={2**63}", headers=v1)).status_code == 422


async def test_users_me(client: httpx.AsyncClient, v1: dict[str, str], version: int) -> None:
    token = await login(client, version, scope="items:read")
    me = (await client.get(f"/apiv{version}/users/me", headers=bearer(token))).json()
    assert me["username"] == "alice"
    assert me["scopes"] == ["items:read", "items:write"]
    assert me["token_scopes"] == ["items:read"]
