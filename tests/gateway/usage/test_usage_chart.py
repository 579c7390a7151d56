"""The requests-per-day chart: one bar per day, heights in proportion to the counts, a scale, and
the numbers in text for screen readers and tooltips."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from datetime import date, timedelta

import pytest

from gateway.usage.chart import MIN_VISIBLE, PLOT_HEIGHT, PLOT_TOP, requests_chart

SVG = "{http://www.w3.org/2000/svg}"
DAYS = tuple(date(2026, 3, 2) + timedelta(days=n) for n in range(30))


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # noqa: S314 - our own markup, not untrusted input


def bars(chart: ElementTree.Element) -> list[ElementTree.Element]:
    return chart.findall(f".//{SVG}rect[@class='bar']")


def text_of(chart: ElementTree.Element, css_class: str) -> str:
    found = chart.find(f".//{SVG}text[@class='{css_class}']")
    assert found is not None
    return found.text or ""


def test_one_bar_per_day_in_order_with_its_count() -> None:
    counts = [n % 4 for n in range(30)]
    chart = parse(requests_chart("v1", DAYS, counts))
    drawn = bars(chart)
    assert len(drawn) == 30
    assert [bar.get("data-day") for bar in drawn] == [day.isoformat() for day in DAYS]
    assert [int(bar.get("data-requests", "")) for bar in drawn] == counts
    xs = [float(bar.get("x", "")) for bar in drawn]
    assert xs == sorted(xs)
    assert len(set(xs)) == 30


def test_bar_heights_are_proportional_to_the_counts() -> None:
    counts = [0] * 26 + [10, 20, 40, 5]
    chart = parse(requests_chart("v1", DAYS, counts))
    heights = [float(bar.get("height", "")) for bar in bars(chart)]
    assert heights[-4:] == [PLOT_HEIGHT / 4, PLOT_HEIGHT / 2, PLOT_HEIGHT, PLOT_HEIGHT / 8]
    baseline = PLOT_TOP + PLOT_HEIGHT
    for bar, height in zip(bars(chart), heights, strict=True):  # every bar stands on the axis
        assert float(bar.get("y", "")) + height == baseline
    assert text_of(chart, "scale") == "max 40 a day"
    assert text_of(chart, "total") == "75 in 30 days"


def test_days_without_requests_are_drawn_as_zero() -> None:
    counts = [0] * 30
    counts[3] = 7
    chart = parse(requests_chart("v1", DAYS, counts))
    heights = [float(bar.get("height", "")) for bar in bars(chart)]
    assert heights[3] == PLOT_HEIGHT
    assert heights[:3] + heights[4:] == [0.0] * 29

    silent = parse(requests_chart("v1", DAYS, [0] * 30))
    assert [float(bar.get("height", "")) for bar in bars(silent)] == [0.0] * 30
    assert text_of(silent, "scale") == "no requests"


def test_a_single_request_stays_visible_next_to_a_busy_day() -> None:
    counts = [0] * 28 + [100_000, 1]
    heights = [
        float(bar.get("height", "")) for bar in bars(parse(requests_chart("v1", DAYS, counts)))
    ]
    assert heights[-2:] == [PLOT_HEIGHT, MIN_VISIBLE]


def test_the_numbers_are_in_text_for_readers_and_tooltips() -> None:
    counts = [0] * 29 + [1_234]
    counts[0] = 1
    chart = parse(requests_chart("v1", DAYS, counts))
    summary = (
        "v1: 1,235 requests in the 30 days 2026-03-02 to 2026-03-31 (UTC), at most 1,234 a day"
    )
    assert chart.get("role") == "img"
    assert chart.get("aria-label") == summary
    assert chart.findtext(f"{SVG}title") == summary
    assert chart.get("data-total") == "1235"
    day_titles = [g.findtext(f"{SVG}title") for g in chart.findall(f"{SVG}g[@class='day']")]
    assert day_titles[0] == "2026-03-02: 1 request"
    assert day_titles[1] == "2026-03-03: 0 requests"
    assert day_titles[-1] == "2026-03-31: 1,234 requests"


def test_the_name_is_escaped() -> None:
    chart = parse(requests_chart('<b>"v1"</b>', DAYS, [1] * 30))
    assert (chart.get("aria-label") or "").startswith('<b>"v1"</b>: 30 requests')


def test_counts_must_match_the_days() -> None:
    with pytest.raises(ValueError, match="one count per day, got 30 days and 29 counts"):
        requests_chart("v1", DAYS, [0] * 29)
    with pytest.raises(ValueError, match="got 0 days"):
        requests_chart("v1", (), ())
