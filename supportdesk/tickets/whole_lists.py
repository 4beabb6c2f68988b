"""Whole ticket lists, for CSV exports: how long a list is (counted no further than a bound, enough to
tell a list a request can stream from one a background job should write, supportdesk/reports/
background.py), and every row of it a batch at a time. Both read the list as `reads.list_tickets` pages
through it: the same clauses, reach and keyset."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from supportdesk.accounts.models import Team, User
from supportdesk.core.db import read_rows
from supportdesk.tickets import policy
from supportdesk.tickets.models import Category, Ticket
from supportdesk.tickets.paging import Sort, TicketFilters
from supportdesk.tickets.reads import (
    _SUMMARY,
    _assignee,
    _build_list,
    _filter_values,
    _ListShape,
    _requester,
    _shape_clauses,
    _sort_value,
    _text_clause,
    _warnings,
)

# What a CSV export writes (reports/ticket_rows.py) and the keyset needs: not the description, which a
# million-ticket export would otherwise read for nothing.
_EXPORTED = cast(
    "Select[Any]",
    select(
        Ticket.id,
        Ticket.number,
        Ticket.subject,
        Ticket.status,
        Ticket.priority,
        Ticket.created_at,
        Ticket.updated_at,
        Ticket.first_response_at,
        Ticket.resolved_at,
        Ticket.closed_at,
        Ticket.next_due_at,
        _requester.full_name.label("requester_name"),
        _requester.email.label("requester_email"),
        _assignee.full_name.label("assignee_name"),
        Team.name.label("team_name"),
        Category.name.label("category_name"),
    ).select_from(_SUMMARY.get_final_froms()[0]),
)


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


EXPORT_BATCH = 1000


def iter_ticket_rows(
    session: Session,
    actor: User,
    filters: TicketFilters = TicketFilters(),
    sort: Sort = Sort(),
    batch: int = EXPORT_BATCH,
) -> Iterator[Any]:
    """Every ticket of the list `list_tickets` pages through, a batch at a time (the same statements
    and keyset, with a larger page, so memory holds one batch whatever the list's length), as the
    rows a CSV export writes (`_EXPORTED`'s columns)."""
    warnings = _warnings(session, filters)
    values: dict[str, Any] = {
        "actor_id": actor.id,
        "page_size": batch + 1,
        **_filter_values(filters, warnings),
    }
    text = (filters.text or "").strip()
    after_cursor = False
    while True:
        shape = _ListShape.of(actor, filters, sort, warnings, after_cursor=after_cursor)
        more = (_text_clause(session, actor, text),) if text else ()
        rows = read_rows(session, _build_list(shape, *more, columns=_EXPORTED), values).all()
        yield from rows[:batch]
        if len(rows) <= batch:
            return
        last = rows[batch - 1]
        values["last_value"], values["last_id"] = _sort_value(last, sort.key), last.id
        after_cursor = True
