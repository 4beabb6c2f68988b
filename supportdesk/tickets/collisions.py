"""Two people on one ticket: what a user's page showed is compared with what happened since, so a
change or a reply never lands on top of a colleague's without its writer seeing it first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.core.db import read_rows
from supportdesk.core.errors import Conflict, DomainError
from supportdesk.tickets.models import EventKind, Ticket, TicketEvent
from supportdesk.tickets.summaries import EventSummary


class FieldsClash(Conflict):
    """Fields the user changed that someone else had changed differently since the user's page
    showed them."""

    def __init__(self, detail: str, fields: tuple[str, ...], current_version: int) -> None:
        super().__init__(detail, current_version)
        self.fields = fields


class NewsSinceSeen(DomainError):
    """A public reply held back: the ticket changed in a way its writer must see first."""

    status = 409
    title = "Conflict"

    def __init__(self, reference: str, seen_event: int) -> None:
        super().__init__(
            f"Ticket {reference} has a new public reply or status since you opened it; check it, then "
            "send anyway or revise."
        )
        self.seen_event = seen_event


def check_news_since(session: Session, actor: User, ticket: Ticket, seen_event: int) -> None:
    """NewsSinceSeen when someone else (or the desk itself) has replied publicly or changed the status
    after the last event `actor`'s page showed."""
    values = {"ticket_id": ticket.id, "seen": seen_event, "actor_id": actor.id}
    if read_rows(session, _NEWS_SINCE, values).first() is not None:
        raise NewsSinceSeen(ticket.reference, seen_event)


_NEWS_SINCE = (
    select(TicketEvent.id)
    .where(
        TicketEvent.ticket_id == bindparam("ticket_id"),
        TicketEvent.id > bindparam("seen"),
        or_(TicketEvent.actor_id.is_(None), TicketEvent.actor_id != bindparam("actor_id")),
        or_(
            TicketEvent.kind == EventKind.STATUS,
            (TicketEvent.kind == EventKind.COMMENT) & (TicketEvent.new_value == "public"),
        ),
    )
    .limit(1)
)


REPLY_NEWS = frozenset({EventKind.STATUS, EventKind.COMMENT})
FIELD_NEWS = frozenset(
    {EventKind.STATUS, EventKind.PRIORITY, EventKind.ASSIGNEE, EventKind.TEAM, EventKind.CATEGORY}
)


def news_since(
    events: Sequence[EventSummary], since: int, me: int, kinds: frozenset[EventKind]
) -> list[EventSummary]:
    """What others did after the event a page showed, of the kinds that matter to what the user was
    doing (a reply: public replies and status changes; the sidebar: the fields)."""
    return [
        e
        for e in events
        if e.id > since
        and (e.actor is None or e.actor.id != me)
        and e.kind in kinds
        and not (e.kind is EventKind.COMMENT and e.new_value != "public")
    ]
