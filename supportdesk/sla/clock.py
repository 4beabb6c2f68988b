"""Working time on a business calendar: pure arithmetic, no I/O.

Meaning, which the oracle in tests/sla/test_clock.py checks minute by minute: an instant is working time
when the calendar's wall clock shows a time inside one of that local weekday's working windows and the
local date is not a holiday. So an hour the clocks repeat in autumn is worked twice when it lies inside
working hours (people really are at work for both), an hour skipped in spring is not worked at all, and
everything is computed in the calendar's zone, never the server's.

The clock can also stop: `pauses` are UTC intervals (a ticket pending on its requester, on hold) that
never count, whatever the calendar says.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 24 * 60
# Offsets change at most twice a year in any zone; probing every six hours finds every change, and a
# bisection then finds the exact second.
_PROBE = timedelta(hours=6)
# No target is longer than this much calendar time: a calendar with no working time at all must end
# the search instead of walking forever.
HORIZON = timedelta(days=3 * 366)

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Window:
    """Working time on one weekday, in minutes after local midnight: [start, end)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise ValueError(f"a working window runs forwards within one day: {self.start}-{self.end}")


@dataclass(frozen=True)
class Calendar:
    """Working windows per weekday (0 = Monday) in a time zone, with holidays.

    `holidays` are one-off dates; `yearly_holidays` are (month, day) pairs that recur every year."""

    zone: str
    weekly: dict[int, tuple[Window, ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    yearly_holidays: frozenset[tuple[int, int]] = frozenset()

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.zone)  # an unknown zone is refused here, not at the first due time
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone: {self.zone!r}") from error
        for day, windows in self.weekly.items():
            if not 0 <= day <= 6:
                raise ValueError(f"weekdays run from 0 (Monday) to 6, not {day}")
            for before, after in itertools.pairwise(windows):
                if after.start < before.end:
                    raise ValueError("a day's working windows are in order and do not overlap")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.yearly_holidays

    def windows_on(self, day: date) -> tuple[Window, ...]:
        if self.is_holiday(day):
            return ()
        return self.weekly.get(day.weekday(), ())

    @property
    def works_at_all(self) -> bool:
        return any(self.weekly.values())


ALWAYS = Calendar(zone="UTC", weekly={day: (Window(0, MINUTES_PER_DAY),) for day in range(7)})


def _offset(tz: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(tz).utcoffset()
    assert offset is not None  # a ZoneInfo always knows its offset
    return offset


def _constant_offset_spans(
    tz: ZoneInfo, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime, timedelta]]:
    """Split [start, end) into spans over which the zone's UTC offset does not change."""
    span_start, offset, probe = start, _offset(tz, start), start
    last = end - timedelta(microseconds=1)
    while probe < last:
        step = min(probe + _PROBE, last)
        if _offset(tz, step) == offset:
            probe = step
            continue
        # The offset changes in (probe, step]; zones change on whole seconds, so bisect over seconds.
        low, high = math.floor(probe.timestamp()), math.ceil(step.timestamp())
        while high - low > 1:
            middle = (low + high) // 2
            if _offset(tz, datetime.fromtimestamp(middle, UTC)) == offset:
                low = middle
            else:
                high = middle
        change = datetime.fromtimestamp(high, UTC)
        yield span_start, change, offset
        span_start, offset, probe = change, _offset(tz, change), change
    yield span_start, end, offset


def working_intervals(calendar: Calendar, start: datetime, end: datetime) -> Iterator[Interval]:
    """The working time inside [start, end), as ordered, disjoint UTC intervals."""
    if start >= end:
        return
    tz = calendar.tz
    for span_start, span_end, offset in _constant_offset_spans(tz, start, end):
        # Over this span wall time is UTC + offset, a straight line: intersect in wall time, shift back.
        local_start = (span_start + offset).replace(tzinfo=None)
        local_end = (span_end + offset).replace(tzinfo=None)
        day = local_start.date()
        while datetime.combine(day, datetime.min.time()) < local_end:
            midnight = datetime.combine(day, datetime.min.time())
            for window in calendar.windows_on(day):
                lo = max(local_start, midnight + timedelta(minutes=window.start))
                hi = min(local_end, midnight + timedelta(minutes=window.end))
                if lo < hi:
                    yield (lo - offset).replace(tzinfo=UTC), (hi - offset).replace(tzinfo=UTC)
            day += timedelta(days=1)


def _minus(intervals: Iterable[Interval], pauses: Sequence[Interval]) -> Iterator[Interval]:
    """Intervals with every pause cut out (pauses may overlap and come in any order)."""
    ordered = sorted(pauses)
    for lo, hi in intervals:
        cursor = lo
        for pause_lo, pause_hi in ordered:
            if pause_hi <= cursor or pause_lo >= hi:
                continue
            if pause_lo > cursor:
                yield cursor, pause_lo
            cursor = max(cursor, pause_hi)
            if cursor >= hi:
                break
        if cursor < hi:
            yield cursor, hi


def working_time(
    calendar: Calendar, start: datetime, end: datetime, pauses: Sequence[Interval] = ()
) -> timedelta:
    """How much working time passes between two instants, the pauses not counted."""
    total = timedelta()
    for lo, hi in _minus(working_intervals(calendar, start, end), pauses):
        total += hi - lo
    return total


def add_working_time(
    calendar: Calendar, start: datetime, amount: timedelta, pauses: Sequence[Interval] = ()
) -> datetime | None:
    """The instant at which `amount` of working time has passed since `start` (pauses not counted).

    None when the calendar never gets there (no working time within HORIZON)."""
    if amount <= timedelta():
        return start
    if not calendar.works_at_all:
        return None
    left = amount
    chunk_start = start
    # Walk forward a few weeks at a time: a target rarely spans more than one.
    while chunk_start - start < HORIZON:
        chunk_end = chunk_start + timedelta(days=14)
        for lo, hi in _minus(working_intervals(calendar, chunk_start, chunk_end), pauses):
            if hi - lo >= left:
                return lo + left
            left -= hi - lo
        chunk_start = chunk_end
    return None
