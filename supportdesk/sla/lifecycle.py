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

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from supportdesk.sla.clock import Calendar, add_working_time, working_time
from supportdesk.tickets.lifecycle import PRIORITY_ORDER, Priority, Status

RUNNING = frozenset({Status.NEW, Status.OPEN})
# A policy's warning time unless its admins set another: a ticket whose next target falls due sooner
# than this is "at risk" (the desk's view of that name), and its people are warned.
DEFAULT_WARNING = timedelta(hours=1)
# A breach found later than this is not news: no alarm, no escalation. It keeps a new policy (whose
# recompute finds old tickets long overdue) or a worker back from a long outage from raising and
# moving every old ticket at once.
BREACH_NEWS_WITHIN = timedelta(days=1)


@dataclass(frozen=True)
class Policy:
    id: int
    name: str
    priority: Priority | None
    category_id: int | None
    team_id: int | None
    calendar: Calendar
    first_response: timedelta | None
    resolution: timedelta | None
    warning: timedelta = DEFAULT_WARNING
    escalate_priority: bool = False
    escalate_to_team_id: int | None = None

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
    # The earliest target still running (what the queues sort and warn by): the first response while
    # the desk has not answered, and the resolution while its clock runs.
    next_due_at: datetime | None = None


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
    choose the policy, a reply), given the state stored before it. A change that neither starts nor
    stops the resolution clock leaves its columns as they were."""
    if policy is None:
        return NO_SERVICE_LEVEL
    running = status in RUNNING
    worked = timedelta(seconds=previous.worked_seconds)  # used before `since`
    since = previous.clock_since  # when the clock last started; None while it is stopped
    if previous.policy_id is None:
        # The first policy to apply: count as if it had applied since the ticket was raised.
        worked, since = timedelta(), created_at if running else None
    elif since is not None and not running:
        worked, since = worked + working_time(policy.calendar, since, now), None
    elif since is None and running:
        since = now
    return _state(policy, worked, since, created_at=created_at, first_response_at=first_response_at, now=now)


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
    worked, since = timedelta(), None
    for when, status in statuses:
        if status in RUNNING and since is None:
            since = when
        elif status not in RUNNING and since is not None:
            worked, since = worked + working_time(policy.calendar, since, when), None
    return _state(policy, worked, since, created_at=created_at, first_response_at=first_response_at, now=now)


def _state(
    policy: Policy,
    worked: timedelta,
    since: datetime | None,
    *,
    created_at: datetime,
    first_response_at: datetime | None,
    now: datetime,
) -> SlaState:
    calendar = policy.calendar
    first_due = _due(calendar, created_at, policy.first_response)
    resolution_due, resolution_breached = None, None
    if policy.resolution is not None:
        worked_now = worked + (working_time(calendar, since, now) if since is not None else timedelta())
        overrun = worked_now > policy.resolution
        resolution_breached = overrun if overrun or since is None else None  # unknown while it can be met
        if since is not None:
            left = policy.resolution - worked
            resolution_due = add_working_time(calendar, since, left) if left > timedelta() else since
    running_targets = [due for due in (resolution_due,) if due is not None]
    if first_due is not None and first_response_at is None:
        running_targets.append(first_due)
    return SlaState(
        policy_id=policy.id,
        first_response_due_at=first_due,
        first_response_breached=_first_response_breached(first_due, first_response_at, now),
        resolution_due_at=resolution_due,
        resolution_breached=resolution_breached,
        worked_seconds=int(worked.total_seconds()),
        clock_since=since,
        next_due_at=min(running_targets, default=None),
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


class Target(enum.StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class Alarm(enum.StrEnum):
    WARNING = "warning"  # the target falls due within the policy's warning time
    BREACH = "breach"  # the target's time has passed while it still runs


@dataclass(frozen=True)
class Alert:
    alarm: Alarm
    target: Target
    due: datetime


def running_targets(
    first_response_due_at: datetime | None,
    first_response_at: datetime | None,
    resolution_due_at: datetime | None,
) -> list[tuple[Target, datetime]]:
    """The targets whose clock runs: the first response until the desk answers, the resolution while
    its clock runs (its due time is only kept then)."""
    running = []
    if first_response_due_at is not None and first_response_at is None:
        running.append((Target.FIRST_RESPONSE, first_response_due_at))
    if resolution_due_at is not None:
        running.append((Target.RESOLUTION, resolution_due_at))
    return running


def alerts_due(
    policy: Policy,
    running: Sequence[tuple[Target, datetime]],
    already: Collection[tuple[Alarm, Target]],
    now: datetime,
) -> list[Alert]:
    """What to raise now about a ticket's running targets, given what was raised before (each alarm
    once per target and ticket). A target found already past due gets its breach and no warning."""
    alerts = []
    for target, due in running:
        if due < now:
            if (Alarm.BREACH, target) not in already and now - due <= BREACH_NEWS_WITHIN:
                alerts.append(Alert(Alarm.BREACH, target, due))
        elif due - now < policy.warning and not {(Alarm.WARNING, target), (Alarm.BREACH, target)} & set(
            already
        ):
            alerts.append(Alert(Alarm.WARNING, target, due))
    return alerts


def raised(priority: Priority) -> Priority:
    """One step more urgent (urgent stays urgent)."""
    return PRIORITY_ORDER[min(priority.rank + 1, len(PRIORITY_ORDER) - 1)]
