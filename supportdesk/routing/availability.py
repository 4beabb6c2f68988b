"""Whether a technician is taking tickets: they say so in the desk; automatic assignment only gives
tickets to those who are; admins see who is."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supportdesk.accounts import policy
from supportdesk.accounts.models import User, active_staff
from supportdesk.core.clock import now
from supportdesk.core.errors import PermissionDenied
from supportdesk.routing.models import Availability
from supportdesk.tickets.lifecycle import ACTIVE_STATUSES
from supportdesk.tickets.models import Ticket, status_in


def is_available(session: Session, user_id: int) -> bool:
    found = session.get(Availability, user_id)
    return bool(found is not None and found.available)


def set_available(session: Session, actor: User, available: bool) -> None:
    """The actor's own availability (technicians and admins: those who can be assigned a ticket)."""
    if not policy.may_use_desk(actor):
        raise PermissionDenied("Only the desk takes tickets.")
    found = session.get(Availability, actor.id)
    if found is None:
        session.add(Availability(user_id=actor.id, available=available, changed_at=now()))
    elif found.available != available:
        found.available = available
        found.changed_at = now()
    session.flush()


@dataclass(frozen=True)
class TechnicianLoad:
    user_id: int
    name: str
    available: bool
    open_tickets: int


def technician_loads(session: Session, actor: User) -> list[TechnicianLoad]:
    """Every technician, whether they are taking tickets and how many open tickets they have."""
    policy.require_desk_member(actor)
    open_counts = (
        select(Ticket.assignee_id, func.count().label("open"))
        .where(status_in(ACTIVE_STATUSES), Ticket.assignee_id.is_not(None))
        .group_by(Ticket.assignee_id)
        .subquery()
    )
    rows = session.execute(
        select(User.id, User.full_name, Availability.available, open_counts.c.open)
        .outerjoin(Availability, Availability.user_id == User.id)
        .outerjoin(open_counts, open_counts.c.assignee_id == User.id)
        .where(active_staff())
        .order_by(User.full_name, User.id)
    )
    return [
        TechnicianLoad(user_id, name, bool(available), int(count or 0))
        for user_id, name, available, count in rows
    ]
