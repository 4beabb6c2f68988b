"""Keeping every ticket's due times right. Called by the ticket service inside the caller's unit of
work after each change, so a due time can never disagree with the change that moved it."""

from __future__ import annotations

from dataclasses import astuple
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from supportdesk.core.caching import BriefCache
from supportdesk.sla import lifecycle
from supportdesk.sla.lifecycle import Policy, SlaState
from supportdesk.sla.models import BusinessCalendar, SlaPolicy
from supportdesk.tickets.lifecycle import ACTIVE_STATUSES
from supportdesk.tickets.models import Ticket, status_in

# The policies change a few times a year and are read on every ticket write: one read per minute per
# process at most, dropped as soon as this process commits a change to them.
_policies: BriefCache[int, tuple[Policy, ...]] = BriefCache(60.0, depends_on=(SlaPolicy, BusinessCalendar))

_COLUMNS = (
    "sla_policy_id",
    "first_response_due_at",
    "first_response_breached",
    "resolution_due_at",
    "resolution_breached",
    "sla_worked_seconds",
    "sla_clock_since",
    "next_due_at",
)


def policies(session: Session, *, fresh: bool = False) -> tuple[Policy, ...]:
    """Every policy, in the order they are tried."""
    return _policies.get(id(session.get_bind()), lambda: _load_policies(session), fresh=fresh)


def _load_policies(session: Session) -> tuple[Policy, ...]:
    # Read in the middle of a change: flushing it here would raise a concurrent edit's StaleDataError
    # where the ticket service cannot turn it into a conflict.
    with session.no_autoflush:
        rows = session.execute(
            select(SlaPolicy, BusinessCalendar)
            .join(BusinessCalendar, SlaPolicy.calendar_id == BusinessCalendar.id)
            .order_by(SlaPolicy.position, SlaPolicy.id)
        ).all()
    return tuple(
        Policy(
            id=policy.id,
            name=policy.name,
            priority=policy.priority,
            category_id=policy.category_id,
            team_id=policy.team_id,
            calendar=calendar.to_calendar(),
            first_response=_minutes(policy.first_response_minutes),
            resolution=_minutes(policy.resolution_minutes),
            warning=timedelta(minutes=policy.warning_minutes),
            escalate_priority=policy.escalate_priority,
            escalate_to_team_id=policy.escalate_to_team_id,
        )
        for policy, calendar in rows
    )


def _minutes(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(minutes=value)


def stored_state(ticket: Ticket) -> SlaState:
    state = SlaState(*(getattr(ticket, column) for column in _COLUMNS))
    # A ticket not yet flushed has no column defaults yet.
    return state if state.worked_seconds is not None else SlaState(**{**state.__dict__, "worked_seconds": 0})


def store_state(ticket: Ticket, state: SlaState) -> None:
    for column, value in zip(_COLUMNS, astuple(state), strict=True):
        if getattr(ticket, column) != value:  # untouched columns stay out of the UPDATE
            setattr(ticket, column, value)


def related_id(ticket: Ticket, relation: str, column: str) -> int | None:
    """The id of a related row, right before a flush too: changes assign the related object, and
    its foreign key column is only filled in when the session flushes."""
    if relation in ticket.__dict__:
        related = ticket.__dict__[relation]
        return None if related is None else int(related.id)
    value = getattr(ticket, column)
    return None if value is None else int(value)


def keep_due_times(session: Session, ticket: Ticket, now: datetime) -> None:
    """Bring the ticket's due times up to date after a change made at `now` (flushes nothing)."""
    known = policies(session)
    if not known and ticket.sla_policy_id is None:
        return  # a desk without service levels pays nothing
    policy = lifecycle.choose(
        known,
        ticket.priority,
        related_id(ticket, "category", "category_id"),
        related_id(ticket, "team", "team_id"),
    )
    previous = stored_state(ticket)
    if policy is not None and previous.policy_id is not None and previous.policy_id != policy.id:
        previous = SlaState(
            policy_id=policy.id, worked_seconds=previous.worked_seconds, clock_since=previous.clock_since
        )
    store_state(
        ticket,
        lifecycle.advance(
            previous,
            policy,
            created_at=ticket.created_at,
            first_response_at=ticket.first_response_at,
            status=ticket.status,
            now=now,
        ),
    )


def mark_breaches(session: Session, now: datetime, limit: int = 500) -> int:
    """Set the breached flags of up to `limit` tickets whose running target time alone has passed (no
    change to the ticket did it); the job runs it until it marks fewer than `limit`. Tickets another
    transaction is changing are left for the next round."""
    overdue = session.scalars(
        select(Ticket)
        .where(
            status_in(ACTIVE_STATUSES),
            Ticket.next_due_at < now,
            or_(
                and_(Ticket.resolution_due_at < now, Ticket.resolution_breached.is_(None)),
                and_(
                    Ticket.first_response_at.is_(None),
                    Ticket.first_response_due_at < now,
                    Ticket.first_response_breached.is_(None),
                ),
            ),
        )
        .order_by(Ticket.next_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for ticket in overdue:
        keep_due_times(session, ticket, now)
    session.flush()
    return len(overdue)
