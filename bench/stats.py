"""Summaries over rounds (median and range), ratios of medians, and the issue's targets."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    """The median of a few measurements and their range."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        listed = list(values)
        return cls(statistics.median(listed), min(listed), max(listed))

    def show(self, digits: int = 0) -> str:
        """``1234 (1200-1250)``."""
        return f"{self.median:,.{digits}f} ({self.low:,.{digits}f}-{self.high:,.{digits}f})"


@dataclass(frozen=True)
class Check:
    """A ratio measured in this run against the issue's target for it."""

    label: str
    value: float
    target: float
    at_least: bool = True  # the value must be >= target; otherwise <= target

    @property
    def passed(self) -> bool:
        return self.value >= self.target if self.at_least else self.value <= self.target

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "MISS"

    @property
    def wanted(self) -> str:
        return f"{'>=' if self.at_least else '<='} {self.target:g}x"


def ratio(numerator: Spread, denominator: Spread) -> float:
    """The ratio of the medians."""
    return numerator.median / denominator.median
