"""Every ticket's due times follow the policy that matches it, on its calendar, through every change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportdesk.core import clock
from supportdesk.sla import lifecycle
from supportdesk.sla.clock import ALWAYS, Calendar, Window
from supportdesk.sla.lifecycle import Policy, SlaState
from supportdesk.sla.models import BusinessCalendar
from supportdesk.sla.service import policies
from supportdesk.tickets import service
from supportdesk.tickets.lifecycle import Priority, Status
from supportdesk.tickets.service import TicketChanges
from tests.factories import (
    make_calendar,
    make_category,
    make_policy,
    make_requester,
    make_team,
    make_technician,
)

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE_HOURS = {str(day): [[9 * 60, 17 * 60]] for day in range(5)}


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in November 2026 on the Berlin wall clock (the 27th is a Friday)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


@pytest.fixture
def desk(session):
    calendar = make_calendar(session, "Berlin office", zone="Europe/Berlin", weekly=OFFICE_HOURS)
    make_policy(
        session,
        calendar,
        "Urgent",
        position=1,
        priority=Priority.URGENT,
        first_response_minutes=30,
        resolution_minutes=120,
    )
    make_policy(
        session, calendar, "Everything else", position=2, first_response_minutes=60, resolution_minutes=8 * 60
    )
    return {"employee": make_requester(session), "tech": make_technician(session)}


def raise_ticket(session, who, at, **fields):
    with clock.frozen_at(at):
        ticket = service.create_ticket(session, who, subject="VPN drops every hour", **fields)
    session.commit()
    return ticket


def change(session, who, ticket, at, **changes):
    with clock.frozen_at(at):
        service.update_ticket(session, who, ticket.number, TicketChanges(**changes))
    session.commit()


def test_targets_count_only_working_hours_on_the_policys_calendar(session, desk):
    ticket = raise_ticket(session, desk["employee"], berlin(27, 16))  # Friday, one office hour left
    assert ticket.first_response_due_at == berlin(27, 17)
    assert ticket.resolution_due_at == berlin(30, 16)  # 1 hour on Friday, 7 on Monday
    assert ticket.first_response_breached is None and ticket.resolution_breached is None


def test_waiting_on_the_requester_stops_the_resolution_clock(session, desk):
    ticket = raise_ticket(session, desk["employee"], berlin(23, 9))  # Monday
    change(session, desk["tech"], ticket, berlin(23, 10), status=Status.PENDING)
    assert ticket.resolution_due_at is None  # paused: no due time while the desk waits
    change(session, desk["tech"], ticket, berlin(24, 9), status=Status.OPEN)  # Tuesday
    assert ticket.resolution_due_at == berlin(24, 16)  # 1 hour used on Monday, 7 left


def test_a_reopened_ticket_resumes_its_resolution_clock(session, desk):
    ticket = raise_ticket(session, desk["employee"], berlin(23, 9))
    change(session, desk["tech"], ticket, berlin(23, 13), status=Status.RESOLVED)
    assert ticket.resolution_breached is False
    change(session, desk["tech"], ticket, berlin(25, 9), status=Status.OPEN)  # reopened on Wednesday
    assert ticket.resolution_due_at == berlin(25, 13)


def test_a_priority_change_applies_the_other_policy_to_the_time_already_used(session, desk):
    ticket = raise_ticket(session, desk["employee"], berlin(23, 9))
    change(session, desk["tech"], ticket, berlin(23, 10), priority=Priority.URGENT)
    assert ticket.resolution_due_at == berlin(23, 11)  # 2 hours for urgent, 1 used
    assert ticket.first_response_due_at == berlin(23, 9, 30)
    change(session, desk["tech"], ticket, berlin(23, 12), priority=Priority.NORMAL)
    assert ticket.resolution_due_at == berlin(23, 17)  # 8 hours for the rest, 3 used


def test_the_first_public_reply_meets_or_misses_the_first_response_target(session, desk):
    on_time = raise_ticket(session, desk["employee"], berlin(23, 9))
    late = raise_ticket(session, desk["employee"], berlin(23, 9))
    note = raise_ticket(session, desk["employee"], berlin(23, 9))
    for ticket, at, internal in ((on_time, berlin(23, 9, 45), False), (late, berlin(23, 11), False)):
        with clock.frozen_at(at):
            service.add_comment(session, desk["tech"], ticket.number, "Looking at it.", internal=internal)
        session.commit()
    with clock.frozen_at(berlin(23, 9, 45)):
        service.add_comment(session, desk["tech"], note.number, "Known issue?", internal=True)
    session.commit()
    assert on_time.first_response_breached is False
    assert late.first_response_breached is True
    assert note.first_response_breached is None  # an internal note is no response


def test_the_first_matching_policy_applies(session, desk):
    team = make_team(session, "Network")
    category = make_category(session, "VPN", team=team)
    calendar = session.query(BusinessCalendar).one()
    make_policy(session, calendar, "Network first", position=0, team_id=team.id, first_response_minutes=15)
    networked = raise_ticket(session, desk["employee"], berlin(23, 9), category_id=category.id)
    other = raise_ticket(session, desk["employee"], berlin(23, 9))
    assert networked.first_response_due_at == berlin(23, 9, 15)
    assert networked.resolution_due_at is None  # this policy sets no resolution target
    assert other.first_response_due_at == berlin(23, 10)


def test_a_desk_without_policies_stores_no_due_times(session):
    policies(session, fresh=True)
    ticket = raise_ticket(session, make_requester(session), berlin(23, 9))
    assert (ticket.first_response_due_at, ticket.resolution_due_at, ticket.sla_policy_id) == (
        None,
        None,
        None,
    )


# --- the incremental clock agrees with a replay of the whole history -----------------------------------

OFFICE = Calendar(zone="Europe/Berlin", weekly={day: (Window(9 * 60, 17 * 60),) for day in range(5)})
POLICY = Policy(1, "Office", None, None, None, OFFICE, timedelta(hours=1), timedelta(hours=16))
START = berlin(20, 8)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(
        st.tuples(st.integers(1, 3 * 24 * 60), st.sampled_from(sorted(Status, key=str))), max_size=8
    ),
    calendar=st.sampled_from([OFFICE, ALWAYS]),
)
def test_keeping_the_clock_step_by_step_agrees_with_replaying_the_history(steps, calendar):
    policy = Policy(1, "Office", None, None, None, calendar, POLICY.first_response, POLICY.resolution)
    state = lifecycle.advance(
        SlaState(), policy, created_at=START, first_response_at=None, status=Status.NEW, now=START
    )
    history = [(START, Status.NEW)]
    at = START
    for minutes, status in steps:
        at += timedelta(minutes=minutes)
        history.append((at, status))
        state = lifecycle.advance(
            state, policy, created_at=START, first_response_at=None, status=status, now=at
        )
    replayed = lifecycle.replay(policy, created_at=START, first_response_at=None, statuses=history, now=at)
    # Whole seconds are stored after each step: at most one second lost per step.
    assert abs(state.worked_seconds - replayed.worked_seconds) <= len(steps)
    assert state.resolution_breached == replayed.resolution_breached or abs(
        replayed.worked_seconds - POLICY.resolution.total_seconds()
    ) <= len(steps)
    if state.resolution_due_at is not None:
        assert replayed.resolution_due_at is not None
        assert abs(state.resolution_due_at - replayed.resolution_due_at) <= timedelta(seconds=len(steps))
    else:
        assert replayed.resolution_due_at is None
