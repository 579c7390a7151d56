"""Non-finite numbers are bad input in every version: a 422 that says so, never a 500.

JSON cannot carry ``NaN``, ``Infinity`` or a number beyond the range of a double (RFC 8259 6),
yet Python's ``json`` reads all three (``1e309`` as infinity), pydantic lets them into ``float``
fields, and a validation error that echoes one cannot be encoded, so it turned into a 500. The
gateway closes that for every version module, whatever its models say:

- ``guard_routes`` wraps each route that reads a JSON body, or a ``float`` query, path, header or
  cookie parameter, with a check that answers the version's own 422 (through its
  ``RequestValidationError`` handler) naming where the number was; other routes are untouched,
  so they cost nothing;
- ``validation_error_response`` renders a 422 whose errors hold a non-finite float (a custom
  validator's, say) with that number spelt as text instead of failing to encode.

Hand-written because neither FastAPI nor pydantic has a switch for this across a whole app:
``allow_inf_nan=False`` exists per field only, and FastAPI's JSON parsing has no hook.
"""

from __future__ import annotations

import json
import math
import re
import types
import typing
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, params
from fastapi.dependencies.models import Dependant
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MESSAGE = "Input should be a finite number"
BODY_MESSAGE = f"{MESSAGE}: JSON has no NaN or Infinity, nor numbers beyond about 1.8e308"
# Only a body with one of these can hold a non-finite number; others skip the second parse.
_SUSPECT = re.compile(rb"NaN|Infinity|[eE]\+?\d{3}|\d{309}")


class _NonFinite(str):
    """A number JSON cannot carry, kept as the text the client sent."""


def _checked_float(text: str) -> float | _NonFinite:
    number = float(text)
    return number if math.isfinite(number) else _NonFinite(text)


def body_errors(body: bytes) -> list[dict[str, Any]]:
    """Where a JSON body holds non-finite numbers; empty for any other body, valid or not."""
    if not _SUSPECT.search(body):
        return []
    try:
        document = json.loads(body, parse_constant=_NonFinite, parse_float=_checked_float)
    except ValueError:  # not JSON at all: FastAPI's own parsing reports it
        return []
    return [
        {"type": "finite_number", "loc": ("body", *loc), "msg": BODY_MESSAGE, "input": str(text)}
        for loc, text in _non_finite(document, ())
    ]


def _non_finite(value: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, _NonFinite):
        yield loc, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_finite(item, (*loc, index))


def _is_non_finite_text(text: str) -> bool:
    try:
        return not math.isfinite(float(text))
    except ValueError:
        return False


def _admits_float(annotation: Any) -> bool:
    if annotation is float:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _admits_float(typing.get_args(annotation)[0])
    if origin is not None or isinstance(annotation, types.UnionType):
        return any(_admits_float(arg) for arg in typing.get_args(annotation))
    return False


# (where, name) of a parameter: where is one of PLACES.
Param = tuple[str, str]
PLACES = ("query", "path", "header", "cookie")  # in the order FastAPI reports its errors


def float_params(dependant: Dependant) -> set[Param]:
    """The ``float`` parameters a route and its dependencies read, by where and name."""
    found: set[Param] = set()
    for where in PLACES:
        for field in getattr(dependant, f"{where}_params"):
            annotation = field.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                found |= {
                    (where, _wire_name(where, sub.alias or name))
                    for name, sub in annotation.model_fields.items()
                    if _admits_float(sub.annotation)
                }
            elif _admits_float(annotation):
                found.add((where, _wire_name(where, field.alias)))
    for sub_dependant in dependant.dependencies:
        found |= float_params(sub_dependant)
    return found


def _wire_name(where: str, alias: str) -> str:
    return alias.replace("_", "-").lower() if where == "header" else alias


class FiniteNumbersGuard:
    """Raise the version's 422 for non-finite numbers before the route parses its input."""

    def __init__(self, app: ASGIApp, *, json_body: bool, params: set[Param]) -> None:
        self.app = app
        self.json_body = json_body
        self.params = params
        # Only the places this route reads floats from are parsed on a request.
        self.places = [where for where in PLACES if any(p == where for p, _ in params)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        errors = self._param_errors(scope) if self.params else []
        if self.json_body and is_json(Headers(scope=scope).get("content-type")):
            messages, body = await read_body(receive)
            errors += body_errors(body)
            receive = replay(messages, receive)
        if errors:
            raise RequestValidationError(errors)
        await self.app(scope, receive, send)

    def _param_errors(self, scope: Scope) -> list[dict[str, Any]]:
        return [
            {"type": "finite_number", "loc": (where, name), "msg": MESSAGE, "input": value}
            for where in self.places
            for name, value in _pairs(where, scope)
            if (where, name) in self.params and _is_non_finite_text(value)
        ]


def _pairs(where: str, scope: Scope) -> list[tuple[str, str]]:
    """A request's parameters in one place, as (name, text) pairs."""
    if where == "query":
        return parse_qsl(scope.get("query_string", b"").decode("latin-1"), True)
    if where == "path":
        return [(k, str(v)) for k, v in scope.get("path_params", {}).items()]
    headers = Headers(scope=scope)
    if where == "header":
        return list(headers.items())
    return list(cookie_parser(headers.get("cookie", "")).items())


def is_json(content_type: str | None) -> bool:
    if content_type is None:
        return True  # FastAPI reads a body without a content type as JSON
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def read_body(receive: Receive) -> tuple[list[Message], bytes]:
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    return messages, b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")


def replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


def guard_routes(app: FastAPI) -> None:
    """Wrap every route of ``app`` that reads a JSON body or a ``float`` parameter."""
    for route in app.router.routes:
        if not isinstance(route, APIRoute):
            continue
        numeric = float_params(route.dependant)
        json_body = route.body_field is not None and not _is_form(route)
        if numeric or json_body:
            route.app = FiniteNumbersGuard(route.app, json_body=json_body, params=numeric)


def _is_form(route: APIRoute) -> bool:
    return route.body_field is not None and isinstance(route.body_field.field_info, params.Form)


async def validation_error_response(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 body, with any non-finite float in it written as text."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": _finite(jsonable_encoder(exc.errors()))}, status_code=422)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value
