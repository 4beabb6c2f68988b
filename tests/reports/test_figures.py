"""Every figure of the reports, on random desks, equals the same figure computed another way: in plain
Python over the raw rows (tests/reports/rows.py), on both databases and in several time zones."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportdesk.reports import reads
from supportdesk.reports.calendar import Granularity
from supportdesk.reports.filters import ReportFilters
from supportdesk.reports.policy import ReportScope
from supportdesk.tickets.lifecycle import Priority
from tests.conftest import _wipe
from tests.reports.rows import (
    NOW,
    Desk,
    Window,
    expected_backlog,
    expected_categories,
    expected_service_levels,
    expected_technicians,
    expected_times,
    expected_volume,
    expected_working_resolution,
    raw_tickets,
    write_desk,
)

TEAMS, CATEGORIES, TECHNICIANS = 3, 12, 4
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu"]


@st.composite
def questions(draw: st.DrawFn) -> dict[str, object]:
    last = NOW.date() + timedelta(days=draw(st.integers(-40, 2)))
    return {
        "zone": draw(st.sampled_from(ZONES)),
        "first": last - timedelta(days=draw(st.integers(0, 35))),
        "last": last,
        "granularity": draw(st.sampled_from(Granularity)),
        "reach": draw(st.none() | st.frozensets(st.integers(0, TEAMS - 1), max_size=2)),
        "team": draw(st.none() | st.integers(0, TEAMS - 1)),
        "category": draw(st.none() | st.integers(0, CATEGORIES - 1)),
        "priority": draw(st.none() | st.sampled_from(Priority)),
    }


def ask(desk: Desk, question: dict[str, object]) -> tuple[ReportFilters, ReportScope, Window, ZoneInfo]:
    zone = ZoneInfo(str(question["zone"]))
    reach = question["reach"]
    teams = None if reach is None else frozenset(desk.teams[i] for i in reach)  # type: ignore[attr-defined]
    team = None if question["team"] is None else desk.teams[question["team"]]  # type: ignore[index]
    category = None if question["category"] is None else desk.categories[question["category"]]  # type: ignore[index]
    filters = ReportFilters(
        first_day=question["first"],  # type: ignore[arg-type]
        last_day=question["last"],  # type: ignore[arg-type]
        granularity=question["granularity"],  # type: ignore[arg-type]
        team_id=team,
        category_id=category,
        priority=question["priority"],  # type: ignore[arg-type]
    )
    scope = ReportScope(teams=teams)
    periods = filters.periods(zone)
    window = Window(
        edges=[p.start for p in periods] + [periods[-1].end],
        zone=zone,
        teams=teams,
        team=team,
        category=category,
        priority=filters.priority,
    )
    return filters, scope, window, zone


@pytest.fixture
def fresh(clean_app: Flask):  # type: ignore[no-untyped-def]
    """A function that empties the tables and returns a new session (one per hypothesis example)."""
    sessions = []

    def make():  # type: ignore[no-untyped-def]
        for old in sessions:
            old.close()
        _wipe(clean_app)
        sessions.append(clean_app.extensions["supportdesk.sessionmaker"]())
        return sessions[-1]

    yield make
    for old in sessions:
        old.close()


desks = st.lists(raw_tickets(TEAMS, CATEGORIES, TECHNICIANS), max_size=40)
examples = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@examples
@given(tickets=desks, question=questions())
def test_every_figure_matches_the_raw_rows(fresh, tickets, question) -> None:  # type: ignore[no-untyped-def]
    session = fresh()
    desk = write_desk(session, tickets, TEAMS, CATEGORIES, TECHNICIANS)
    filters, scope, window, zone = ask(desk, question)

    volume = reads.volume(session, scope, filters, zone)
    assert [p.start for p in volume.periods] == window.edges[:-1]
    assert (volume.created, volume.resolved) == expected_volume(desk, window)

    assert reads.backlog(session, scope, filters, zone).counts == expected_backlog(desk, window)

    times = reads.times(session, scope, filters, zone)
    for found, expected in zip(
        (times.first_response, times.resolution, times.working_resolution),
        (*expected_times(desk, window), expected_working_resolution(desk, window)),
        strict=True,
    ):
        assert found.count == expected[0]
        for value, wanted in ((found.median, expected[1]), (found.p90, expected[2])):
            assert (value is None) == (wanted is None)
            if wanted is not None:
                assert value == pytest.approx(wanted, abs=1.0)

    technicians = reads.technicians(session, scope, filters, zone)
    assert {t.user_id: (t.open_now, t.resolved) for t in technicians} == expected_technicians(desk, window)
    assert all(t.name.startswith("Tech ") for t in technicians)

    levels = reads.service_levels(session, scope, filters, zone)
    assert {
        (row.team_id, row.category_id, row.assignee_id): (
            row.first_response_met,
            row.first_response_breached,
            row.resolution_met,
            row.resolution_breached,
            row.open_breached,
        )
        for row in levels
    } == expected_service_levels(desk, window)
    assert all(
        row.assignee_name == f"Tech {desk.technicians.index(row.assignee_id)}"
        for row in levels
        if row.assignee_id
    )

    categories = reads.top_categories(session, scope, filters, zone, limit=5)
    assert [(c.category_id, c.created) for c in categories] == expected_categories(desk, window, limit=5)


def test_a_day_is_the_desk_calendar_day(fresh) -> None:  # type: ignore[no-untyped-def]
    """A ticket raised at 23:30 UTC on 1 November is a 2 November ticket for a desk in Berlin."""
    from datetime import UTC, datetime

    from tests.reports.rows import RawTicket

    session = fresh()
    late = RawTicket(None, None, Priority.NORMAL, None, datetime(2026, 11, 1, 23, 30, tzinfo=UTC), None)
    desk = write_desk(session, [late], TEAMS, CATEGORIES, TECHNICIANS)
    assert desk.tickets
    filters = ReportFilters(first_day=date(2026, 11, 1), last_day=date(2026, 11, 2))
    berlin = reads.volume(session, ReportScope(None), filters, ZoneInfo("Europe/Berlin"))
    utc = reads.volume(session, ReportScope(None), filters, ZoneInfo("UTC"))
    assert (berlin.created, utc.created) == ([0, 1], [1, 0])
