"""Canned replies as their readers see them: plain rows, the actor's own and the shared ones, and the
picker's list filled in for the ticket being answered."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.accounts.reads import like_escape
from supportdesk.core.db import read_rows
from supportdesk.replies import placeholders, policy
from supportdesk.replies.models import CannedReply
from supportdesk.tickets.reads import read_ticket

PICKER_SIZE = 20
SEARCH_MAX = 100


@dataclass(frozen=True, slots=True)
class ReplyRow:
    id: int
    title: str
    body: str
    shared: bool


def usable_replies(session: Session, actor: User, text: str = "", limit: int | None = None) -> list[ReplyRow]:
    """The shared replies and the actor's own, by title, narrowed by words in the title or text."""
    policy.require_desk(actor)
    statement = (
        select(CannedReply.id, CannedReply.title, CannedReply.body, CannedReply.owner_id)
        .where(policy.usable_by(actor))
        .order_by(func.lower(CannedReply.title), CannedReply.id)
    )
    for word in text[:SEARCH_MAX].lower().split():
        pattern = f"%{like_escape(word)}%"
        statement = statement.where(
            or_(
                func.lower(CannedReply.title).like(pattern, escape="\\"),
                func.lower(CannedReply.body).like(pattern, escape="\\"),
            )
        )
    if limit is not None:
        statement = statement.limit(limit)
    return [ReplyRow(r.id, r.title, r.body, r.owner_id is None) for r in read_rows(session, statement)]


def shared_replies(session: Session, actor: User) -> list[ReplyRow]:
    return [r for r in usable_replies(session, actor) if r.shared]


def filled_for_ticket(session: Session, actor: User, number: int, text: str) -> list[ReplyRow]:
    """The picker's replies for the ticket `actor` is answering, placeholders filled in (NotFound when
    they may not see it; requesters never get the desk's replies)."""
    policy.require_desk(actor)
    ticket = read_ticket(session, actor, number)
    values = placeholders.Values(
        requester_name=ticket.requester.full_name,
        ticket_number=ticket.number,
        ticket_subject=ticket.subject,
        technician_name=actor.full_name,
    )
    return [
        ReplyRow(r.id, r.title, placeholders.fill(r.body, values), r.shared)
        for r in usable_replies(session, actor, text, PICKER_SIZE)
    ]
