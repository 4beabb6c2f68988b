""" "Next ticket": one press hands a technician the most urgent unassigned ticket of their teams and
assigns it to them in the same unit of work. Two technicians pressing at the same moment never get the
same ticket: PostgreSQL skips a row another taker has locked, SQLite runs one writer at a time."""

from __future__ import annotations

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from supportdesk.accounts import policy
from supportdesk.accounts.models import User
from supportdesk.tickets import service
from supportdesk.tickets.lifecycle import ACTIVE_STATUSES, Priority, Status
from supportdesk.tickets.models import Ticket, status_in
from supportdesk.tickets.reads import teams_of

_URGENCY = case({p.value: p.rank for p in Priority}, value=Ticket.priority)
# Waiting tickets are not for taking: the desk is waiting on someone else.
_TAKEABLE = ACTIVE_STATUSES - {Status.PENDING, Status.ON_HOLD}


def take_next(session: Session, actor: User) -> Ticket | None:
    """Assign the most urgent unassigned ticket of the actor's teams (and those of no team) to the
    actor: the earliest running service-level target first, then the highest priority, then the
    oldest. None when there is nothing to take."""
    policy.require_desk_member(actor)
    number = session.scalar(
        select(Ticket.number)
        .where(
            status_in(ACTIVE_STATUSES),
            Ticket.status.in_(sorted(_TAKEABLE)),
            Ticket.assignee_id.is_(None),
            or_(Ticket.team_id.is_(None), Ticket.team_id.in_(teams_of(actor))),
        )
        .order_by(
            Ticket.next_due_at.is_(None), Ticket.next_due_at, _URGENCY.desc(), Ticket.created_at, Ticket.id
        )
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if number is None:
        return None
    return service.assign(session, actor, number, actor.id)
