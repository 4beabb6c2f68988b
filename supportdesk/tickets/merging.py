"""Merging a duplicate into the ticket the desk carries on in (issue 21). One unit of work: everything
is checked before anything changes, and the caller commits once, so nothing is ever half merged.

The duplicate keeps its conversation (comments and files stay where they were written, so what its
requester wrote stays theirs to read); the survivor shows it to whoever may read it (`links`). The
duplicate's requester is told in a public reply on their own ticket, through the normal notification
path, and is copied (a watcher) on the survivor; the duplicate is closed and points at the survivor."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from supportdesk.accounts.models import User
from supportdesk.core import clock
from supportdesk.core.errors import Conflict, FieldError, InvalidTransition, PermissionDenied, ValidationError
from supportdesk.notifications.models import TicketWatcher
from supportdesk.search import service as search
from supportdesk.sla import service as service_levels
from supportdesk.tickets import policy, service
from supportdesk.tickets.changes import record_event, set_status
from supportdesk.tickets.lifecycle import Status
from supportdesk.tickets.models import COMMENT_MAX, Comment, EventKind, Ticket
from supportdesk.tickets.validation import clean_text


def default_message(survivor_number: int, copied: bool) -> str:
    """What the duplicate's requester reads when the desk writes nothing of its own. Never the
    survivor's subject: it may be someone else's ticket."""
    where = f"#{survivor_number}"
    told = " You are copied on its replies." if copied else ""
    return (
        f"Thank you: the desk is handling this together with the same request in ticket {where}, so "
        f"this ticket is now closed.{told}"
    )


def merge_refusal(duplicate: Ticket, survivor: Ticket, children_of_duplicate: int) -> str | None:
    """Why `duplicate` may not be merged into `survivor`, or None. Merged tickets are closed and never a
    target, so no chain of merges can come back to where it started."""
    if duplicate.id == survivor.id:
        return "A ticket cannot be merged into itself."
    if duplicate.merged_into_id is not None:
        return f"Ticket {duplicate.reference} was already merged into another ticket."
    if survivor.merged_into_id is not None:
        return f"Ticket {survivor.reference} was itself merged into another ticket: merge into that one."
    if duplicate.status is Status.CLOSED:
        return f"Ticket {duplicate.reference} is closed; closed tickets are not merged."
    if survivor.status is Status.CLOSED:
        return f"Ticket {survivor.reference} is closed: reopen it first, or merge into another ticket."
    if children_of_duplicate:
        return (
            f"Ticket {duplicate.reference} is the incident of {children_of_duplicate} other ticket(s): "
            "unlink them first."
        )
    return None


def merge_ticket(
    session: Session,
    actor: User,
    number: int,
    into: int,
    *,
    message: str | None = None,
    copy_requester: bool = True,
) -> Ticket:
    """Merge ticket `number` into ticket `into`; returns the survivor. Refused (and nothing changed)
    for anyone but the desk, for a ticket either one the actor may not see (NotFound), and by
    `merge_refusal`."""
    if not policy.may_link_tickets(actor):
        raise PermissionDenied("Only the desk can merge tickets.")
    if number == into:
        raise ValidationError.single("into", "A ticket cannot be merged into itself.")
    # Locked in number order, so two merges of the same pair wait for each other instead of deadlocking.
    locked = {n: service.get_ticket(session, actor, n) for n in sorted((number, into))}
    duplicate, survivor = locked[number], locked[into]
    children = session.scalar(select(func.count()).where(Ticket.parent_id == duplicate.id)) or 0
    refusal = merge_refusal(duplicate, survivor, children)
    if refusal:
        raise InvalidTransition(refusal)
    copied = copy_requester and duplicate.requester_id != survivor.requester_id
    errors: list[FieldError] = []
    body = clean_text(message or "", "message", COMMENT_MAX, errors, required=False)
    if errors:
        raise ValidationError(errors)
    body = body or default_message(survivor.number, copied)

    now = clock.now()
    # The requester hears of it the way they hear of every reply: a public comment and its event.
    comment = Comment(ticket=duplicate, author=actor, body=body, internal=False, created_at=now)
    session.add(comment)
    search.index_comment(session, duplicate, body, internal=False)
    record_event(duplicate, actor, EventKind.COMMENT, None, "public", now, comment)
    if duplicate.first_response_at is None:
        duplicate.first_response_at = now
    set_status(duplicate, actor, Status.CLOSED, now)
    duplicate.merged_into_id = survivor.id
    duplicate.updated_at = now
    record_event(duplicate, actor, EventKind.MERGED_INTO, None, survivor.reference, now)
    record_event(survivor, actor, EventKind.MERGED_FROM, None, duplicate.reference, now)
    survivor.updated_at = now
    service_levels.keep_due_times(session, duplicate, now)
    # Tickets merged into the duplicate before now go on to the survivor: merges stay one step deep.
    session.execute(
        update(Ticket)
        .where(Ticket.merged_into_id == duplicate.id)
        .values(merged_into_id=survivor.id, version=Ticket.version + 1)
        .execution_options(synchronize_session=False)
    )
    if copied:
        _copy_people(session, actor, duplicate, survivor)
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("One of these tickets was changed by someone else at the same time.") from None
    return survivor


def _copy_people(session: Session, actor: User, duplicate: Ticket, survivor: Ticket) -> None:
    """The duplicate's requester, and whoever was copied on the duplicate, are copied on the survivor."""
    wanted = {duplicate.requester_id}
    wanted.update(
        session.scalars(select(TicketWatcher.user_id).where(TicketWatcher.ticket_id == duplicate.id))
    )
    wanted.discard(survivor.requester_id)
    already = set(
        session.scalars(select(TicketWatcher.user_id).where(TicketWatcher.ticket_id == survivor.id))
    )
    now = clock.now()
    for user_id in sorted(wanted - already):
        session.add(
            TicketWatcher(ticket_id=survivor.id, user_id=user_id, added_by_id=actor.id, created_at=now)
        )
