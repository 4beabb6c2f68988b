"""Statuses, priorities and the transition table of a ticket. Pure rules: no I/O, no clock."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from supportdesk.accounts.models import Role


class Status(enum.StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"  # waiting on the requester
    ON_HOLD = "on_hold"  # waiting on a third party
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return PRIORITY_ORDER.index(self)


STATUS_LABELS = {
    Status.NEW: "New",
    Status.OPEN: "Open",
    Status.PENDING: "Pending",
    Status.ON_HOLD: "On hold",
    Status.RESOLVED: "Resolved",
    Status.CLOSED: "Closed",
}
# What requesters read: their own words for where their ticket is, and what happens next.
REQUESTER_STATUS_LABELS = {
    Status.NEW: "Received",
    Status.OPEN: "In progress",
    Status.PENDING: "Awaiting your reply",
    Status.ON_HOLD: "Waiting on a third party",
    Status.RESOLVED: "Solved",
    Status.CLOSED: "Closed",
}
REQUESTER_STATUS_HINTS = {
    Status.NEW: "The desk has your ticket and will pick it up soon.",
    Status.OPEN: "The desk is working on it.",
    Status.PENDING: "The desk is waiting for your answer: reply below.",
    Status.ON_HOLD: "The desk is waiting on someone else (a supplier, say) and will tell you when it moves.",
    Status.RESOLVED: "The desk thinks this is solved. Reply if it is not, or close it.",
    Status.CLOSED: "This ticket is closed.",
}
PRIORITY_ORDER = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
ACTIVE_STATUSES = frozenset({Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD})
DONE_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED})

# What staff (technicians and admins) may do. Anything not listed is refused.
STAFF_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.RESOLVED, Status.CLOSED}),
    Status.OPEN: frozenset({Status.PENDING, Status.ON_HOLD, Status.RESOLVED, Status.CLOSED}),
    Status.PENDING: frozenset({Status.OPEN, Status.ON_HOLD, Status.RESOLVED, Status.CLOSED}),
    Status.ON_HOLD: frozenset({Status.OPEN, Status.PENDING, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset({Status.OPEN}),
}

# Requesters may say "my problem is solved" (close) and reopen; the rest is the desk's work.
REQUESTER_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.CLOSED}),
    Status.OPEN: frozenset({Status.CLOSED}),
    Status.PENDING: frozenset({Status.CLOSED}),
    Status.ON_HOLD: frozenset({Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset({Status.OPEN}),
}

REQUESTER_PRIORITIES = frozenset({Priority.LOW, Priority.NORMAL, Priority.HIGH})


def allowed_transitions(current: Status, role: Role) -> frozenset[Status]:
    table = REQUESTER_TRANSITIONS if role is Role.REQUESTER else STAFF_TRANSITIONS
    return table[current]


def within_reopen_window(closed_at: datetime | None, now: datetime, window: timedelta) -> bool:
    return closed_at is not None and now - closed_at <= window


def transition_refusal(
    current: Status,
    target: Status,
    role: Role,
    closed_at: datetime | None,
    now: datetime,
    reopen_window: timedelta,
) -> str | None:
    """Why `role` may not move a ticket from `current` to `target`, or None when it may."""
    if target == current:
        return f"The ticket is already {current.label.lower()}."
    if target not in allowed_transitions(current, role):
        return f"A ticket cannot go from {current.label.lower()} to {target.label.lower()}."
    if (
        role is Role.REQUESTER
        and current is Status.CLOSED
        and not within_reopen_window(closed_at, now, reopen_window)
    ):
        days = reopen_window.days
        return f"This ticket was closed more than {days} days ago; please raise a new ticket instead."
    return None


def status_after_reply(current: Status, author_role: Role, internal: bool) -> Status:
    """The status a public reply leads to: the desk's first answer opens a new ticket, and the
    requester answering a pending or resolved ticket puts it back in the desk's hands."""
    if internal:
        return current
    if author_role is Role.REQUESTER:
        return Status.OPEN if current in (Status.PENDING, Status.RESOLVED) else current
    return Status.OPEN if current is Status.NEW else current


def timestamps_for(
    status: Status,
    resolved_at: datetime | None,
    closed_at: datetime | None,
    now: datetime,
) -> tuple[datetime | None, datetime | None]:
    """The (resolved_at, closed_at) a ticket must carry in `status`: resolved_at is set exactly when the
    ticket is resolved or closed, closed_at exactly when it is closed."""
    if status is Status.CLOSED:
        return resolved_at or now, closed_at or now
    if status is Status.RESOLVED:
        return resolved_at or now, None
    return None, None
