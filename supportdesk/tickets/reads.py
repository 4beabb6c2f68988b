"""What a ticket looks like to each reader, read as plain rows: summaries, lists, the conversation and
"is it one of these?" suggestions. Changes go through `service`, which loads the ORM objects it changes;
reading needs none of what those objects are for.

The statements of the hot paths are built once (per shape of listing, per kind of reader) and run with
their values bound: building a statement and computing its cache key costs SQLAlchemy about as much as
running it. One statement serves every user of a kind, so the policy states its scopes as kinds too
(`policy.Reach`, `reach_clause`, `comment_clause`)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from supportdesk.accounts.models import STAFF_ROLES, Team, User, team_members
from supportdesk.attachments import service as attachments
from supportdesk.core import clock
from supportdesk.core.db import ID_MAX, UTCDateTime, read_rows
from supportdesk.core.errors import NotFound, PermissionDenied, ValidationError
from supportdesk.search import service as search
from supportdesk.sla import reads as sla_reads
from supportdesk.tickets import lifecycle, policy
from supportdesk.tickets.lifecycle import Priority, Status
from supportdesk.tickets.models import (
    Category,
    Comment,
    Ticket,
    TicketEvent,
    status_in,
)
from supportdesk.tickets.paging import (
    MAX_PAGE_SIZE,
    AssignedTo,
    Assignee,
    DueFilter,
    PageRequest,
    Sort,
    SortKey,
    TicketFilters,
    decode_cursor,
    encode_cursor,
)
from supportdesk.tickets.summaries import (
    Author,
    Choice,
    CommentSummary,
    Conversation,
    EventSummary,
    Person,
    TicketPage,
    TicketSummary,
)

# --- one ticket ----------------------------------------------------------------------------------------


def require_ticket_number(number: int) -> None:
    """A number no INTEGER column can hold is simply not found (PostgreSQL would raise)."""
    if not 1 <= number <= ID_MAX:
        raise ticket_not_found(number)


def ticket_not_found(number: int) -> NotFound:
    """The one answer for a ticket that does not exist and one the actor may not see (never
    "forbidden", which would confirm that it exists)."""
    return NotFound(f"Ticket #{number} was not found.")


def read_ticket(session: Session, actor: User, number: int) -> TicketSummary:
    """The ticket as pages show it, in one statement; NotFound when `actor` may not see it."""
    require_ticket_number(number)
    statement = _TICKET_BY_NUMBER[policy.reach(actor)]
    row = read_rows(session, statement, {"number": number, "actor_id": actor.id}).one_or_none()
    if row is None:
        raise ticket_not_found(number)
    return _summary(row)


def conversation(session: Session, actor: User, number: int, *, with_events: bool = True) -> Conversation:
    """`with_events=False` for pages that never show the activity log (the portal, staff included)."""
    ticket = read_ticket(session, actor, number)
    return Conversation(
        ticket=ticket,
        comments=_comments_of(session, actor, ticket.id),
        events=_events_of(session, ticket.id) if with_events and policy.can_see_events(actor) else [],
        attachments=attachments.attachments_for(session, actor, ticket.id),
    )


def list_comments(session: Session, actor: User, number: int) -> list[CommentSummary]:
    return _comments_of(session, actor, read_ticket(session, actor, number).id)


def list_events(session: Session, actor: User, number: int) -> list[EventSummary]:
    ticket = read_ticket(session, actor, number)
    if not policy.can_see_events(actor):
        raise PermissionDenied("Only the desk can read a ticket's activity log.")
    return _events_of(session, ticket.id)


# --- lists ---------------------------------------------------------------------------------------------


def list_tickets(
    session: Session,
    actor: User,
    filters: TicketFilters = TicketFilters(),
    sort: Sort = Sort(),
    page: PageRequest = PageRequest(),
) -> TicketPage:
    """One page of the tickets `actor` may see, keyset-paginated so deep pages cost what the first does."""
    if not 1 <= page.limit <= MAX_PAGE_SIZE:
        raise ValidationError.single("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
    warnings = _warnings(session, filters)
    values: dict[str, Any] = {
        "actor_id": actor.id,
        "page_size": page.limit + 1,
        **_filter_values(filters, warnings),
    }
    if page.cursor:
        values["last_value"], values["last_id"] = decode_cursor(page.cursor, sort.key)
    shape = _ListShape.of(actor, filters, sort, warnings, after_cursor=bool(page.cursor))
    text = (filters.text or "").strip()
    statement = _build_list(shape, _text_clause(session, actor, text)) if text else _list_statement(shape)
    rows = [_summary(row) for row in read_rows(session, statement, values)]
    if len(rows) <= page.limit:
        return TicketPage(rows)
    items = rows[: page.limit]
    last = items[-1]
    return TicketPage(items, encode_cursor(sort.key, _sort_value(last, sort.key), last.id))


def ticket_after(
    session: Session, actor: User, filters: TicketFilters, sort: Sort, number: int
) -> int | None:
    """The number of the ticket that follows ticket `number` in a list (None at the end of it)."""
    current = read_ticket(session, actor, number)
    cursor = encode_cursor(sort.key, _sort_value(current, sort.key), current.id)
    page = list_tickets(session, actor, filters, sort, PageRequest(limit=1, cursor=cursor))
    return page.items[0].number if page.items else None


def suggest_similar(session: Session, actor: User, subject: str, limit: int = 5) -> list[TicketSummary]:
    """Tickets `actor` may see that share words with `subject` (for "is it one of these?" while a new
    ticket is typed): the actor's own for requesters, open ones first."""
    query = (
        _SUMMARY.where(
            policy.ticket_scope(actor), search.matching_tickets(session, actor, subject, any_word=True)
        )
        .order_by(case((status_in(lifecycle.ACTIVE_STATUSES), 0), else_=1), Ticket.updated_at.desc())
        .limit(limit)
    )
    if not actor.is_staff:
        query = query.where(Ticket.requester_id == actor.id)
    return [_summary(row) for row in read_rows(session, query)]


