"""Drafts: what a user has typed on a ticket and not sent, kept on the server per user and ticket, so a
reload, a refused form, a sidebar save or another device of theirs never loses it. Saved while typing
(the page sends it a moment after each pause), shown when the page is drawn, removed when the reply is
sent or the box is emptied. Nobody else ever reads another user's draft."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.core import clock
from supportdesk.core.db import read_rows
from supportdesk.core.errors import PermissionDenied, ValidationError
from supportdesk.tickets import policy
from supportdesk.tickets.models import COMMENT_MAX, Draft
from supportdesk.tickets.reads import read_ticket

VISIBILITIES = ("public", "internal")


@dataclass(frozen=True, slots=True)
class DraftText:
    body: str
    visibility: str | None
    updated_at: datetime


def save_draft(session: Session, actor: User, number: int, body: str, visibility: str | None) -> None:
    """Keep `body` as the actor's draft on the ticket (an empty body removes it). The actor must be
    able to see the ticket; only the desk may draft an internal note."""
    if not actor.is_active:
        raise PermissionDenied("This account is deactivated.")
    ticket = read_ticket(session, actor, number)
    if visibility not in (None, *VISIBILITIES):
        raise ValidationError.single("visibility", "must be public or internal")
    if visibility == "internal" and not policy.may_write_internal(actor):
        raise PermissionDenied("Only the desk can write internal notes.", ("internal",))
    if len(body) > COMMENT_MAX:
        raise ValidationError.single("body", f"must be at most {COMMENT_MAX:,} characters")
    if not body.strip():
        discard_draft(session, actor, ticket.id)
        return
    values = {
        "user_id": actor.id,
        "ticket_id": ticket.id,
        "body": body,
        "visibility": visibility,
        "updated_at": clock.now(),
    }
    session.connection().execute(_UPSERT[session.get_bind().dialect.name], values)


def discard_draft(session: Session, actor: User, ticket_id: int) -> None:
    session.connection().execute(_DISCARD, {"user_id": actor.id, "ticket_id": ticket_id})


def read_draft(session: Session, actor: User, ticket_id: int) -> DraftText | None:
    """The actor's own draft on a ticket they have already been shown."""
    row = read_rows(session, _DRAFT, {"user_id": actor.id, "ticket_id": ticket_id}).one_or_none()
    if row is None:
        return None
    visibility = row.visibility if row.visibility in VISIBILITIES else None
    if visibility == "internal" and not policy.may_write_internal(actor):
        visibility = None  # drafted while they were on the desk
    return DraftText(row.body, visibility, row.updated_at)


_pg_insert = postgresql.insert(Draft)
_sqlite_insert = sqlite.insert(Draft)
# One statement whether or not a draft is there yet (concurrent saves from two tabs cannot collide).
_UPSERT = {
    "postgresql": _pg_insert.on_conflict_do_update(
        index_elements=["user_id", "ticket_id"],
        set_={name: _pg_insert.excluded[name] for name in ("body", "visibility", "updated_at")},
    ),
    "sqlite": _sqlite_insert.on_conflict_do_update(
        index_elements=["user_id", "ticket_id"],
        set_={name: _sqlite_insert.excluded[name] for name in ("body", "visibility", "updated_at")},
    ),
}
_OWN = (Draft.user_id == bindparam("user_id"), Draft.ticket_id == bindparam("ticket_id"))
_DISCARD = delete(Draft).where(*_OWN)
_DRAFT = select(Draft.body, Draft.visibility, Draft.updated_at).where(*_OWN)
