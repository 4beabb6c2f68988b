"""Warnings before a breach and escalation on one, raised by a periodic job.

Each alarm is written as a system event in the ticket's activity log (`EventKind.SLA_WARNING`,
`SLA_BREACH`, naming the target): that record is what makes the job idempotent (it raises an alarm only
when the ticket has none of its kind for that target), and what the notification hooks turn into
in-app notifications and outbox messages when the unit of work commits. A breach also applies the
policy's escalation: the priority one step up, the ticket moved to another team, with their own audit
events. Only the tickets whose next target falls due within the longest warning time, or has passed
within `BREACH_NEWS_WITHIN`, are read: a short stretch of the due-time index."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from supportdesk.accounts.models import Team
from supportdesk.routing import service as routing
from supportdesk.sla import lifecycle
from supportdesk.sla.lifecycle import BREACH_NEWS_WITHIN, Alarm, Alert, Policy, Target
from supportdesk.sla.service import keep_due_times, policies, related_id
from supportdesk.tickets.changes import record_event
from supportdesk.tickets.lifecycle import ACTIVE_STATUSES, Priority
from supportdesk.tickets.models import EventKind, Ticket, TicketEvent, status_in

BATCH = 200
_ALARM_EVENTS = {Alarm.WARNING: EventKind.SLA_WARNING, Alarm.BREACH: EventKind.SLA_BREACH}
_EVENT_ALARMS = {kind: alarm for alarm, kind in _ALARM_EVENTS.items()}
_TARGETS = frozenset(target.value for target in Target)


@dataclass(frozen=True)
class Position:
    """Where a pass over the candidates has got to (keyset: due time, then id)."""

    due: datetime
    id: int


def escalate(session: Session, now: datetime, batch: int = BATCH) -> int:
    """Raise every alarm due at `now` in one unit of work (tests, the CLI); how many. The job commits a
    batch at a time instead (`escalate_batch`)."""
    raised, position = 0, None
    while True:
        done, position = escalate_batch(session, now, position, batch)
        raised += done
        if position is None:
            return raised


def escalate_batch(
    session: Session, now: datetime, after: Position | None, batch: int = BATCH
) -> tuple[int, Position | None]:
    """Look at the next `batch` candidates after `after`; the alarms raised, and where the next batch
    starts (None at the end). Tickets another transaction is changing are left for the next run."""
    known = {policy.id: policy for policy in policies(session)}
    if not known:
        return 0, None
    horizon = now + max(policy.warning for policy in known.values())
    query = (
        select(
            Ticket.id,
            Ticket.next_due_at,
            Ticket.sla_policy_id,
            Ticket.first_response_due_at,
            Ticket.first_response_at,
            Ticket.resolution_due_at,
        )
        .where(
            status_in(ACTIVE_STATUSES),
            Ticket.next_due_at >= now - BREACH_NEWS_WITHIN,
            Ticket.next_due_at < horizon,
        )
        .order_by(Ticket.next_due_at, Ticket.id)
        .limit(batch)
    )
    if after is not None:
        query = query.where(tuple_(Ticket.next_due_at, Ticket.id) > tuple_(after.due, after.id))
    rows = session.execute(query).all()
    if not rows:
        return 0, None
    already = _raised_before(session, [row.id for row in rows])
    wanted = [
        row.id
        for row in rows
        if row.sla_policy_id in known
        and lifecycle.alerts_due(
            known[row.sla_policy_id],
            lifecycle.running_targets(
                row.first_response_due_at, row.first_response_at, row.resolution_due_at
            ),
            already[row.id],
            now,
        )
    ]
    raised = _raise(session, known, wanted, now) if wanted else 0
    last = rows[-1]
    return raised, (Position(last.next_due_at, last.id) if len(rows) == batch else None)


def _raise(session: Session, known: dict[int, Policy], ticket_ids: list[int], now: datetime) -> int:
    # Locked, then what was raised read again: a run that looked at the same tickets at the same time
    # committed before our lock was granted, and its events are visible to this new statement.
    tickets = session.scalars(
        select(Ticket)
        .where(Ticket.id.in_(ticket_ids))
        .order_by(Ticket.id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    already = _raised_before(session, [ticket.id for ticket in tickets])
    raised = 0
    for ticket in tickets:
        policy = known.get(ticket.sla_policy_id) if ticket.sla_policy_id is not None else None
        if policy is None or ticket.status not in ACTIVE_STATUSES:
            continue
        running = lifecycle.running_targets(
            ticket.first_response_due_at, ticket.first_response_at, ticket.resolution_due_at
        )
        for alert in lifecycle.alerts_due(policy, running, already[ticket.id], now):
            _record(session, ticket, policy, alert, now)
            raised += 1
    session.flush()
    return raised


def _record(session: Session, ticket: Ticket, policy: Policy, alert: Alert, now: datetime) -> None:
    if alert.alarm is Alarm.WARNING:
        record_event(ticket, None, _ALARM_EVENTS[Alarm.WARNING], None, alert.target.value, now)
        return
    # The team it breached in: its lead is told even when the escalation moves the ticket on.
    team_id = related_id(ticket, "team", "team_id")
    record_event(ticket, None, EventKind.SLA_BREACH, _ref(team_id), alert.target.value, now)
    _escalate(session, ticket, policy, now)


def _escalate(session: Session, ticket: Ticket, policy: Policy, now: datetime) -> None:
    """The policy's escalation, as the system's own changes (audit events without an actor)."""
    changed = False
    if policy.escalate_priority and ticket.priority is not Priority.URGENT:
        higher = lifecycle.raised(ticket.priority)
        record_event(ticket, None, EventKind.PRIORITY, ticket.priority.value, higher.value, now)
        ticket.priority = higher
        changed = True
    target = policy.escalate_to_team_id
    team = session.get(Team, target) if target is not None else None
    if team is not None and related_id(ticket, "team", "team_id") != team.id:
        record_event(
            ticket, None, EventKind.TEAM, _ref(related_id(ticket, "team", "team_id")), str(team.id), now
        )
        ticket.team = team
        assignee = ticket.assignee
        if assignee is not None and assignee not in team.members:
            # The team it moved to takes it over (its members are told of the breach).
            record_event(ticket, None, EventKind.ASSIGNEE, str(assignee.id), None, now)
            ticket.assignee = None
        routing.assign_automatically(session, ticket, now)  # as the team it moved to hands them out
        changed = True
    if changed:
        ticket.updated_at = now
        keep_due_times(session, ticket, now)


def _raised_before(session: Session, ticket_ids: list[int]) -> dict[int, set[tuple[Alarm, Target]]]:
    found: dict[int, set[tuple[Alarm, Target]]] = defaultdict(set)
    if not ticket_ids:
        return found
    rows = session.execute(
        select(TicketEvent.ticket_id, TicketEvent.kind, TicketEvent.new_value).where(
            TicketEvent.ticket_id.in_(ticket_ids),
            TicketEvent.kind.in_([EventKind.SLA_WARNING, EventKind.SLA_BREACH]),
        )
    )
    for ticket_id, kind, target in rows:
        if target in _TARGETS:
            found[ticket_id].add((_EVENT_ALARMS[kind], Target(target)))
    return found


def _ref(value: int | None) -> str | None:
    return None if value is None else str(value)
