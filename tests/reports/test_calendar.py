"""The desk's calendar: periods are local days or weeks, their edges local midnights in the desk's zone."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.core.config import Config, ConfigError
from supportdesk.reports.calendar import Granularity, periods, slot_seconds

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Australia/Adelaide"]


def test_days_follow_the_desk_zone_across_a_daylight_saving_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    days = periods(date(2026, 3, 28), date(2026, 3, 30), Granularity.DAY, berlin)
    assert [p.first_day for p in days] == [date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)]
    # 29 March 2026 has 23 hours in Berlin.
    assert days[1].end - days[1].start == timedelta(hours=23)
    assert days[0].start == datetime(2026, 3, 27, 23, tzinfo=UTC)
    assert days[2].end == datetime(2026, 3, 30, 22, tzinfo=UTC)


def test_weeks_start_on_monday_and_are_clipped_to_the_range() -> None:
    weeks = periods(date(2026, 11, 4), date(2026, 11, 20), Granularity.WEEK, ZoneInfo("UTC"))
    assert [(p.first_day, p.last_day) for p in weeks] == [
        (date(2026, 11, 4), date(2026, 11, 8)),
        (date(2026, 11, 9), date(2026, 11, 15)),
        (date(2026, 11, 16), date(2026, 11, 20)),
    ]


@given(
    zone=st.sampled_from(ZONES),
    first=st.dates(date(2024, 1, 1), date(2027, 12, 31)),
    length=st.integers(0, 120),
    granularity=st.sampled_from(Granularity),
)
def test_every_edge_is_a_whole_number_of_slots_from_the_first(
    zone: str, first: date, length: int, granularity: Granularity
) -> None:
    tz = ZoneInfo(zone)
    found = periods(first, first + timedelta(days=length), granularity, tz)
    slot = slot_seconds(found)
    for period in found:
        assert period.start.astimezone(tz).date() == period.first_day
        assert (period.end - timedelta(microseconds=1)).astimezone(tz).date() == period.last_day
        assert (period.start - found[0].start).total_seconds() % slot == 0
    assert all(a.end == b.start for a, b in itertools.pairwise(found))


def test_the_desk_zone_is_a_setting(tmp_path) -> None:  # type: ignore[no-untyped-def]
    environ = {"SUPPORTDESK_INSTANCE": str(tmp_path)}
    assert Config.from_env(environ).desk_timezone == "UTC"
    assert Config.from_env({**environ, "DESK_TIMEZONE": "Europe/Berlin"}).desk_timezone == "Europe/Berlin"
    with pytest.raises(ConfigError, match="DESK_TIMEZONE"):
        Config.from_env({**environ, "DESK_TIMEZONE": "Mars/Olympus_Mons"})