def teams_of(actor: User) -> Select[tuple[int]]:
    """The ids of the actor's teams, as a subquery (no extra round trip to load them)."""
    return _teams_of(actor.id)


@dataclass(frozen=True)
class _ListShape:
    """What a list statement's SQL depends on; every value is bound when it runs (`_filter_values`).
    The statuses and priorities are written into it (a handful of sets): SQLite uses its partial
    indexes only when the query repeats their predicate word for word."""

    reach: policy.Reach
    statuses: frozenset[Status]
    priorities: frozenset[Priority]
    assignee: Assignee | type[AssignedTo] | None
    requester: bool
    teams: bool
    my_teams: bool
    category: bool
    updated_since: bool
    due: DueFilter | None
    warnings: sla_reads.WarningGroups  # the policies' warning times, for "at risk"
    sort: Sort
    after_cursor: bool

    @classmethod
    def of(
        cls,
        actor: User,
        filters: TicketFilters,
        sort: Sort,
        warnings: sla_reads.WarningGroups,
        *,
        after_cursor: bool,
    ) -> _ListShape:
        return cls(
            reach=policy.reach(actor),
            statuses=filters.statuses,
            priorities=filters.priorities,
            assignee=AssignedTo if isinstance(filters.assignee, AssignedTo) else filters.assignee,
            requester=filters.requester_id is not None,
            teams=bool(filters.team_ids),
            my_teams=filters.my_teams,
            category=filters.category_id is not None,
            updated_since=filters.updated_since is not None,
            due=filters.due,
            warnings=warnings,
            sort=sort,
            after_cursor=after_cursor,
        )


def _warnings(session: Session, filters: TicketFilters) -> sla_reads.WarningGroups:
    return sla_reads.warning_groups(session) if filters.due is DueFilter.AT_RISK else ()


def _filter_values(filters: TicketFilters, warnings: sla_reads.WarningGroups) -> dict[str, Any]:
    return {
        "assignee_id": filters.assignee.user_id if isinstance(filters.assignee, AssignedTo) else None,
        "requester_id": filters.requester_id,
        "team_ids": sorted(filters.team_ids),
        "category_id": filters.category_id,
        "updated_since": filters.updated_since,
        **(sla_reads.due_window(warnings, clock.now()) if filters.due else {}),
    }


@functools.lru_cache(maxsize=512)
def _list_statement(shape: _ListShape) -> Select[Any]:
    return _build_list(shape)


