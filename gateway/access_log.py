"""The access log: one JSON object per request, as the message of a record on "gateway.access".

The JSON is the message itself, not something a formatter builds from the record, so every
handler shows the same line: ``caplog`` and a log shipper parse ``record.getMessage()``, and a
``%(message)s`` formatter prints it bare. Under the CLI's ``logging.basicConfig`` format the line
would get a ``LEVEL name:`` prefix and stop being JSON, so ``send_access_log_to`` gives the access
logger a handler of its own that writes the bare line, and stops propagation so that the line is
not printed a second time with the prefix.

What is logged is chosen, never copied wholesale: the path without its query string (which may
hold a token), no header at all (Authorization, cookies), and the principal only as the name
the token or login established.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TextIO

ACCESS_LOGGER = "gateway.access"

access_log = logging.getLogger(ACCESS_LOGGER)


def access_line(
    *,
    started_at: float,
    request_id: str,
    method: str,
    path: str,
    version: int | None,
    route: str | None,
    status: int,
    latency_ms: float,
    principal: str | None,
    client: str | None,
) -> str:
    """One access-log line: a JSON object with a fixed set of keys, in a fixed order.

    Written out by hand because it runs on every request: ``json.dumps`` of the same dict costs
    about twice as much. Every string a client could choose goes through the JSON encoder;
    the request id (checked to be ``[A-Za-z0-9._-]``), the time and the numbers need no escaping.
    """
    moment = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started_at))
    millis = int(started_at % 1 * 1000)
    return (
        f'{{"time":"{moment}.{millis:03d}Z","request_id":"{request_id}",'
        f'"method":{_string(method)},"path":{_string(path)},'
        f'"version":{"null" if version is None else int(version)},"route":{_json(route)},'
        f'"status":{int(status)},"latency_ms":{latency_ms:.3f},'
        f'"principal":{_json(principal)},"client":{_json(client)}}}'
    )


# The default encoder turns a str into a quoted, escaped, ASCII-only JSON string in one C call.
_string = json.JSONEncoder().encode


def _json(value: str | None) -> str:
    return "null" if value is None else _string(value)


def log_access(line: str) -> None:
    """Emit ``line`` on the access logger; the caller has checked ``isEnabledFor(INFO)``.

    ``makeRecord`` and ``handle`` are what ``Logger.info`` calls, less its walk up the stack to
    find the calling function, which an access line does not need.
    """
    access_log.handle(
        access_log.makeRecord(ACCESS_LOGGER, logging.INFO, __file__, 0, line, (), None)
    )


class _BareLines(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler ``send_access_log_to`` added, so a second call replaces it."""


def send_access_log_to(stream: TextIO) -> None:
    """Write access lines to ``stream`` as bare JSON, one per line, and only there.

    For ``configure_logging``: call it after ``logging.basicConfig``. The access logger is set to
    INFO so that ``server.access_log``, not ``server.log_level``, decides whether lines appear.
    """
    for handler in [h for h in access_log.handlers if isinstance(h, _BareLines)]:
        access_log.removeHandler(handler)
    handler = _BareLines(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False
