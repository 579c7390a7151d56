"""Request ids: one per request, kept from the client when well formed, on every log record.

The id lives in a ``ContextVar`` for the time the gateway handles a request, and in the request's
ASGI scope under ``REQUEST_ID_KEY`` (versions get a copy of the gateway's scope, so
``request.scope["gateway.request_id"]`` works in every handler).

Log records get it from a record factory rather than from a ``logging.Filter``: a filter on the
"gateway" logger is not consulted for records that propagate up from its children
("gateway.access", "gateway.usage", ...), nor for uvicorn's or SQLAlchemy's records, and a filter
on handlers reaches only the handlers that exist when it is added: not ``caplog``'s, not those a
later logging set-up creates. A record factory reaches every record, whoever
logs it and wherever it goes, for the cost of one ``ContextVar.get``. Outside a request the
attribute is ``"-"``, so a format string can always say ``%(request_id)s``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from contextvars import ContextVar
from random import getrandbits
from typing import Any

REQUEST_ID_KEY = "gateway.request_id"
REQUEST_ID_HEADER = b"x-request-id"
NO_REQUEST_ID = "-"

# Letters, digits, dot, underscore and hyphen: every UUID, ULID, hex or base64url id a client or
# a proxy generates fits, and nothing that could split a header, forge a log line or break a
# JSON string does. 128 bytes holds any common id format while bounding what we store and log.
_WELL_FORMED = re.compile(rb"[A-Za-z0-9._-]{1,128}")

current_request_id: ContextVar[str | None] = ContextVar("gateway_request_id", default=None)


def request_id_from(headers: Iterable[tuple[bytes, bytes]]) -> bytes:
    """The client's ``X-Request-ID`` when well formed (the first one sent), else a new random id.

    Bytes, because both the header we send back and the check work on bytes.
    """
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            if _WELL_FORMED.fullmatch(value):
                return value
            break
    return new_request_id()


def new_request_id() -> bytes:
    """128 random bits as 32 hex digits: unique, as a UUID4 would be, for a third of the cost.

    From ``random``, not ``os.urandom``: an id only has to be unique, not unpredictable (it names
    a request in logs, and a client can send its own), and a system call on every request that
    brings no id is most of the id's cost. ``random`` is seeded from the OS in each process and
    reseeded in a forked child, so workers do not repeat each other's ids.
    """
    return b"%032x" % getrandbits(128)


def install_request_id_records() -> None:
    """Make every ``LogRecord`` carry ``request_id``. Idempotent: the factory is wrapped once."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "adds_request_id", False):
        return

    def record_with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = current_request_id.get() or NO_REQUEST_ID
        return record

    record_with_request_id.adds_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(record_with_request_id)
