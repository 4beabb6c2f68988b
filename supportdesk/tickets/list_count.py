"""How long a ticket list is, counted no further than a bound: enough to tell a list a request can
stream from one a background job should write (supportdesk/reports/background.py), without counting a
million rows to learn that."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.core.db import read_rows
from supportdesk.tickets import policy
from supportdesk.tickets.models import Ticket
from supportdesk.tickets.paging import Sort, TicketFilters
from supportdesk.tickets.reads import _filter_values, _ListShape, _shape_clauses, _text_clause, _warnings


def count_tickets(session: Session, actor: User, filters: TicketFilters, *, up_to: int) -> int:
    """The number of tickets in the list `list_tickets` pages through, or `up_to` + 1 if more."""
    warnings = _warnings(session, filters)
    values: dict[str, Any] = {"actor_id": actor.id, **_filter_values(filters, warnings)}
    shape = _ListShape.of(actor, filters, Sort(), warnings, after_cursor=False)
    text = (filters.text or "").strip()
    more = (_text_clause(session, actor, text),) if text else ()
    matching = (
        select(Ticket.id)
        .where(policy.reach_clause(shape.reach, bindparam("actor_id")), *_shape_clauses(shape), *more)
        .limit(up_to + 1)
        .subquery()
    )
    return int(read_rows(session, select(func.count()).select_from(matching), values).scalar_one())