def _build_list(
    shape: _ListShape, *more: ColumnElement[bool], columns: Select[Any] | None = None
) -> Select[Any]:
    sort_column = _sort_column(shape.sort.key)
    query = select(Ticket.id).where(
        policy.reach_clause(shape.reach, bindparam("actor_id")), *_shape_clauses(shape), *more
    )
    if shape.after_cursor:
        last_value = bindparam("last_value", type_=sort_column.type)
        last_id = bindparam("last_id", type_=Integer)
        # The first term repeats what the OR implies: it is the bound an index range scan starts from.
        # Without it PostgreSQL read the index from the top and filtered, so page k cost k pages (the
        # middle of a million-ticket list: 900 ms instead of 1 ms).
        if shape.sort.descending:
            query = query.where(
                sort_column <= last_value,
                or_(sort_column < last_value, (sort_column == last_value) & (Ticket.id < last_id)),
            )
        else:
            query = query.where(
                sort_column >= last_value,
                or_(sort_column > last_value, (sort_column == last_value) & (Ticket.id > last_id)),
            )
    order = (
        (sort_column.desc(), Ticket.id.desc())
        if shape.sort.descending
        else (sort_column.asc(), Ticket.id.asc())
    )
    # Page first, then join the names: left to itself the planner joins people, teams and categories to
    # every match before sorting (a requester with 1,000 tickets paid for all of them). The page size is
    # written into the SQL (a handful of distinct statements), so PostgreSQL keeps a generic plan.
    size = bindparam("page_size", type_=Integer, literal_execute=True)
    page_ids = query.order_by(*order).limit(size).subquery()
    return (
        (_SUMMARY if columns is None else columns).join(page_ids, Ticket.id == page_ids.c.id).order_by(*order)
    )


def _shape_clauses(shape: _ListShape) -> Iterable[ColumnElement[bool]]:
    if shape.statuses:
        yield status_in(shape.statuses)
    if shape.priorities:
        yield Ticket.priority.in_(sorted(shape.priorities))
    if shape.assignee is Assignee.ME:
        yield Ticket.assignee_id == bindparam("actor_id")
    elif shape.assignee is Assignee.NOBODY:
        yield Ticket.assignee_id.is_(None)
    elif shape.assignee is AssignedTo:
        yield Ticket.assignee_id == bindparam("assignee_id")
    if shape.requester:
        yield Ticket.requester_id == bindparam("requester_id")
    if shape.teams:
        yield Ticket.team_id.in_(bindparam("team_ids", expanding=True))
    if shape.my_teams:
        yield Ticket.team_id.in_(_teams_of(bindparam("actor_id")))
    if shape.category:
        yield Ticket.category_id == bindparam("category_id")
    if shape.updated_since:
        yield Ticket.updated_at >= bindparam("updated_since")
    if shape.due is DueFilter.AT_RISK:
        yield from sla_reads.at_risk_conditions(
            shape.warnings, bindparam("due_now"), lambda minutes: bindparam(f"due_soon_{minutes}")
        )
    elif shape.due is DueFilter.BREACHED:
        yield Ticket.next_due_at < bindparam("due_now")


def _teams_of(user: int | BindParameter[int]) -> Select[tuple[int]]:
    return select(team_members.c.team_id).where(team_members.c.user_id == user)


# Tickets with no running target sort after every due one, in either database (NULLs sort differently).
NEVER_DUE = datetime(9999, 1, 1, tzinfo=UTC)
_DUE_OR_NEVER = func.coalesce(Ticket.next_due_at, literal(NEVER_DUE, UTCDateTime))


_PRIORITY_RANK = case({p.value: p.rank for p in Priority}, value=Ticket.priority)


def _sort_column(key: SortKey) -> Any:
    return {
        SortKey.UPDATED_AT: Ticket.updated_at,
        SortKey.CREATED_AT: Ticket.created_at,
        SortKey.PRIORITY: _PRIORITY_RANK,
        SortKey.NUMBER: Ticket.number,
        SortKey.DUE: _DUE_OR_NEVER,
    }[key]


def _sort_value(ticket: Any, key: SortKey) -> Any:  # a summary or a list's row
    if key is SortKey.PRIORITY:
        return ticket.priority.rank
    if key is SortKey.NUMBER:
        return ticket.number
    if key is SortKey.DUE:
        return ticket.next_due_at or NEVER_DUE
    return getattr(ticket, key.value)


def _text_clause(session: Session, actor: User, text: str) -> ColumnElement[bool]:
    """A ticket number (`#1042` or `1042`), words anywhere in the subject, description or replies the
    actor may read (full-text search), or for the desk the requester's name or address.

    Each way of matching gives a short list of ticket ids through its own index, and the page is
    chosen among their union: an OR of them in one WHERE clause would have the database test every
    ticket in turn."""
    branches: list[Select[Any]] = []
    words = search.matching_ids(session, actor, text)
    if words is not None:
        branches.append(words)
    if actor.is_staff:
        people = search.matching_people(text)
        if people is not None:
            branches.append(
                select(Ticket.id)
                .where(Ticket.requester_id.in_(people))
                .order_by(Ticket.id.desc())
                .limit(search.MAX_MATCHES)
            )
    number = ticket_number_in(text)
    if number is not None:
        branches.append(select(Ticket.id).where(Ticket.number == number))
    if not branches:
        return Ticket.id.is_(None)  # nothing to search for matches nothing
    if len(branches) == 1:
        return Ticket.id.in_(branches[0])
    # SQLite takes no ORDER BY or LIMIT in a member of a UNION: each member reads from its subquery.
    members = [select(member.c[0]).select_from(member) for member in (b.subquery() for b in branches)]
    return Ticket.id.in_(union_all(*members))


