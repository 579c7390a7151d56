"""Single HTTP/1.1 requests to the servers under test, with the standard library only: the
checks before measuring, logins, metrics scrapes and the start-up probe."""

from __future__ import annotations

import http.client
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    url: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> Response:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path or "/", body=body, headers=dict(headers or {}))
        answer = connection.getresponse()
        return Response(answer.status, answer.read())
    finally:
        connection.close()


def post_form(url: str, fields: Mapping[str, str]) -> Response:
    return request(
        url,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=urlencode(fields).encode(),
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def answers_200(url: str) -> bool:
    """Whether ``url`` answers 200 now; a refused or reset connection is a no."""
    try:
        return request(url, timeout=1.0).status == 200
    except OSError:  # ConnectionRefusedError, timeouts, resets
        return False
    except http.client.HTTPException:
        return False
