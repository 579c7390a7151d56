"""A version's requests per day as a small bar chart in inline SVG, for the page at ``/``.

Drawn on the server as plain markup: the page needs no script and loads nothing, so it works
offline and under any ``root_path`` like the docs do. The chart names itself for screen readers
(``role="img"``, an ``aria-label`` and a ``<title>`` with the total) and each bar carries a
``<title>`` with its day and count, which browsers show on hover. A handful of rectangles is
simpler to write than to configure a plotting library for, and adds no dependency.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

BAR_WIDTH = 6
BAR_STEP = 8  # bar plus gap
PLOT_TOP = 14  # room for the scale and total above the bars
PLOT_HEIGHT = 40
LABEL_ROOM = 14  # room for the first and last day below the bars
MIN_VISIBLE = 1.0  # a day with requests is never drawn as an empty day

BAR_COLOUR = "#3b6fb6"
INK = "#555"


def bar_height(requests: int, peak: int) -> float:
    """The height of a bar: proportional to ``requests``, the busiest day filling the plot.

    Days with requests get at least ``MIN_VISIBLE``, so one call among thousands still shows.
    """
    if requests <= 0 or peak <= 0:
        return 0.0
    return max(PLOT_HEIGHT * requests / peak, MIN_VISIBLE)


def requests_chart(name: str, days: Sequence[date], counts: Sequence[int]) -> str:
    """The SVG for ``counts[i]`` requests on ``days[i]`` (oldest first), titled after ``name``."""
    if len(days) != len(counts) or not days:
        raise ValueError(f"need one count per day, got {len(days)} days and {len(counts)} counts")
    total, peak = sum(counts), max(counts)
    width = BAR_STEP * len(days)
    height = PLOT_TOP + PLOT_HEIGHT + LABEL_ROOM
    baseline = PLOT_TOP + PLOT_HEIGHT
    summary = f"{name}: {_requests(total)} in the {len(days)} days {days[0]} to {days[-1]} (UTC)"
    if peak:
        summary += f", at most {peak:,} a day"
    summary = escape(summary)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="usage-chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{summary}" data-total="{total}" data-peak="{peak}">',
        f"<title>{summary}</title>",
        f'<g font-family="system-ui, sans-serif" font-size="10" fill="{INK}">',
        f'<text class="scale" x="0" y="10">{_scale(peak)}</text>',
        f'<text class="total" x="{width}" y="10" text-anchor="end">{total:,} in {len(days)} days'
        "</text>",
        f'<text x="0" y="{height - 2}">{days[0]}</text>',
        f'<text x="{width}" y="{height - 2}" text-anchor="end">{days[-1]}</text>',
        "</g>",
        f'<line x1="0" y1="{baseline}" x2="{width}" y2="{baseline}" stroke="#bbb" />',
    ]
    for index, (day, requests) in enumerate(zip(days, counts, strict=True)):
        x = index * BAR_STEP
        bar = bar_height(requests, peak)
        parts.append(
            f'<g class="day"><title>{day}: {_requests(requests)}</title>'
            # Transparent and full height: the day's tooltip shows even when its bar is empty.
            f'<rect x="{x}" y="{PLOT_TOP}" width="{BAR_STEP}" height="{PLOT_HEIGHT}" '
            'fill="transparent" />'
            f'<rect class="bar" data-day="{day}" data-requests="{requests}" x="{x + 1}" '
            f'y="{_number(baseline - bar)}" width="{BAR_WIDTH}" height="{_number(bar)}" '
            f'fill="{BAR_COLOUR}" /></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _scale(peak: int) -> str:
    return f"max {peak:,} a day" if peak else "no requests"


def _requests(count: int) -> str:
    return f"{count:,} request{'' if count == 1 else 's'}"


def _number(value: float) -> str:
    return f"{round(value, 2):g}"
