"""Non-finite numbers (RFC 8259 6) are a 422 naming where they were, in every version, for any
module: JSON bodies, float parameters wherever they come from, and 422s that echo one."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.requests import Request

from gateway import Settings, create_app
from gateway.versioning.finite_numbers import body_errors, validation_error_response
from tests.conftest import AddUser, bearer, client_for, login

pytestmark = pytest.mark.anyio
LITERALS = ["1e309", "-1e309", "1e400", "NaN", "Infinity", "-Infinity", "1" * 400 + ".0"]
PARAM_TEXTS = ["inf", "-inf", "nan", "NaN", "Infinity", "-Infinity", "1e309", " inf"]


def assert_finite_error(response: httpx.Response, loc: list[Any], sent: str) -> None:
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["type"] == "finite_number"
    assert error["loc"] == loc
    assert error["input"] == sent
    assert error["msg"].startswith("Input should be a finite number")


@pytest.fixture
async def auth(client: httpx.AsyncClient, add_user: AddUser, version: int) -> dict[str, str]:
    await add_user("alice")
    return bearer(await login(client, version))


def json_operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (method.upper(), path.replace("{item_id}", "1"))
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]


async def test_every_json_operation_of_every_version_refuses_them(
    client: httpx.AsyncClient, auth: dict[str, str], version: int
) -> None:
    document = (await client.get(f"/apiv{version}/openapi.json")).json()
    operations = json_operations(document)
    assert operations, "each shipped version takes a JSON body somewhere"
    for (method, path), literal in itertools.product(operations, LITERALS):
        body = f'{{"nested": {{"list": [1, {literal}]}}}}'
        response = await client.request(
            method,
            f"/apiv{version}{path}",
            content=body,
            headers={**auth, "Content-Type": "application/json"},
        )
        assert_finite_error(response, ["body", "nested", "list", 1], literal)


@pytest.mark.parametrize(
    ("version", "body", "loc"),
    [
        (1, '{"name": "Pen", "price": %s}', ["body", "price"]),
        (2, '{"title": "Pen", "price": {"amount": %s}}', ["body", "price", "amount"]),
    ],
)
async def test_shipped_item_prices_and_nothing_is_stored(
    client: httpx.AsyncClient, auth: dict[str, str], version: int, body: str, loc: list[Any]
) -> None:
    headers = {**auth, "Content-Type": "application/json"}
    for literal in LITERALS:
        sent = body % literal
        response = await client.post(f"/apiv{version}/items/", content=sent, headers=headers)
        assert_finite_error(response, loc, literal)
    listed = (await client.get(f"/apiv{version}/items/", headers=auth)).json()
    assert listed in ([], {"data": [], "next_cursor": None})


async def test_json_in_strings_and_finite_numbers_still_pass(
    client: httpx.AsyncClient, auth: dict[str, str], version: int
) -> None:
    body = (
        '{"name": "NaN Infinity 1e309", "price": 1e2}'
        if version == 1
        else '{"title": "NaN Infinity 1e309", "price": {"amount": 1e2}}'
    )
    headers = {**auth, "Content-Type": "application/json; charset=utf-8"}
    response = await client.post(f"/apiv{version}/items/", content=body, headers=headers)
    assert response.status_code == 201, response.text


# --- any module: floats from every place a request carries them -------------------------------


@pytest.fixture
async def numbers(make_settings: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        make_settings(versions={"package": "tests.fixtures.numbers", "entry_points": False})
    )
    async with app.router.lifespan_context(app), client_for(app) as client:
        yield client


async def test_float_parameters_anywhere(numbers: httpx.AsyncClient) -> None:
    for text in PARAM_TEXTS:
        await assert_refused_everywhere(numbers, text)


async def assert_refused_everywhere(numbers: httpx.AsyncClient, text: str) -> None:
    cases: list[tuple[str, dict[str, str], list[Any]]] = [
        (f"/apiv1/at/{text.strip()}", {}, ["path", "position"]),
        (f"/apiv1/at/1?low={text}", {}, ["query", "low"]),
        (f"/apiv1/at/1?many=1&many={text}", {}, ["query", "many"]),
        (f"/apiv1/at/1?factor={text}", {}, ["query", "factor"]),  # a dependency's
        ("/apiv1/at/1", {"X-Rate": text}, ["header", "x-rate"]),
        ("/apiv1/at/1", {"Cookie": f"weight={text.strip()}"}, ["cookie", "weight"]),
    ]
    for path, headers, loc in cases:
        sent = text.strip() if loc[0] in {"path", "cookie"} else text
        assert_finite_error(await numbers.get(path, headers=headers), loc, sent)


async def test_finite_floats_and_other_parameters_are_served(numbers: httpx.AsyncClient) -> None:
    response = await numbers.get(
        "/apiv1/at/2.5?low=-1e2&many=1&many=1e308&factor=3&label=nan",
        headers={"X-Rate": "0.5", "Cookie": "weight=1e-400"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "position": 2.5,
        "low": -100.0,
        "many": [1.0, 1e308],
        "rate": 0.5,
        "weight": 0.0,
        "factor": 3.0,
        "label": "nan",  # a string parameter may say anything
    }


async def test_a_nested_body_names_the_element(numbers: httpx.AsyncClient) -> None:
    body = '{"name": "t", "points": [{"x": 1}, {"x": 2, "y": NaN}]}'
    response = await numbers.post("/apiv1/shapes", content=body)  # no content type: JSON too
    assert_finite_error(response, ["body", "points", 1, "y"], "NaN")
    ok = await numbers.post("/apiv1/shapes", json={"name": "t", "points": [{"x": 1.5}]})
    assert ok.json() == {"name": "t", "points": [{"x": 1.5, "y": None}]}


async def test_invalid_json_keeps_fastapis_own_error(numbers: httpx.AsyncClient) -> None:
    response = await numbers.post(
        "/apiv1/shapes", content=b'{"x": NaN', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_body_errors_reads_only_what_json_cannot_carry() -> None:
    assert body_errors(b'{"a": [1.5, 2e10, -3e-400, "Infinity"]}') == []
    assert body_errors(b"not json NaN") == []
    assert [e["loc"] for e in body_errors(b'[{"a": NaN}, 1e999, {"b": [Infinity]}]')] == [
        ("body", 0, "a"),
        ("body", 1),
        ("body", 2, "b", 0),
    ]


async def test_a_422_that_echoes_a_non_finite_float_still_renders() -> None:
    error = RequestValidationError(
        [
            {
                "type": "finite_number",
                "loc": ("body", "x"),
                "msg": "Input should be a finite number",
                "input": float("inf"),
                "ctx": {"limits": [float("-inf"), float("nan")]},
            }
        ]
    )
    response = await validation_error_response(Request({"type": "http"}), error)
    assert response.status_code == 422
    assert response.body == (
        b'{"detail":[{"type":"finite_number","loc":["body","x"],'
        b'"msg":"Input should be a finite number","input":"Infinity",'
        b'"ctx":{"limits":["-Infinity","NaN"]}}]}'
    )


async def test_a_gateway_handler_still_replaces_the_default_422(
    make_settings: Callable[..., Settings],
) -> None:
    async def teapot(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"custom": True}, status_code=418)

    fresh = create_app(make_settings())
    fresh.add_exception_handler(RequestValidationError, teapot)
    async with fresh.router.lifespan_context(fresh), client_for(fresh) as client:
        response = await client.post(
            "/apiv1/items/", content=b'{"price": NaN}', headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 418
