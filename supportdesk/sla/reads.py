"""What the desk shows of a ticket's service levels: time left in working time, in words that read
without colour. Plain values; no query beyond the cached policies."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, false, or_
from sqlalchemy.orm import Session

from supportdesk.sla.clock import working_time
from supportdesk.sla.lifecycle import Policy
from supportdesk.sla.service import policies
from supportdesk.tickets.models import Ticket

# The policies' warning times, in minutes, each with the ids of the policies that have it.
WarningGroups = tuple[tuple[int, tuple[int, ...]], ...]


class DueState(enum.StrEnum):
    ON_TRACK = "on-track"
    AT_RISK = "at-risk"
    OVERDUE = "overdue"
    PAUSED = "paused"
    MET = "met"
    MISSED = "missed"


@dataclass(frozen=True)
class Due:
    state: DueState
    text: str  # "2 h 10 min left", "Overdue by 20 min", "Paused", "Met"
    at: datetime | None = None


@dataclass(frozen=True)
class Targets:
    """A ticket's service levels as its sidebar shows them."""

    policy_name: str
    first_response: Due | None
    resolution: Due | None


class HasServiceLevels(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def sla_policy_id(self) -> int | None: ...
    @property
    def first_response_at(self) -> datetime | None: ...
    @property
    def first_response_due_at(self) -> datetime | None: ...
    @property
    def first_response_breached(self) -> bool | None: ...
    @property
    def resolution_due_at(self) -> datetime | None: ...
    @property
    def resolution_breached(self) -> bool | None: ...
    @property
    def next_due_at(self) -> datetime | None: ...


def in_use(session: Session) -> bool:
    """Whether the desk has any service-level policy (the due column and views show only then)."""
    return bool(policies(session))


def warning_groups(session: Session) -> WarningGroups:
    """Which policies warn how long before a target falls due (a handful of distinct times)."""
    groups: dict[int, list[int]] = defaultdict(list)
    for policy in policies(session):
        groups[int(policy.warning.total_seconds() // 60)].append(policy.id)
    return tuple(sorted((minutes, tuple(ids)) for minutes, ids in groups.items()))


def at_risk_conditions(
    groups: WarningGroups, due_now: Any, due_within: Callable[[int], Any]
) -> list[ColumnElement[bool]]:
    """The WHERE terms of "at risk": the next target falls due from `due_now` on and sooner than its
    policy's warning time. `due_within(minutes)` is that moment (a value or a bound parameter). The
    first range (up to the longest warning time) reads a short stretch of the due-time index; the
    policies' own times then narrow it."""
    if not groups:
        return [false()]  # no policy: nothing is at risk
    longest = max(minutes for minutes, _ in groups)
    conditions = [Ticket.next_due_at >= due_now, Ticket.next_due_at < due_within(longest)]
    if len(groups) > 1:
        conditions.append(
            or_(
                *(
                    and_(Ticket.sla_policy_id.in_(ids), Ticket.next_due_at < due_within(minutes))
                    for minutes, ids in groups
                )
            )
        )
    return conditions


def due_window(groups: WarningGroups, now: datetime) -> dict[str, datetime]:
    """The values of the bound parameters `at_risk_conditions` is given by the list queries."""
    return {
        "due_now": now,
        **{f"due_soon_{minutes}": now + timedelta(minutes=minutes) for minutes, _ in groups},
    }


def duration_words(amount: timedelta) -> str:
    minutes = max(0, int(amount.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def _running(policy: Policy, due: datetime, now: datetime) -> Due:
    if due <= now:
        late = working_time(policy.calendar, due, now)
        return Due(DueState.OVERDUE, f"Overdue by {duration_words(late)}", due)
    left = working_time(policy.calendar, now, due)
    state = DueState.AT_RISK if due - now < policy.warning else DueState.ON_TRACK
    return Due(state, f"{duration_words(left)} left", due)


def _policy(session: Session, ticket: HasServiceLevels) -> Policy | None:
    if ticket.sla_policy_id is None:
        return None
    return next((p for p in policies(session) if p.id == ticket.sla_policy_id), None)


def next_due(session: Session, tickets: Iterable[HasServiceLevels], now: datetime) -> dict[int, Due]:
    """For a queue: each ticket's next running target (tickets without one are left out)."""
    shown: dict[int, Due] = {}
    for ticket in tickets:
        policy = _policy(session, ticket)
        if policy is not None and ticket.next_due_at is not None:
            shown[ticket.id] = _running(policy, ticket.next_due_at, now)
    return shown


def targets(session: Session, ticket: HasServiceLevels, now: datetime) -> Targets | None:
    """For a ticket's sidebar: each target, its state, and whether its clock is paused."""
    policy = _policy(session, ticket)
    if policy is None:
        return None
    first: Due | None = None
    if ticket.first_response_due_at is not None:
        if ticket.first_response_at is not None:
            missed = bool(ticket.first_response_breached)
            first = Due(DueState.MISSED if missed else DueState.MET, "Missed" if missed else "Met")
        else:
            first = _running(policy, ticket.first_response_due_at, now)
    resolution: Due | None = None
    if policy.resolution is not None:
        if ticket.resolution_due_at is not None:
            resolution = _running(policy, ticket.resolution_due_at, now)
        elif ticket.resolution_breached:
            resolution = Due(DueState.MISSED, "Missed (clock stopped)")
        else:
            resolution = Due(DueState.PAUSED, "Clock stopped while the ticket waits or is resolved")
    return Targets(policy.name, first, resolution)
