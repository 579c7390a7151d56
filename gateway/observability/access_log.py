"""The access log: one JSON object per request, as the message of a record on "gateway.access".

The JSON is the message itself, not something a formatter builds from the record, so every
handler shows the same line: ``caplog`` and a log shipper parse ``record.getMessage()``, and a
``%(message)s`` formatter prints it bare. Under the CLI's ``logging.basicConfig`` format the line
would get a ``LEVEL name:`` prefix and stop being JSON, so ``send_access_log_to`` gives the access
logger a handler of its own, ``AccessLineWriter``, that writes the bare line, and stops
propagation so that the line is not printed a second time with the prefix.

Lines bound for that handler's stream skip the logging machinery: building a ``LogRecord``,
locking, formatting and one write and flush per line cost more than the rest of an
authenticated request's bookkeeping. They are gathered and written in chunks of whole lines of at
most ``PIPE_BUF`` bytes (a write that size to a pipe is never interleaved with another worker's),
so a line reaches the stream as soon as a chunk fills, or at most ``FLUSH_SECONDS`` later, and at
exit ``logging.shutdown`` flushes what is left. Whenever the access logger has any other handler
or a filter (``caplog``, a configuration of the operator's), lines go through logging as usual.

What is logged is chosen, never copied wholesale: the path without its query string (which may
hold a token), no header at all (Authorization, cookies), and the principal only as the name
the token or login established.
"""

from __future__ import annotations

import asyncio
import functools
import json
import json.encoder
import logging
import time
from collections.abc import Callable
from typing import TextIO

ACCESS_LOGGER = "gateway.access"
PIPE_BUF = 4096  # bytes POSIX writes to a pipe at once (Linux: 4096)
FLUSH_SECONDS = 0.05

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
    millis = int(started_at % 1 * 1000)
    return (
        f'{{"time":"{_utc_second(int(started_at))}.{millis:03d}Z","request_id":"{request_id}",'
        f'"method":{_string(method)},"path":{_string(path)},'
        f'"version":{"null" if version is None else int(version)},'
        f'"route":{"null" if route is None else _string(route)},'
        f'"status":{int(status)},"latency_ms":{latency_ms:.3f},'
        f'"principal":{"null" if principal is None else _string(principal)},'
        f'"client":{"null" if client is None else _string(client)}}}'
    )


@functools.lru_cache(maxsize=4)
def _utc_second(second: int) -> str:
    # Lines of one second share it, and strftime costs as much as the rest of a line.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


# A str as a quoted, escaped, ASCII-only JSON string: the C function json.dumps ends up calling.
_string: Callable[[str], str] = json.encoder.encode_basestring_ascii


def log_access(line: str) -> None:
    """Emit ``line`` on the access logger; the caller has checked ``isEnabledFor(INFO)``."""
    handlers = access_log.handlers
    only = handlers[0] if len(handlers) == 1 and not access_log.filters else None
    if isinstance(only, AccessLineWriter):
        only.write(line)
        return
    # ``makeRecord`` and ``handle`` are what ``Logger.info`` calls, less its walk up the stack
    # to find the calling function, which an access line does not need.
    access_log.handle(
        access_log.makeRecord(ACCESS_LOGGER, logging.INFO, __file__, 0, line, (), None)
    )


class AccessLineWriter(logging.Handler):
    """Writes access lines bare, one per line, to ``stream``, in chunks of whole lines."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(logging.INFO)
        self.stream = stream
        self._lines: list[str] = []
        self._size = 0  # characters in _lines, newlines included

    def emit(self, record: logging.LogRecord) -> None:
        self.write(record.getMessage())

    def write(self, line: str) -> None:
        with self.lock:  # type: ignore[union-attr]  # created by Handler.__init__
            if self._size + len(line) >= PIPE_BUF:
                self._write_out()
            self._lines.append(line)
            self._size += len(line) + 1
            if len(self._lines) > 1:
                return
        try:
            asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)
        except RuntimeError:  # no event loop in this thread: write it now
            self.flush()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._write_out()

    def close(self) -> None:
        self.flush()
        super().close()

    def _write_out(self) -> None:
        lines, self._lines, self._size = self._lines, [], 0
        if lines:
            try:
                self.stream.write("\n".join(lines) + "\n")
                self.stream.flush()
            except (OSError, ValueError):  # a closed or broken stream: never raise, as logging
                pass


def send_access_log_to(stream: TextIO) -> None:
    """Write access lines to ``stream`` as bare JSON, one per line, and only there.

    For ``configure_logging``: call it after ``logging.basicConfig``. The access logger is set to
    INFO so that ``server.access_log``, not ``server.log_level``, decides whether lines appear.
    """
    for handler in [h for h in access_log.handlers if isinstance(h, AccessLineWriter)]:
        access_log.removeHandler(handler)
        handler.close()
    access_log.addHandler(AccessLineWriter(stream))
    access_log.setLevel(logging.INFO)
    access_log.propagate = False
