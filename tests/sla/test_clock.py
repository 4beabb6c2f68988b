"""Working time on business calendars, checked against an oracle that walks the clock minute by minute.

The oracle is the definition, written the slow obvious way: a minute counts when the calendar's wall
clock shows a working time on a working day and no pause covers it. The known bugs of other desks are
each a way of disagreeing with it: a clock that runs while pending, DST hours counted twice or not at
all, due times in the server's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportdesk.sla.clock import ALWAYS, Calendar, Window, add_working_time, working_time

MINUTE = timedelta(minutes=1)
ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Sao_Paulo",
    "Australia/Lord_Howe",  # a half-hour DST shift
    "Asia/Kolkata",  # +05:30, no DST
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/St_Johns",  # -03:30 with DST
]


def offset_changes(zone: str) -> list[datetime]:
    """The instants of 2026 when the zone's clocks change, found by walking it hour by hour."""
    tz = ZoneInfo(zone)
    hour = datetime(2026, 1, 1, tzinfo=UTC)
    changes = []
    while hour.year == 2026:
        if (hour + timedelta(hours=1)).astimezone(tz).utcoffset() != hour.astimezone(tz).utcoffset():
            changes.append(hour)
        hour += timedelta(hours=1)
    return changes


# Ranges start a little before a change of the calendar's clocks (or on plain weeks for zones that
# never change), so most examples cross one.
STARTS = {zone: offset_changes(zone) or [datetime(2026, 6, 1, tzinfo=UTC)] for zone in ZONES}


def is_working(calendar: Calendar, instant: datetime, pauses: list[tuple[datetime, datetime]]) -> bool:
    if any(lo <= instant < hi for lo, hi in pauses):
        return False
    local = instant.astimezone(ZoneInfo(calendar.zone))
    minute = local.hour * 60 + local.minute
    return any(window.start <= minute < window.end for window in calendar.windows_on(local.date()))


def oracle_minutes(calendar: Calendar, start: datetime, end: datetime, pauses: list) -> list[datetime]:
    """Every working minute in [start, end), by walking the clock."""
    found = []
    instant = start
    while instant < end:
        if is_working(calendar, instant, pauses):
            found.append(instant)
        instant += MINUTE
    return found


@st.composite
def day_windows(draw: st.DrawFn) -> tuple[Window, ...]:
    # Sorted distinct boundaries in quarter hours, paired up: ordered windows that never overlap.
    if draw(st.integers(0, 3)) == 0:
        return (Window(0, 24 * 60),)  # round the clock: every change of the clocks shows
    count = draw(st.integers(0, 2))
    points = sorted(draw(st.sets(st.integers(0, 96), min_size=2 * count, max_size=2 * count)))
    return tuple(Window(points[i] * 15, points[i + 1] * 15) for i in range(0, len(points), 2))


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    weekly = {day: draw(day_windows()) for day in range(7)}
    holidays = frozenset(draw(st.lists(st.dates(date(2026, 3, 1), date(2027, 1, 15)), max_size=4)))
    yearly = frozenset(draw(st.lists(st.tuples(st.integers(1, 12), st.integers(1, 28)), max_size=3)))
    return Calendar(
        zone=draw(st.sampled_from(ZONES)), weekly=weekly, holidays=holidays, yearly_holidays=yearly
    )


@st.composite
def ranges(draw: st.DrawFn, zone: str) -> tuple[datetime, datetime, list[tuple[datetime, datetime]]]:
    start = draw(st.sampled_from(STARTS[zone])) - draw(st.integers(0, 3 * 24 * 60)) * MINUTE
    end = start + draw(st.integers(0, 6 * 24 * 60)) * MINUTE
    pauses = []
    for _ in range(draw(st.integers(0, 3))):
        pause_start = start + draw(st.integers(-600, 6 * 24 * 60)) * MINUTE
        pauses.append((pause_start, pause_start + draw(st.integers(1, 3 * 24 * 60)) * MINUTE))
    return start, end, pauses


SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW
@given(data=st.data())
def test_working_time_between_two_instants_is_the_minutes_the_clock_walks(data):
    calendar = data.draw(calendars())
    start, end, pauses = data.draw(ranges(calendar.zone))
    assert (
        working_time(calendar, start, end, pauses)
        == len(oracle_minutes(calendar, start, end, pauses)) * MINUTE
    )


@SLOW
@given(data=st.data(), share=st.floats(0, 1))
def test_a_due_time_is_where_the_walk_reaches_the_target(data, share):
    calendar = data.draw(calendars())
    start, end, pauses = data.draw(ranges(calendar.zone))
    minutes = oracle_minutes(calendar, start, end, pauses)
    if not minutes:
        return
    target = max(1, round(share * len(minutes)))
    assert add_working_time(calendar, start, target * MINUTE, pauses) == minutes[target - 1] + MINUTE


BERLIN_NIGHT = Calendar(zone="Europe/Berlin", weekly={6: (Window(60, 240),)})  # Sundays 01:00-04:00


def test_the_hour_skipped_in_spring_is_not_worked():
    sunday = datetime(2026, 3, 29, tzinfo=UTC)  # 02:00 local does not exist
    assert working_time(BERLIN_NIGHT, sunday - timedelta(hours=2), sunday + timedelta(hours=6)) == timedelta(
        hours=2
    )


def test_the_hour_repeated_in_autumn_is_worked_twice():
    sunday = datetime(2026, 10, 25, tzinfo=UTC)  # 02:00-03:00 local happens twice
    assert working_time(BERLIN_NIGHT, sunday - timedelta(hours=2), sunday + timedelta(hours=6)) == timedelta(
        hours=4
    )


def test_due_times_follow_the_calendars_zone_not_the_servers():
    office = Calendar(zone="America/New_York", weekly={day: (Window(9 * 60, 17 * 60),) for day in range(5)})
    friday_afternoon = datetime(2026, 11, 27, 21, 0, tzinfo=UTC)  # 16:00 in New York
    # One hour left on Friday, the other seven on Monday from 09:00 New York (14:00 UTC).
    assert add_working_time(office, friday_afternoon, timedelta(hours=8)) == datetime(
        2026, 11, 30, 21, 0, tzinfo=UTC
    )


def test_a_pause_stops_the_clock_across_a_weekend():
    pending = (datetime(2026, 11, 27, 12, tzinfo=UTC), datetime(2026, 11, 30, 12, tzinfo=UTC))
    start = datetime(2026, 11, 27, 11, tzinfo=UTC)
    assert add_working_time(ALWAYS, start, timedelta(hours=2), [pending]) == datetime(
        2026, 11, 30, 13, tzinfo=UTC
    )


def test_a_calendar_with_no_working_time_never_falls_due():
    closed = Calendar(zone="UTC")
    assert add_working_time(closed, datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=1)) is None
    holidays_only = Calendar(zone="UTC", weekly={0: (Window(0, 60),)}, yearly_holidays=frozenset())
    assert add_working_time(holidays_only, datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=1)) is not None


def test_windows_must_run_forwards_and_not_overlap():
    with pytest.raises(ValueError):
        Window(600, 540)
    with pytest.raises(ValueError):
        Window(0, 24 * 60 + 1)
    with pytest.raises(ValueError):
        Calendar(zone="UTC", weekly={0: (Window(540, 720), Window(700, 800))})
    with pytest.raises(ValueError):
        Calendar(zone="Nowhere/Atlantis")
