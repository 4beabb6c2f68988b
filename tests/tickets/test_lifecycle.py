from datetime import UTC, datetime, timedelta

import pytest

from supportdesk.accounts.models import Role
from supportdesk.tickets import lifecycle
from supportdesk.tickets.lifecycle import Status

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=14)


def test_every_status_has_a_row_in_both_tables():
    assert set(lifecycle.STAFF_TRANSITIONS) == set(Status)
    assert set(lifecycle.REQUESTER_TRANSITIONS) == set(Status)


def test_requesters_can_do_no_more_than_staff():
    for status in Status:
        assert lifecycle.REQUESTER_TRANSITIONS[status] <= lifecycle.STAFF_TRANSITIONS[status]


def test_no_status_transitions_to_itself():
    for table in (lifecycle.STAFF_TRANSITIONS, lifecycle.REQUESTER_TRANSITIONS):
        for status, targets in table.items():
            assert status not in targets


@pytest.mark.parametrize(
    ("current", "target", "role", "allowed"),
    [
        (Status.NEW, Status.OPEN, Role.TECHNICIAN, True),
        (Status.OPEN, Status.RESOLVED, Role.ADMIN, True),
        (Status.RESOLVED, Status.PENDING, Role.TECHNICIAN, False),
        (Status.CLOSED, Status.RESOLVED, Role.TECHNICIAN, False),
        (Status.OPEN, Status.RESOLVED, Role.REQUESTER, False),
        (Status.OPEN, Status.CLOSED, Role.REQUESTER, True),
        (Status.RESOLVED, Status.OPEN, Role.REQUESTER, True),
        (Status.PENDING, Status.OPEN, Role.REQUESTER, False),
    ],
)
def test_transition_table(current, target, role, allowed):
    refusal = lifecycle.transition_refusal(current, target, role, None, NOW, WINDOW)
    assert (refusal is None) is allowed


def test_same_status_is_refused_with_a_reason():
    assert lifecycle.transition_refusal(Status.OPEN, Status.OPEN, Role.TECHNICIAN, None, NOW, WINDOW) == (
        "The ticket is already open."
    )


def test_requester_reopens_only_within_the_window():
    recent = NOW - timedelta(days=13)
    old = NOW - timedelta(days=15)
    assert (
        lifecycle.transition_refusal(Status.CLOSED, Status.OPEN, Role.REQUESTER, recent, NOW, WINDOW) is None
    )
    refusal = lifecycle.transition_refusal(Status.CLOSED, Status.OPEN, Role.REQUESTER, old, NOW, WINDOW)
    assert refusal is not None
    assert "raise a new ticket" in refusal


def test_staff_reopen_closed_tickets_at_any_time():
    long_ago = NOW - timedelta(days=400)
    assert (
        lifecycle.transition_refusal(Status.CLOSED, Status.OPEN, Role.TECHNICIAN, long_ago, NOW, WINDOW)
        is None
    )


@pytest.mark.parametrize(
    ("current", "role", "internal", "expected"),
    [
        (Status.NEW, Role.TECHNICIAN, False, Status.OPEN),
        (Status.NEW, Role.TECHNICIAN, True, Status.NEW),
        (Status.PENDING, Role.TECHNICIAN, False, Status.PENDING),
        (Status.PENDING, Role.REQUESTER, False, Status.OPEN),
        (Status.RESOLVED, Role.REQUESTER, False, Status.OPEN),
        (Status.ON_HOLD, Role.REQUESTER, False, Status.ON_HOLD),
        (Status.NEW, Role.REQUESTER, False, Status.NEW),
    ],
)
def test_status_after_reply(current, role, internal, expected):
    assert lifecycle.status_after_reply(current, role, internal) is expected


def test_timestamps_follow_the_status():
    earlier = NOW - timedelta(days=1)
    assert lifecycle.timestamps_for(Status.RESOLVED, None, None, NOW) == (NOW, None)
    assert lifecycle.timestamps_for(Status.CLOSED, earlier, None, NOW) == (earlier, NOW)
    assert lifecycle.timestamps_for(Status.CLOSED, None, None, NOW) == (NOW, NOW)
    assert lifecycle.timestamps_for(Status.OPEN, earlier, earlier, NOW) == (None, None)


def test_priorities_rank_in_order_and_statuses_have_labels():
    assert [p.rank for p in lifecycle.PRIORITY_ORDER] == [0, 1, 2, 3]
    assert Status.ON_HOLD.label == "On hold"
