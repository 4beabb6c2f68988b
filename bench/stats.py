"""Medians, spreads and verdicts over a benchmark's rounds.

A budget is judged on the interquartile range of its rounds: met when the whole range is on the right
side of the line, missed when it is all on the wrong side, and too noisy to say when it straddles the
line. The quartiles rather than the extremes, so that one round disturbed by another process on the
shared machine does not decide; the report shows the extremes too. The range is widened to the
distance a repeat run's median may land from this one's, so that a verdict is one a second run repeats."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MET = "met"
MISSED = "missed"
NOISY = "too noisy to say"


@dataclass(frozen=True)
class Spread:
    median: float
    q1: float
    q3: float
    low: float
    high: float
    count: int


def quantile(values: Sequence[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks of the sorted values (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def summarise(values: Iterable[float]) -> Spread:
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values to summarise")
    return Spread(
        median=quantile(ordered, 0.5),
        q1=quantile(ordered, 0.25),
        q3=quantile(ordered, 0.75),
        low=ordered[0],
        high=ordered[-1],
        count=len(ordered),
    )


def verdict(spread: Spread, limit: float, at_least: bool, repeat_margin: float = 0.0) -> str:
    """`at_least`: the figure must be >= limit (a ratio, a rate); otherwise <= limit (a latency, a cost).
    `repeat_margin`: how far (a fraction of the median) the median of a repeat run may land; the band
    judged is the interquartile range widened to at least that much either side of the median."""
    low = min(spread.q1, spread.median * (1 - repeat_margin))
    high = max(spread.q3, spread.median * (1 + repeat_margin))
    good, bad = (low >= limit, high < limit) if at_least else (high <= limit, low > limit)
    if good:
        return MET
    if bad:
        return MISSED
    return NOISY
