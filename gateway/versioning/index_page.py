"""The HTML of the version index at ``/``: one row per version with its status, a chart of its
requests per day and its links, and under a deprecated or retired version the principals that
still call it, so whoever retires a version sees at a glance who would notice.

Everything is in the page itself (styles, charts), so it needs nothing from anywhere else.
Every value that comes from outside the code, principal names above all, is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from gateway.usage.chart import requests_chart
from gateway.usage.overview import DAYS, DailyRequests
from gateway.usage.recorder import PrincipalUsage

WITH_CALLERS = ("deprecated", "retired")  # the versions someone is moving clients off


@dataclass(frozen=True)
class UsageOverview:
    """The counts the page draws; the page is served without them when they cannot be read."""

    daily: DailyRequests
    callers: Mapping[int, Sequence[PrincipalUsage]] = field(default_factory=dict)


def render_index(listing: Sequence[dict[str, Any]], usage: UsageOverview | None) -> str:
    """The page for ``listing`` (the entries ``/versions`` serves) and its usage counts."""
    rows = []
    for entry in listing:
        number = entry["number"]
        rows.append(
            '<tr><td>v{number}</td><td>{status}</td><td class="usage">{chart}</td>'
            '<td><a href="{docs}">Swagger UI</a> · <a href="{redoc}">ReDoc</a> · '
            '<a href="{openapi}">OpenAPI</a></td><td><code>{token}</code></td></tr>'.format(
                number=number,
                status=escape(_status_text(entry)),
                chart=_chart(number, usage),
                docs=escape(entry["docs_url"]),
                redoc=escape(entry["redoc_url"]),
                openapi=escape(entry["openapi_url"]),
                token=escape(entry["token_url"]),
            )
        )
        if usage is not None and entry["status"] in WITH_CALLERS:
            rows.append(
                f'<tr class="callers"><td></td><td colspan="4">'
                f"{_callers(number, usage.callers.get(number, ()))}</td></tr>"
            )
    return INDEX_PAGE.format(days=DAYS, rows="\n".join(rows))


def _chart(number: int, usage: UsageOverview | None) -> str:
    if usage is None:
        return '<span class="unavailable">usage counts unavailable</span>'
    return requests_chart(f"v{number}", usage.daily.days, usage.daily.of(number))


def _callers(number: int, callers: Sequence[PrincipalUsage]) -> str:
    if not callers:
        return f'<p class="quiet">No calls to v{number} in the last {DAYS} days.</p>'
    rows = "".join(
        "<tr><td>{principal}</td><td>{requests:,}</td>"
        '<td><time datetime="{iso}">{shown}</time></td></tr>'.format(
            principal=escape(caller.principal),
            requests=caller.requests,
            iso=caller.last_seen.isoformat(timespec="seconds"),
            shown=caller.last_seen.strftime("%Y-%m-%d %H:%M UTC"),
        )
        for caller in callers
    )
    return (
        f'<table class="callers"><caption>Top callers of v{number}, last {DAYS} days</caption>'
        "<thead><tr><th>Principal</th><th>Requests</th><th>Last called</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _status_text(entry: dict[str, Any]) -> str:
    text = str(entry["status"])
    if entry["deprecated_at"]:
        text += f" since {entry['deprecated_at']}"
    if entry["sunset"]:
        text += f", sunset {entry['sunset']}"
    if entry["successor"] and entry["status"] in ("deprecated", "retired"):
        text += f"; use v{entry['successor']}"
    return text


INDEX_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>API versions</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #222;
  padding: 0 1rem; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .5rem; text-align: left; }}
td.usage {{ width: 240px; }}
tr.callers > td {{ padding-top: 0; }}
table.callers {{ width: auto; margin: 0 0 .5rem; font-size: .9rem; }}
table.callers caption {{ text-align: left; font-weight: 600; padding: .25rem 0; }}
table.callers td, table.callers th {{ padding: .2rem 1.5rem .2rem 0; }}
table.callers td:nth-child(2) {{ text-align: right; }}
.quiet, .unavailable {{ color: #666; font-size: .9rem; margin: 0 0 .5rem; }}
</style>
</head>
<body>
<h1>API versions</h1>
<table>
<thead><tr><th>Version</th><th>Status</th><th>Requests per day, last {days} days (UTC)</th>
<th>Docs</th><th>Token URL</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""
