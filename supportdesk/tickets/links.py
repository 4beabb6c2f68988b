"""The read side of duplicates and incidents (issue 21): where a merged ticket went, what was merged
into a ticket (with its conversation, for whoever may read it), a ticket's parent incident and its
children, and the similar open tickets the desk may want to merge. Plain rows, a constant number of
statements whatever the number of links.

Requesters see only their own tickets through any of this: the number of the ticket theirs went into
(numbers are no secret, its subject is), and the conversations of their own tickets merged into one
of theirs. Parents, children and similar tickets are the desk's business."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from supportdesk.accounts.models import STAFF_ROLES, User
from supportdesk.attachments import service as attachments
from supportdesk.attachments.models import Attachment
from supportdesk.core.db import read_rows
from supportdesk.core.errors import PermissionDenied
from supportdesk.search import similar
from supportdesk.tickets import policy
from supportdesk.tickets.lifecycle import ACTIVE_STATUSES, Status
from supportdesk.tickets.models import Comment, Ticket, status_in, ticket_reference
from supportdesk.tickets.reads import read_ticket
from supportdesk.tickets.summaries import Author, CommentSummary, Person, TicketSummary

SIMILAR_MAX = 5


@dataclass(frozen=True)
class LinkedTicket:
    """Another ticket named on this one. `subject` and `requester` are None when the reader may not
    see that ticket (a requester whose ticket was merged into someone else's)."""

    id: int
    number: int
    status: Status
    subject: str | None
    requester: Person | None

    @property
    def reference(self) -> str:
        return ticket_reference(self.number)


@dataclass(frozen=True)
class MergedConversation:
    """A ticket merged into this one, with what it said: shown under the survivor's conversation."""

    id: int
    number: int
    subject: str
    description: str
    created_at: datetime
    requester: Person
    comments: list[CommentSummary] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return ticket_reference(self.number)


@dataclass(frozen=True)
class Links:
    ticket: TicketSummary
    merged_into: LinkedTicket | None = None
    merged_from: list[MergedConversation] = field(default_factory=list)
    parent: LinkedTicket | None = None
    children: list[LinkedTicket] = field(default_factory=list)

    @property
    def open_children(self) -> int:
        return sum(1 for child in self.children if child.status in ACTIVE_STATUSES)


def related(session: Session, actor: User, number: int) -> Links:
    """Everything linked to ticket `number` that `actor` may know of; NotFound as `read_ticket`."""
    return links_of(session, actor, read_ticket(session, actor, number))


def links_of(session: Session, actor: User, ticket: TicketSummary) -> Links:
    """`related` for a ticket already read through the policy: one statement, two more for the
    conversations of merged tickets when there are any."""
    desk = policy.may_link_tickets(actor)
    rows = read_rows(
        session,
        _RELATED,
        {"id": ticket.id, "merged_into_id": ticket.merged_into_id, "parent_id": ticket.parent_id},
    ).all()
    merged_into = parent = None
    children: list[LinkedTicket] = []
    merged: list[MergedConversation] = []
    for row in rows:
        visible = policy.sees_tickets_of(actor, row.requester_id)
        requester = Person(row.requester_id, row.requester_name, row.requester_email)
        linked = LinkedTicket(
            row.id,
            row.number,
            row.status,
            row.subject if visible else None,
            requester if visible else None,
        )
        if row.id == ticket.merged_into_id:
            merged_into = linked
        if desk and row.id == ticket.parent_id:
            parent = linked
        if desk and row.parent_id == ticket.id:
            children.append(linked)
        if visible and row.merged_into_id == ticket.id:
            merged.append(
                MergedConversation(
                    row.id, row.number, row.subject, row.description, row.created_at, requester
                )
            )
    if merged:
        merged = _with_conversations(session, actor, merged)
    return Links(ticket, merged_into, merged, parent, children)


def similar_open(session: Session, actor: User, number: int, limit: int = SIMILAR_MAX) -> list[LinkedTicket]:
    """Open tickets from every requester that read like ticket `number`, best match first; never the
    ticket itself, nor one already merged. The desk's only."""
    if not policy.may_link_tickets(actor):
        raise PermissionDenied("Only the desk can see similar tickets.")
    ticket = read_ticket(session, actor, number)
    matches = similar.ranked_matches(session, similar.words_of(ticket.subject, ticket.description))
    if matches is None:
        return []
    statement = (
        _LINKED_COLUMNS.join(matches, matches.c.ticket_id == Ticket.id)
        .where(
            status_in(ACTIVE_STATUSES),
            Ticket.id != ticket.id,
            Ticket.merged_into_id.is_(None),
            or_(Ticket.parent_id.is_(None), Ticket.parent_id != ticket.id),  # its children are linked
        )
        .order_by(matches.c.score.desc(), Ticket.id.desc())
        .limit(limit)
    )
    return [
        LinkedTicket(
            row.id,
            row.number,
            row.status,
            row.subject,
            Person(row.requester_id, row.requester_name, row.requester_email),
        )
        for row in read_rows(session, statement)
    ]


def _with_conversations(
    session: Session, actor: User, merged: list[MergedConversation]
) -> list[MergedConversation]:
    ids = [m.id for m in merged]
    statement = _COMMENTS_OF[policy.sees_internal_notes(actor)]
    comments: dict[int, list[CommentSummary]] = {i: [] for i in ids}
    for row in read_rows(session, statement, {"ids": ids}):
        comments[row.ticket_id].append(
            CommentSummary(
                id=row.id,
                author=Author(row.author_id, row.author_name, row.author_role in STAFF_ROLES),
                body=row.body,
                internal=row.internal,
                created_at=row.created_at,
            )
        )
    files: dict[int, list[Attachment]] = {i: [] for i in ids}
    for attachment in attachments.attachments_of_tickets(session, actor, ids):
        files[attachment.ticket_id].append(attachment)
    return [
        MergedConversation(
            m.id, m.number, m.subject, m.description, m.created_at, m.requester, comments[m.id], files[m.id]
        )
        for m in sorted(merged, key=lambda m: m.created_at)
    ]


_requester = User.__table__.alias("linked_requester")
_LINKED_COLUMNS = select(
    Ticket.id,
    Ticket.number,
    Ticket.status,
    Ticket.subject,
    Ticket.description,
    Ticket.created_at,
    Ticket.merged_into_id,
    Ticket.parent_id,
    Ticket.requester_id,
    _requester.c.full_name.label("requester_name"),
    _requester.c.email.label("requester_email"),
).join(_requester, _requester.c.id == Ticket.requester_id)

# The ticket this one went into and its parent (by primary key), the tickets merged into it and its
# children (through their partial indexes).
_RELATED = _LINKED_COLUMNS.where(
    or_(
        Ticket.id == bindparam("merged_into_id"),
        Ticket.id == bindparam("parent_id"),
        Ticket.merged_into_id == bindparam("id"),
        Ticket.parent_id == bindparam("id"),
    )
).order_by(Ticket.number)

_author = User.__table__.alias("comment_author")
_COMMENTS_OF = {
    with_notes: select(
        Comment.id,
        Comment.ticket_id,
        Comment.body,
        Comment.internal,
        Comment.created_at,
        _author.c.id.label("author_id"),
        _author.c.full_name.label("author_name"),
        _author.c.role.label("author_role"),
    )
    .join(_author, _author.c.id == Comment.author_id)
    .where(Comment.ticket_id.in_(bindparam("ids", expanding=True)), policy.comment_clause(with_notes))
    .order_by(Comment.id)
    for with_notes in (True, False)
}
