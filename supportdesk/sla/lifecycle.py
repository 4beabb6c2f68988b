"""How a ticket's service-level clocks move. Pure rules: no I/O; the time is passed in.

Two clocks, both counted in the policy's calendar's working time:
- first response: from creation to the desk's first public reply; it never pauses (the desk has not
  answered yet, whatever the status says);
- resolution: runs while the ticket is new or open, stops while it waits on the requester (pending), on
  a third party (on hold) or is resolved, and starts again when it leaves those; closing stops it for good.
The resolution clock is kept incrementally: the working time used so far, and since when it has been
running. `replay` computes the same from a ticket's status history, for recomputing after a calendar or
policy changes, and tests check that both agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from supportdesk.sla.clock import Calendar, Interval, add_working_time, working_time
from supportdesk.tickets.lifecycle import Priority, Status

RUNNING = frozenset({Status.NEW, Status.OPEN})


@dataclass(frozen=True)
class Policy:
    id: int
    priority: Priority | None
    category_id: int | None
    team_id: int | None
    calendar: Calendar
    first_response: timedelta | None
    resolution: timedelta | None

    def matches(self, priority: Priority, category_id: int | None, team_id: int | None) -> bool:
        return (
            (self.priority is None or self.priority is priority)
            and (self.category_id is None or self.category_id == category_id)
            and (self.team_id is None or self.team_id == team_id)
        )


def choose(
    policies: Sequence[Policy], priority: Priority, category_id: int | None, team_id: int | None
) -> Policy | None:
    """The first policy (in the admins' order) whose conditions all hold."""
    return next((p for p in policies if p.matches(priority, category_id, team_id)), None)


@dataclass(frozen=True)
class SlaState:
    """What a ticket stores about its service levels (the columns of the same names)."""

    policy_id: int | None = None
    first_response_due_at: datetime | None = None
    first_response_breached: bool | None = None
    resolution_due_at: datetime | None = None
    resolution_breached: bool | None = None
    worked_seconds: int = 0
    clock_since: datetime | None = None


NO_SERVICE_LEVEL = SlaState()


def advance(
    previous: SlaState,
    policy: Policy | None,
    *,
    created_at: datetime,
    first_response_at: datetime | None,
    status: Status,
    now: datetime,
) -> SlaState:
    """The state after whatever just happened to the ticket (any change: the status, the fields that
    choose the policy, a reply), given the state stored before it."""
    if policy is None:
        return NO_SERVICE_LEVEL
    calendar = policy.calendar
    worked = timedelta(seconds=previous.worked_seconds)
    if previous.clock_since is not None and previous.policy_id is not None:
        worked += working_time(calendar, previous.clock_since, now)
    elif previous.policy_id is None:
        # No service level applied until now (a new ticket, or the first matching policy): start at creation.
        worked = working_time(calendar, created_at, now) if status in RUNNING else timedelta()
    running = status in RUNNING
    first_due = _due(calendar, created_at, policy.first_response)
    first_breached = _first_response_breached(first_due, first_response_at, now)
    resolution_due, resolution_breached = None, None
    if policy.resolution is not None:
        resolution_breached = (
            worked > policy.resolution if worked > policy.resolution or not running else None
        )
        if running:
            left = policy.resolution - worked
            resolution_due = add_working_time(calendar, now, left) if left > timedelta() else now
    return SlaState(
        policy_id=policy.id,
        first_response_due_at=first_due,
        first_response_breached=first_breached,
        resolution_due_at=resolution_due,
        resolution_breached=resolution_breached,
        worked_seconds=int(worked.total_seconds()),
        clock_since=now if running else None,
    )


def replay(
    policy: Policy | None,
    *,
    created_at: datetime,
    first_response_at: datetime | None,
    statuses: Sequence[tuple[datetime, Status]],
    now: datetime,
) -> SlaState:
    """The state computed from the ticket's whole status history ((when, new status), oldest first,
    starting with its creation), as if the policy had applied from the start."""
    if policy is None:
        return NO_SERVICE_LEVEL
    pauses: list[Interval] = []
    for (when, status), (until, _next) in zip(statuses, [*statuses[1:], (now, Status.CLOSED)], strict=True):
        if status not in RUNNING and when < until:
            pauses.append((when, until))
    current = statuses[-1][1] if statuses else Status.NEW
    worked = working_time(policy.calendar, created_at, now, pauses)
    return advance(
        SlaState(policy_id=policy.id, worked_seconds=int(worked.total_seconds()), clock_since=None),
        policy,
        created_at=created_at,
        first_response_at=first_response_at,
        status=current,
        now=now,
    )


def _due(calendar: Calendar, start: datetime, target: timedelta | None) -> datetime | None:
    return None if target is None else add_working_time(calendar, start, target)


def _first_response_breached(
    due: datetime | None, first_response_at: datetime | None, now: datetime
) -> bool | None:
    if due is None:
        return None
    if first_response_at is not None:
        return first_response_at > due
    return True if now > due else None