def ticket_number_in(text: str) -> int | None:
    """The ticket number a search names (`#1042` or `1042`), if it is one."""
    stripped = text.strip().lstrip("#")
    if stripped.isascii() and stripped.isdigit() and len(stripped) < 10 and int(stripped) <= ID_MAX:
        return int(stripped)
    return None


# --- the statements, built once ------------------------------------------------------------------------

# The summary's own columns; the four it points at are read as ids and names.
_SUMMARY_COLUMNS = tuple(
    f.name for f in fields(TicketSummary) if f.name not in ("requester", "assignee", "team", "category")
)
_requester, _assignee = aliased(User), aliased(User)
_SUMMARY = (
    select(
        *(getattr(Ticket, name) for name in _SUMMARY_COLUMNS),
        Ticket.requester_id,
        Ticket.assignee_id,
        Ticket.team_id,
        Ticket.category_id,
        _requester.full_name.label("requester_name"),
        _requester.email.label("requester_email"),
        _assignee.full_name.label("assignee_name"),
        _assignee.email.label("assignee_email"),
        Team.name.label("team_name"),
        Category.name.label("category_name"),
    )
    .join(_requester, _requester.id == Ticket.requester_id)
    .outerjoin(_assignee, _assignee.id == Ticket.assignee_id)
    .outerjoin(Team, Team.id == Ticket.team_id)
    .outerjoin(Category, Category.id == Ticket.category_id)
)

_TICKET_BY_NUMBER = {
    sight: _SUMMARY.where(
        policy.reach_clause(sight, bindparam("actor_id")), Ticket.number == bindparam("number")
    )
    for sight in policy.Reach
}


def _summary(row: Any) -> TicketSummary:
    # The summary's own columns come first in `_SUMMARY`, in `_SUMMARY_COLUMNS` order.
    return TicketSummary(
        **dict(zip(_SUMMARY_COLUMNS, row, strict=False)),
        requester=Person(row.requester_id, row.requester_name, row.requester_email),
        assignee=None
        if row.assignee_id is None
        else Person(row.assignee_id, row.assignee_name, row.assignee_email),
        team=None if row.team_id is None else Choice(row.team_id, row.team_name),
        category=None if row.category_id is None else Choice(row.category_id, row.category_name),
    )


_author = aliased(User)
_COMMENTS = select(
    Comment.id,
    Comment.body,
    Comment.internal,
    Comment.created_at,
    _author.id.label("author_id"),
    _author.full_name.label("author_name"),
    _author.role.label("author_role"),
).join(_author, _author.id == Comment.author_id)

_COMMENTS_OF = {
    with_notes: _COMMENTS.where(
        Comment.ticket_id == bindparam("ticket_id"), policy.comment_clause(with_notes)
    ).order_by(Comment.id)
    for with_notes in (True, False)
}


def _comments_of(session: Session, actor: User, ticket_id: int) -> list[CommentSummary]:
    rows = read_rows(session, _COMMENTS_OF[policy.sees_internal_notes(actor)], {"ticket_id": ticket_id})
    return [
        CommentSummary(
            id=row.id,
            author=Author(row.author_id, row.author_name, row.author_role in STAFF_ROLES),
            body=row.body,
            internal=row.internal,
            created_at=row.created_at,
        )
        for row in rows
    ]


_actor = aliased(User)
_EVENTS_OF = (
    select(
        TicketEvent.id,
        TicketEvent.kind,
        TicketEvent.old_value,
        TicketEvent.new_value,
        TicketEvent.comment_id,
        TicketEvent.created_at,
        TicketEvent.actor_id,
        _actor.full_name.label("actor_name"),
        _actor.email.label("actor_email"),
    )
    .outerjoin(_actor, _actor.id == TicketEvent.actor_id)
    .where(TicketEvent.ticket_id == bindparam("ticket_id"))
    .order_by(TicketEvent.id)
)


def _events_of(session: Session, ticket_id: int) -> list[EventSummary]:
    rows = read_rows(session, _EVENTS_OF, {"ticket_id": ticket_id})
    return [
        EventSummary(
            id=row.id,
            kind=row.kind,
            actor=None if row.actor_id is None else Person(row.actor_id, row.actor_name, row.actor_email),
            old_value=row.old_value,
            new_value=row.new_value,
            comment_id=row.comment_id,
            created_at=row.created_at,
        )
        for row in rows
    ]
