"""The desk's calendar (pure): a date range cut into local days or weeks (Monday first) in the desk's
time zone, each period's edges as UTC instants, and the slot every edge is a whole number of from the
first, so a database can count per slot and the counts be summed per period exactly."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import reduce
from zoneinfo import ZoneInfo


class Granularity(enum.StrEnum):
    DAY = "day"
    WEEK = "week"


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date
    start: datetime  # UTC: the first instant of first_day in the desk's zone
    end: datetime  # UTC: the first instant after last_day

    @property
    def label(self) -> str:
        if self.first_day == self.last_day:
            return self.first_day.isoformat()
        return f"{self.first_day.isoformat()} to {self.last_day.isoformat()}"


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def periods(first: date, last: date, granularity: Granularity, zone: ZoneInfo) -> list[Period]:
    """`first` .. `last` (both included) by day, or by week clipped to the range."""
    if last < first:
        raise ValueError("a range ends on or after its first day")
    starts = [first]
    day = first + timedelta(days=1)
    while day <= last:
        if granularity is Granularity.DAY or day.weekday() == 0:
            starts.append(day)
        day += timedelta(days=1)
    ends = [*starts[1:], last + timedelta(days=1)]
    return [
        Period(start, end - timedelta(days=1), local_midnight(start, zone), local_midnight(end, zone))
        for start, end in zip(starts, ends, strict=True)
    ]


def slot_seconds(found: list[Period]) -> int:
    """The longest slot that every period edge is a whole number of from the first: a day or a week
    without a daylight-saving change, else an hour (or the half or quarter hour of odd zones)."""
    origin = found[0].start
    gaps = [int((edge - origin).total_seconds()) for edge in [*(p.start for p in found[1:]), found[-1].end]]
    return reduce(math.gcd, gaps, 0) or 86400


def slot_to_period(found: list[Period], slot: int) -> list[int]:
    """For each slot index from the first edge, the index of the period it lies in."""
    index: list[int] = []
    for number, period in enumerate(found):
        slots = int((period.end - period.start).total_seconds()) // slot
        index.extend([number] * slots)
    return index
