"""The resolution email's rating links: a signed token (itsdangerous, the desk's SECRET_KEY, a salt of
its own) holding the ticket, the resolution (the status event that resolved it) and the requester. The
signature's timestamp makes it expire; a reopened ticket has no resolution to rate and one resolved
again has a new one, so a link of an earlier resolution stops working. Nothing is stored.

Opening the link only shows a confirmation form (mail scanners fetch links); the POST records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.core import clock
from supportdesk.core.db import ID_MAX, get_by_id
from supportdesk.core.errors import DomainError, PermissionDenied
from supportdesk.satisfaction import policy
from supportdesk.satisfaction.lifecycle import LINK_VALID_FOR, StatusChange, current_resolution
from supportdesk.satisfaction.reads import status_changes
from supportdesk.tickets.models import Ticket

PURPOSE = "supportdesk satisfaction rating"
MAX_TOKEN_CHARS = 400


class LinkNotValid(DomainError):
    status = 400
    title = "Link no longer valid"


NOT_VALID = (
    "This rating link is no longer valid: it has expired, or the ticket was reopened since. "
    "You can rate the answer on the ticket's page."
)


class _ClockSigner(TimestampSigner):
    """Timestamps from the desk's clock, so tests can move time."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=PURPOSE, signer=_ClockSigner)


def token_for(ticket_id: int, resolution_id: int, requester_id: int) -> str:
    return _serializer().dumps({"t": ticket_id, "r": resolution_id, "u": requester_id})


@dataclass(frozen=True)
class LinkTarget:
    """What a valid link rates: the ticket (locked when asked for a change), its requester, the
    resolution."""

    ticket: Ticket
    requester: User
    resolution: StatusChange


def _ids(token: str) -> tuple[int, int, int]:
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise LinkNotValid(NOT_VALID)
    try:
        data: Any = _serializer().loads(token, max_age=int(LINK_VALID_FOR.total_seconds()))
    except BadData:
        raise LinkNotValid(NOT_VALID) from None
    if not isinstance(data, dict):
        raise LinkNotValid(NOT_VALID)
    values = (data.get("t"), data.get("r"), data.get("u"))
    if not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= ID_MAX for v in values):
        raise LinkNotValid(NOT_VALID)
    return values  # type: ignore[return-value]


def open_link(session: Session, token: str, signed_in: User | None, *, lock: bool = False) -> LinkTarget:
    """The ticket, requester and resolution a token stands for, if it is still that ticket's current
    resolution and its requester may rate; refused for anyone else signed in on this browser."""
    ticket_id, resolution_id, requester_id = _ids(token)
    statement = select(Ticket).where(Ticket.id == ticket_id)
    if lock:
        statement = statement.with_for_update(of=Ticket)
    ticket = session.scalars(statement).one_or_none()
    requester = get_by_id(session, User, requester_id)
    if ticket is None or requester is None or ticket.requester_id != requester.id:
        raise LinkNotValid(NOT_VALID)
    if ticket.merged_into_id is not None or not policy.may_rate(requester, ticket.requester_id):
        raise LinkNotValid(NOT_VALID)
    if signed_in is not None and signed_in.id != requester.id:
        raise PermissionDenied(
            "This rating link was sent to someone else. Sign out first if it is yours to use."
        )
    resolution = current_resolution(ticket.status, status_changes(session, ticket.id))
    if resolution is None or resolution.id != resolution_id:
        raise LinkNotValid(NOT_VALID)
    return LinkTarget(ticket, requester, resolution)
