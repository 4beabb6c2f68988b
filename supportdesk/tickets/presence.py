"""Who else has a ticket open, and who is typing on it: each open desk page says it is there every few
seconds (`HEARTBEAT_SECONDS`) and gets back the others; a page quiet for longer than `GONE_AFTER` is
gone. One upsert and one read a beat; the ticket's quiet rows are removed on the way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Executable, bindparam, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.core import clock
from supportdesk.core.db import read_rows
from supportdesk.core.errors import NotFound
from supportdesk.tickets import policy
from supportdesk.tickets.models import TicketPresence
from supportdesk.tickets.reads import read_ticket

HEARTBEAT_SECONDS = 10
GONE_AFTER = timedelta(seconds=3 * HEARTBEAT_SECONDS)
TYPING_WITHIN = timedelta(seconds=HEARTBEAT_SECONDS + 5)


@dataclass(frozen=True, slots=True)
class Present:
    name: str
    typing: bool


def beat(session: Session, actor: User, number: int, *, typing: bool, leaving: bool) -> list[Present]:
    """Record that `actor` has the ticket open (or has just closed it), and return the others there."""
    if not policy.may_use_desk(actor):
        raise NotFound("This page is for the support desk.")
    ticket = read_ticket(session, actor, number)
    now = clock.now()
    connection = session.connection()
    connection.execute(_FORGET_QUIET, {"ticket_id": ticket.id, "quiet": now - GONE_AFTER})
    if leaving:
        connection.execute(_LEAVE, {"ticket_id": ticket.id, "user_id": actor.id})
        return []
    values = {
        "ticket_id": ticket.id,
        "user_id": actor.id,
        "seen_at": now,
        "typing_at": now if typing else None,
    }
    connection.execute(_HERE[session.get_bind().dialect.name], values)
    rows = read_rows(session, _OTHERS, {"ticket_id": ticket.id, "user_id": actor.id})
    return [
        Present(row.full_name, row.typing_at is not None and now - row.typing_at <= TYPING_WITHIN)
        for row in rows
    ]


def _here(insert: Any) -> Executable:
    statement: Executable = insert.on_conflict_do_update(
        index_elements=["ticket_id", "user_id"],
        set_={
            "seen_at": insert.excluded.seen_at,
            # A beat without typing keeps the last time they typed (it fades after TYPING_WITHIN).
            "typing_at": func.coalesce(insert.excluded.typing_at, TicketPresence.typing_at),
        },
    )
    return statement


_HERE = {
    "postgresql": _here(postgresql.insert(TicketPresence)),
    "sqlite": _here(sqlite.insert(TicketPresence)),
}
_FORGET_QUIET = delete(TicketPresence).where(
    TicketPresence.ticket_id == bindparam("ticket_id"), TicketPresence.seen_at < bindparam("quiet")
)
_LEAVE = delete(TicketPresence).where(
    TicketPresence.ticket_id == bindparam("ticket_id"), TicketPresence.user_id == bindparam("user_id")
)
_OTHERS = (
    select(User.full_name, TicketPresence.typing_at)
    .join(User, User.id == TicketPresence.user_id)
    .where(TicketPresence.ticket_id == bindparam("ticket_id"), TicketPresence.user_id != bindparam("user_id"))
    .order_by(User.full_name)
)
