"""Parent incidents and their child tickets (issue 21): "ten people report the VPN is down". The desk
links each report to one parent ticket; a reply on the parent can go to every child's requester (each
child gets the public reply, so each requester hears of it the normal way, and sees nothing but their
own ticket); resolving the parent resolves its open children (`cascade`, in the same unit of work).

One level only: a parent is never a child, and a child is never a parent."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from supportdesk.accounts.models import User
from supportdesk.core import clock
from supportdesk.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationError
from supportdesk.tickets import policy, service
from supportdesk.tickets.changes import record_event
from supportdesk.tickets.lifecycle import Status
from supportdesk.tickets.models import Comment, EventKind, Ticket


def link_refusal(child: Ticket, parent: Ticket, children_of_child: int) -> str | None:
    """Why `child` may not be linked to the incident `parent`, or None."""
    if child.id == parent.id:
        return "A ticket cannot be its own incident."
    if child.parent_id == parent.id:
        return f"Ticket {child.reference} is already part of incident {parent.reference}."
    if child.merged_into_id is not None or parent.merged_into_id is not None:
        return "A merged ticket cannot be linked to an incident: link the ticket it was merged into."
    if parent.parent_id is not None:
        return f"Ticket {parent.reference} is itself part of another incident: link to that one."
    if children_of_child:
        return f"Ticket {child.reference} is an incident with tickets of its own."
    if parent.status is Status.CLOSED:
        return f"Ticket {parent.reference} is closed: reopen it first, or link to another incident."
    return None


def link_to_incident(session: Session, actor: User, number: int, parent_number: int) -> Ticket:
    """Make ticket `number` a child of the incident `parent_number` (moving it from another incident
    if it was in one); returns the child. Events on the child and on each parent concerned."""
    _require_desk(actor)
    if number == parent_number:
        raise ValidationError.single("parent", "A ticket cannot be its own incident.")
    locked = {n: service.get_ticket(session, actor, n) for n in sorted((number, parent_number))}
    child, parent = locked[number], locked[parent_number]
    children = session.scalar(select(func.count()).where(Ticket.parent_id == child.id)) or 0
    refusal = link_refusal(child, parent, children)
    if refusal:
        raise InvalidTransition(refusal)
    now = clock.now()
    previous = session.get(Ticket, child.parent_id) if child.parent_id is not None else None
    if previous is not None:
        record_event(previous, actor, EventKind.CHILD, child.reference, None, now)
    record_event(
        child, actor, EventKind.PARENT, previous.reference if previous else None, parent.reference, now
    )
    record_event(parent, actor, EventKind.CHILD, None, child.reference, now)
    child.parent_id = parent.id
    _flush(session)
    return child


def unlink_from_incident(session: Session, actor: User, number: int) -> Ticket:
    """Take ticket `number` out of its incident; refused when it is in none."""
    _require_desk(actor)
    child = service.get_ticket(session, actor, number)
    if child.parent_id is None:
        raise InvalidTransition(f"Ticket {child.reference} is not part of an incident.")
    parent = session.get(Ticket, child.parent_id)
    now = clock.now()
    if parent is not None:
        record_event(parent, actor, EventKind.CHILD, child.reference, None, now)
    record_event(child, actor, EventKind.PARENT, parent.reference if parent else None, None, now)
    child.parent_id = None
    _flush(session)
    return child


def open_children(session: Session, parent: Ticket) -> list[int]:
    """The numbers of the parent's children a reply can still reach (any not closed), in order."""
    return list(
        session.scalars(
            select(Ticket.number)
            .where(Ticket.parent_id == parent.id, Ticket.status != Status.CLOSED)
            .order_by(Ticket.number)
        )
    )


def reply_to_children(session: Session, actor: User, parent_number: int, body: str) -> list[int]:
    """The public reply just written on the parent, written on each child not closed as well (so each
    requester hears of it as of any reply on their ticket); the numbers of the children it reached."""
    _require_desk(actor)
    parent = service.get_ticket(session, actor, parent_number)
    reached = open_children(session, parent)
    for number in reached:
        service.add_comment(session, actor, number, body)
    return reached


def reply_with_children(
    session: Session, actor: User, parent_number: int, body: str, **reply: object
) -> tuple[Comment, list[int]]:
    """A public reply on the parent and on each of its children, in one unit of work."""
    _require_desk(actor)
    if reply.get("internal"):
        raise ValidationError.single("to_children", "Only a public reply goes to the children's requesters.")
    comment = service.add_comment(session, actor, parent_number, body, **reply)  # type: ignore[arg-type]
    return comment, reply_to_children(session, actor, parent_number, body)


def _require_desk(actor: User) -> None:
    if not policy.may_link_tickets(actor):
        raise PermissionDenied("Only the desk can link tickets to an incident.")


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("One of these tickets was changed by someone else at the same time.") from None
