"""Bringing open tickets' due times in line after an admin changes a calendar or a policy: a pass over
the open tickets in batches, each replaying the ticket's status history (`lifecycle.replay`). The
worker runs it; an interrupted pass resumes where it stopped, and one pass answers every request made
before it started."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from supportdesk.sla import lifecycle
from supportdesk.sla.models import RecomputeRequest
from supportdesk.sla.service import policies, related_id, store_state
from supportdesk.tickets.lifecycle import ACTIVE_STATUSES, Status
from supportdesk.tickets.models import EventKind, Ticket, TicketEvent, status_in


def recompute_batch(session: Session, now: datetime, batch: int = 500) -> int | None:
    """Recompute the next `batch` open tickets of the newest request; how many, or None when no
    request waits. The caller commits each batch."""
    # Locked: two workers' schedulers may start the pass at once; the second finds nothing to do.
    request = session.scalar(
        select(RecomputeRequest)
        .order_by(RecomputeRequest.id.desc())
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if request is None:
        return None
    session.execute(delete(RecomputeRequest).where(RecomputeRequest.id < request.id))
    tickets = list(
        session.scalars(
            select(Ticket)
            .where(status_in(ACTIVE_STATUSES), Ticket.id > request.done_through_id)
            .order_by(Ticket.id)
            .limit(batch)
            .with_for_update()
        )
    )
    history: dict[int, list[tuple[datetime, Status]]] = defaultdict(list)
    if tickets:
        rows = session.execute(
            select(TicketEvent.ticket_id, TicketEvent.created_at, TicketEvent.new_value)
            .where(
                TicketEvent.ticket_id.in_([t.id for t in tickets]),
                TicketEvent.kind.in_([EventKind.CREATED, EventKind.STATUS]),
            )
            .order_by(TicketEvent.id)
        )
        for ticket_id, when, value in rows:
            if value is not None:
                history[ticket_id].append((when, Status(value)))
    known = policies(session, fresh=True)
    for ticket in tickets:
        chosen = lifecycle.choose(
            known,
            ticket.priority,
            related_id(ticket, "category", "category_id"),
            related_id(ticket, "team", "team_id"),
        )
        statuses = history[ticket.id] or [(ticket.created_at, ticket.status)]
        store_state(
            ticket,
            lifecycle.replay(
                chosen,
                created_at=ticket.created_at,
                first_response_at=ticket.first_response_at,
                statuses=statuses,
                now=now,
            ),
        )
    if len(tickets) < batch:
        session.delete(request)
    else:
        request.done_through_id = tickets[-1].id
    session.flush()
    return len(tickets)
