"""What a change to a parent incident does to its children (issue 21): resolving (or closing) the parent
resolves every child still open, in the same unit of work, with a status event on each (so each
requester is told their ticket is solved, the normal way). See `incidents`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.sla import service as service_levels
from supportdesk.tickets.changes import set_status
from supportdesk.tickets.lifecycle import ACTIVE_STATUSES, DONE_STATUSES, Status
from supportdesk.tickets.models import Ticket, status_in


def resolve_open_children(
    session: Session, actor: User | None, parent: Ticket, now: datetime
) -> list[Ticket]:
    """Resolve the open children of `parent` once it is resolved or closed; the children resolved."""
    if parent.status not in DONE_STATUSES:
        return []
    children = list(
        session.scalars(
            select(Ticket)
            .where(Ticket.parent_id == parent.id, status_in(ACTIVE_STATUSES))
            .order_by(Ticket.number)
            .with_for_update()
        )
    )
    for child in children:
        set_status(child, actor, Status.RESOLVED, now)
        child.updated_at = now
        service_levels.keep_due_times(session, child, now)
    return children
