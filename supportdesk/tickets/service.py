"""Ticket use cases. Each takes a session and an actor, asks the policy, validates everything before
changing anything, records one audit event per change in the same transaction, and commits."""

from __future__ import annotations

import base64
import binascii
import enum
import functools
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Final, NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    bindparam,
    case,
    event,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload
from sqlalchemy.orm.exc import StaleDataError

from supportdesk.accounts.models import STAFF_ROLES, Team, User, team_members
from supportdesk.attachments import service as attachments
from supportdesk.attachments.models import Attachment
from supportdesk.attachments.service import FileStore, Upload
from supportdesk.core import clock
from supportdesk.core.caching import BriefCache
from supportdesk.core.db import ID_MAX, get_by_id, read_rows
from supportdesk.core.errors import (
    Conflict,
    FieldError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from supportdesk.search import service as search
from supportdesk.tickets import lifecycle, metrics, policy
from supportdesk.tickets.lifecycle import Priority, Status
from supportdesk.tickets.models import (
    COMMENT_MAX,
    DESCRIPTION_MAX,
    FIRST_TICKET_NUMBER,
    SUBJECT_MAX,
    Category,
    Comment,
    CreationKey,
    EventKind,
    Ticket,
    TicketEvent,
    status_in,
    ticket_number_seq,
    ticket_reference,
)


class _Unset(enum.Enum):
    UNSET = "unset"


UNSET: Final = _Unset.UNSET
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class DeskRules:
    """The configurable parts of the life cycle (read from Config by the faces)."""

    reopen_window: timedelta = timedelta(days=14)
    auto_close_after: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class TicketChanges:
    """A partial update: fields left UNSET are not touched; None clears a nullable field."""

    status: Status | _Unset = UNSET
    priority: Priority | _Unset = UNSET
    assignee_id: int | _Unset | None = UNSET
    team_id: int | _Unset | None = UNSET
    category_id: int | _Unset | None = UNSET
    subject: str | _Unset = UNSET

    def given(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not UNSET}


@dataclass(frozen=True)
class TicketFilters:
    statuses: frozenset[Status] = frozenset()
    priorities: frozenset[Priority] = frozenset()
    # An id, "me" or "none".
    assignee: int | str | None = None
    requester_id: int | None = None
    team_ids: frozenset[int] = frozenset()
    # Tickets of the teams the actor belongs to (the "My teams" view), resolved inside the query.
    my_teams: bool = False
    category_id: int | None = None
    text: str | None = None
    updated_since: datetime | None = None


class SortKey(enum.StrEnum):
    UPDATED_AT = "updated_at"
    CREATED_AT = "created_at"
    PRIORITY = "priority"
    NUMBER = "number"


@dataclass(frozen=True)
class Sort:
    key: SortKey = SortKey.UPDATED_AT
    descending: bool = True

    @classmethod
    def parse(cls, text: str) -> Sort:
        """`-updated_at` is newest first, `priority` lowest first, and so on."""
        descending = text.startswith("-")
        try:
            return cls(SortKey(text.lstrip("-")), descending)
        except ValueError:
            choices = ", ".join(k.value for k in SortKey)
            raise ValidationError.single("sort", f"sort by one of {choices}, with - for descending") from None

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.key.value


MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class PageRequest:
    limit: int = 25
    cursor: str | None = None


class Choice(NamedTuple):
    id: int
    name: str


class Person(NamedTuple):
    id: int
    full_name: str
    email: str


class Author(NamedTuple):
    id: int
    full_name: str
    is_staff: bool


@dataclass(frozen=True, slots=True)
class TicketSummary:
    """A ticket as pages and the API show it, read as plain columns with the names it points at.
    Building ORM objects for a page of tickets and every person, team and category they name was a
    third of a queue page's time; reading only, pages need none of what the objects are for (changes
    go through the services, which load the ticket itself)."""

    id: int
    number: int
    subject: str
    description: str
    status: Status
    priority: Priority
    requester: Person
    assignee: Person | None
    team: Choice | None
    category: Choice | None
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    version: int

    @property
    def reference(self) -> str:
        return ticket_reference(self.number)

    @property
    def requester_id(self) -> int:
        return self.requester.id

    @property
    def assignee_id(self) -> int | None:
        return None if self.assignee is None else self.assignee.id

    @property
    def team_id(self) -> int | None:
        return None if self.team is None else self.team.id

    @property
    def category_id(self) -> int | None:
        return None if self.category is None else self.category.id


@dataclass(frozen=True, slots=True)
class CommentSummary:
    """A reply or internal note as a ticket page shows it, with its author's name."""

    id: int
    author: Author
    body: str
    internal: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EventSummary:
    """One line of a ticket's activity log, with the name of who did it (None: the desk itself)."""

    id: int
    kind: EventKind
    actor: Person | None
    old_value: str | None
    new_value: str | None
    comment_id: int | None
    created_at: datetime


@dataclass
class TicketPage:
    items: list[TicketSummary]
    next_cursor: str | None = None


# ---------------------------------------------------------------------------------------------------
# Reading


def get_ticket(session: Session, actor: User, number: int) -> Ticket:
    """The ticket, or NotFound when it does not exist or `actor` may not see it (never "forbidden",
    which would confirm that it exists)."""
    _require_ticket_number(number)
    ticket = session.scalars(
        policy.visible_tickets(actor)
        .where(Ticket.number == number)
        .options(
            joinedload(Ticket.requester),
            joinedload(Ticket.assignee),
            joinedload(Ticket.team),
            joinedload(Ticket.category),
        )
    ).one_or_none()
    if ticket is None:
        raise _not_found(number)
    return ticket


def read_ticket(session: Session, actor: User, number: int) -> TicketSummary:
    """The ticket as pages show it, in one statement; NotFound as for `get_ticket`."""
    _require_ticket_number(number)
    statement = _TICKET_BY_NUMBER[policy.reach(actor)]
    row = read_rows(session, statement, {"number": number, "actor_id": actor.id}).one_or_none()
    if row is None:
        raise _not_found(number)
    return _summary(row)


def _require_ticket_number(number: int) -> None:
    """A number no INTEGER column can hold is simply not found (PostgreSQL would raise)."""
    if not 1 <= number <= ID_MAX:
        raise _not_found(number)


def _not_found(number: int) -> NotFound:
    return NotFound(f"Ticket #{number} was not found.")


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
    values: dict[str, Any] = {"actor_id": actor.id, "page_size": page.limit + 1, **_filter_values(filters)}
    if page.cursor:
        values["last_value"], values["last_id"] = _decode_cursor(page.cursor, sort.key)
    shape = _ListShape.of(actor, filters, sort, after_cursor=bool(page.cursor))
    text = (filters.text or "").strip()
    statement = _build_list(shape, _text_clause(session, actor, text)) if text else _list_statement(shape)
    rows = [_summary(row) for row in read_rows(session, statement, values)]
    if len(rows) <= page.limit:
        return TicketPage(rows)
    items = rows[: page.limit]
    return TicketPage(items, _encode_cursor(items[-1], sort.key))


@dataclass(frozen=True)
class _ListShape:
    """What a list statement's SQL depends on; every value is bound when it runs (`_filter_values`).
    The statuses and priorities are written into it (a handful of sets): SQLite uses its partial
    indexes only when the query repeats their predicate word for word."""

    reach: policy.Reach
    statuses: frozenset[Status]
    priorities: frozenset[Priority]
    assignee: str | None  # "me", "none", "id" or None
    requester: bool
    teams: bool
    my_teams: bool
    category: bool
    updated_since: bool
    sort: Sort
    after_cursor: bool

    @classmethod
    def of(cls, actor: User, filters: TicketFilters, sort: Sort, *, after_cursor: bool) -> _ListShape:
        return cls(
            reach=policy.reach(actor),
            statuses=filters.statuses,
            priorities=filters.priorities,
            assignee="id" if isinstance(filters.assignee, int) else filters.assignee,
            requester=filters.requester_id is not None,
            teams=bool(filters.team_ids),
            my_teams=filters.my_teams,
            category=filters.category_id is not None,
            updated_since=filters.updated_since is not None,
            sort=sort,
            after_cursor=after_cursor,
        )


def _filter_values(filters: TicketFilters) -> dict[str, Any]:
    return {
        "assignee_id": filters.assignee if isinstance(filters.assignee, int) else None,
        "requester_id": filters.requester_id,
        "team_ids": sorted(filters.team_ids),
        "category_id": filters.category_id,
        "updated_since": filters.updated_since,
    }


@functools.lru_cache(maxsize=512)
def _list_statement(shape: _ListShape) -> Select[Any]:
    """Built once per shape: building the statement and computing its cache key cost SQLAlchemy half a
    millisecond, as much as running it."""
    return _build_list(shape)


def _build_list(shape: _ListShape, *more: ColumnElement[bool]) -> Select[Any]:
    sort_column = _sort_column(shape.sort.key)
    query = select(Ticket.id).where(
        policy.reach_clause(shape.reach, bindparam("actor_id")), *_shape_clauses(shape), *more
    )
    if shape.after_cursor:
        last_value, last_id = (
            bindparam("last_value", type_=sort_column.type),
            bindparam("last_id", type_=Integer),
        )
        if shape.sort.descending:
            query = query.where(
                or_(sort_column < last_value, (sort_column == last_value) & (Ticket.id < last_id))
            )
        else:
            query = query.where(
                or_(sort_column > last_value, (sort_column == last_value) & (Ticket.id > last_id))
            )
    order = (
        (sort_column.desc(), Ticket.id.desc())
        if shape.sort.descending
        else (sort_column.asc(), Ticket.id.asc())
    )
    # Page first, then join the names: left to itself the planner joins people, teams and categories to
    # every match before sorting (a requester with 1,000 tickets paid for all of them).
    # The page size is written into the SQL when it runs (a handful of distinct statements): with it
    # bound, the generic plan PostgreSQL could keep looked dearer than re-planning, so every page view
    # paid 0.8 ms of planning at a million tickets for 0.2 ms of work.
    size = bindparam("page_size", type_=Integer, literal_execute=True)
    page_ids = query.order_by(*order).limit(size).subquery()
    return _SUMMARY.join(page_ids, Ticket.id == page_ids.c.id).order_by(*order)


def _shape_clauses(shape: _ListShape) -> Iterable[ColumnElement[bool]]:
    if shape.statuses:
        yield status_in(shape.statuses)
    if shape.priorities:
        yield Ticket.priority.in_(sorted(shape.priorities))
    if shape.assignee == "me":
        yield Ticket.assignee_id == bindparam("actor_id")
    elif shape.assignee == "none":
        yield Ticket.assignee_id.is_(None)
    elif shape.assignee == "id":
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


# The summary's own columns; the four it points at are read as ids and names.
_SUMMARY_COLUMNS = (
    "id",
    "number",
    "subject",
    "description",
    "status",
    "priority",
    "created_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "version",
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


# The statements a ticket page runs are built once, for each way the policy can scope them, and run
# with the values bound: building one and computing its cache key cost SQLAlchemy 0.15-0.2 ms a time,
# as much as running it.
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


def suggest_similar(session: Session, actor: User, subject: str, limit: int = 5) -> list[Ticket]:
    """Tickets `actor` may see that share words with `subject` (for "is it one of these?" while a new
    ticket is typed): the actor's own for requesters, open ones first."""
    query = (
        policy.visible_tickets(actor)
        .where(search.matching_tickets(session, actor, subject, any_word=True))
        .order_by(case((status_in(lifecycle.ACTIVE_STATUSES), 0), else_=1), Ticket.updated_at.desc())
        .limit(limit)
    )
    if not actor.is_staff:
        query = query.where(Ticket.requester_id == actor.id)
    return list(session.scalars(query))


@dataclass
class BulkResult:
    changed: list[int]
    refused: dict[int, str]


def bulk_update(
    session: Session,
    actor: User,
    numbers: Sequence[int],
    changes: TicketChanges,
    rules: DeskRules = DeskRules(),
) -> BulkResult:
    """Apply the same change to several tickets, each in its own transaction: one ticket refusing
    (a transition its status forbids, say) does not stop the others, and is reported."""
    if not numbers:
        raise ValidationError.single("tickets", "select at least one ticket")
    if len(numbers) > MAX_PAGE_SIZE:
        raise ValidationError.single("tickets", f"select at most {MAX_PAGE_SIZE} tickets")
    if not changes.given():
        raise ValidationError.single("action", "choose what to change")
    result = BulkResult([], {})
    for number in dict.fromkeys(numbers):
        try:
            update_ticket(session, actor, number, changes, rules=rules)
        except (InvalidTransition, NotFound, Conflict, ValidationError) as error:
            session.rollback()
            result.refused[number] = error.detail
        else:
            result.changed.append(number)
    return result


def list_comments(session: Session, actor: User, number: int) -> list[CommentSummary]:
    return _comments_of(session, actor, read_ticket(session, actor, number).id)


def list_events(session: Session, actor: User, number: int) -> list[EventSummary]:
    ticket = read_ticket(session, actor, number)
    if not policy.can_see_events(actor):
        raise PermissionDenied("Only the desk can read a ticket's activity log.")
    return _events_of(session, ticket.id)


@dataclass(frozen=True)
class FieldChoices:
    """What a ticket's assignee, team and category may be set to, by name."""

    staff: list[Choice]
    teams: list[Choice]
    categories: list[Choice]

    def names(self) -> dict[tuple[str, str], str]:
        """Display names for the ids the audit trail records."""
        return {
            **{("assignee", str(c.id)): c.name for c in self.staff},
            **{("team", str(c.id)): c.name for c in self.teams},
            **{("category", str(c.id)): c.name for c in self.categories},
        }


def field_choices(session: Session, *, fresh: bool = False) -> FieldChoices:
    """Every assignable user, team and category (retired ones too: old tickets still name them). Pages
    show a copy up to CHOICES_TTL_SECONDS old, dropped at once when this process changes a user, team
    or category; a change someone submits is checked against `fresh` ones."""
    return _choices.get(id(session.get_bind()), lambda: _read_field_choices(session), fresh=fresh)


CHOICES_TTL_SECONDS = 10.0
_choices: BriefCache[int, FieldChoices] = BriefCache(CHOICES_TTL_SECONDS)


@event.listens_for(Session, "after_flush")
def _forget_changed_choices(session: Session, _context: Any) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, User | Team | Category) for obj in changed):
        _choices.clear()


def _read_field_choices(session: Session) -> FieldChoices:
    """One statement; rows are plain tuples."""
    kind: ColumnElement[str] = literal_column("kind")
    rows = session.execute(
        union_all(
            select(literal("staff").label("kind"), User.id, User.full_name.label("name")).where(
                policy.assignable_users()
            ),
            select(literal("team").label("kind"), Team.id, Team.name.label("name")),
            select(literal("category").label("kind"), Category.id, Category.name.label("name")),
        ).order_by(kind, literal_column("name"))
    )
    found: dict[str, list[Choice]] = {"staff": [], "team": [], "category": []}
    for row_kind, row_id, name in rows:
        found[row_kind].append(Choice(row_id, name))
    return FieldChoices(staff=found["staff"], teams=found["team"], categories=found["category"])


@dataclass(frozen=True)
class Conversation:
    """Everything a ticket page shows, read once: the ticket, the replies (and, for the desk, notes and
    the activity log) and the files the actor may open."""

    ticket: TicketSummary
    comments: list[CommentSummary]
    events: list[EventSummary]
    attachments: list[Attachment]


def conversation(session: Session, actor: User, number: int, *, with_events: bool = True) -> Conversation:
    """`with_events=False` for pages that never show the activity log (the portal, staff included)."""
    ticket = read_ticket(session, actor, number)
    return Conversation(
        ticket=ticket,
        comments=_comments_of(session, actor, ticket.id),
        events=_events_of(session, ticket.id) if with_events and policy.can_see_events(actor) else [],
        attachments=attachments.attachments_for(session, actor, ticket.id),
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
_EVENTS = select(
    TicketEvent.id,
    TicketEvent.kind,
    TicketEvent.old_value,
    TicketEvent.new_value,
    TicketEvent.comment_id,
    TicketEvent.created_at,
    TicketEvent.actor_id,
    _actor.full_name.label("actor_name"),
    _actor.email.label("actor_email"),
).outerjoin(_actor, _actor.id == TicketEvent.actor_id)


_EVENTS_OF = _EVENTS.where(TicketEvent.ticket_id == bindparam("ticket_id")).order_by(TicketEvent.id)


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


# ---------------------------------------------------------------------------------------------------
# Writing


def create_ticket(
    session: Session,
    actor: User,
    *,
    subject: str,
    description: str = "",
    priority: Priority | None = None,
    category_id: int | None = None,
    requester_id: int | None = None,
    team_id: int | None = None,
    assignee_id: int | None = None,
    uploads: Sequence[Upload] = (),
    files: FileStore | None = None,
    creation_key: str | None = None,
) -> Ticket:
    """Raise a ticket. With a `creation_key`, a retry of the same request returns the ticket the first
    attempt created instead of raising a second one (the same key with a different request is refused)."""
    _require_active(actor)
    fingerprint = _fingerprint(
        subject, description, priority, category_id, requester_id, team_id, assignee_id
    )
    if creation_key is not None and not 1 <= len(creation_key) <= 200:
        raise ValidationError.single("Idempotency-Key", "must be 1 to 200 characters")
    errors: list[FieldError] = []
    subject = _clean_subject(subject, errors)
    description = _clean_text(description, "description", DESCRIPTION_MAX, errors, required=False)
    priority = priority or Priority.NORMAL
    if not policy.may_raise_for_others(actor):
        staff_only = {
            name
            for name, value in (
                ("requester_id", requester_id),
                ("team_id", team_id),
                ("assignee_id", assignee_id),
            )
            if value is not None
        }
        if staff_only:
            raise PermissionDenied(
                f"Only the desk may set {', '.join(sorted(staff_only))}.", tuple(staff_only)
            )
        if priority not in lifecycle.REQUESTER_PRIORITIES:
            errors.append(FieldError("priority", "urgent is set by the desk; choose low, normal or high"))
    requester = actor if requester_id is None else _load_requester(session, requester_id, errors)
    category = _load_category(session, category_id, errors) if category_id is not None else None
    team = _load_team(session, team_id, errors) if team_id is not None else None
    assignee = _load_assignee(session, assignee_id, errors) if assignee_id is not None else None
    if errors or requester is None:
        raise ValidationError(errors)
    if team is None and category is not None:
        team = category.default_team
    now = clock.now()
    ticket = Ticket(
        subject=subject,
        description=description,
        priority=priority,
        status=Status.NEW,
        requester=requester,
        category=category,
        team=team,
        assignee=assignee,
        created_at=now,
        updated_at=now,
    )
    _record(ticket, actor, EventKind.CREATED, None, Status.NEW.value, now)
    _insert_numbered(session, ticket)
    try:
        # The key's unique index, not a look-up first, tells a retry: a first attempt (nearly every
        # one) costs no extra statement, and a retry, or a concurrent one, is answered with its ticket.
        if creation_key is not None:
            key = {
                "user_id": actor.id,
                "key": creation_key,
                "fingerprint": fingerprint,
                "ticket_id": ticket.id,
                "created_at": now,
            }
            session.connection().execute(_NEW_CREATION_KEY, key)
        search.index_new_ticket(session, ticket)
        _store_uploads(session, files, actor, ticket, uploads, None)
        session.commit()
    except IntegrityError:
        session.rollback()
        earlier = _ticket_for_key(session, actor, creation_key, fingerprint) if creation_key else None
        if earlier is None:
            raise
        return earlier
    metrics.TICKETS_CREATED.labels(actor.role.value).inc()
    return ticket


def _fingerprint(*parts: object) -> str:
    raw = json.dumps([p.value if isinstance(p, enum.Enum) else p for p in parts], separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def _ticket_for_key(session: Session, actor: User, key: str, fingerprint: str) -> Ticket | None:
    row = read_rows(session, _CREATION_KEY, {"user_id": actor.id, "key": key}).one_or_none()
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise ValidationError.single("Idempotency-Key", "was already used for a different request")
    return get_by_id(session, Ticket, row.ticket_id)


# Every ticket raised runs these (the form always sends its key): built once, run with values bound.
_CREATION_KEY = select(CreationKey.fingerprint, CreationKey.ticket_id).where(
    CreationKey.user_id == bindparam("user_id"), CreationKey.key == bindparam("key")
)
_NEW_CREATION_KEY = insert(CreationKey)


def update_ticket(
    session: Session,
    actor: User,
    number: int,
    changes: TicketChanges,
    expected_version: int | None = None,
    rules: DeskRules = DeskRules(),
) -> Ticket:
    """Apply `changes` as one write: one new version, one audit event per field that changed."""
    _require_active(actor)
    ticket = get_ticket(session, actor, number)
    given = changes.given()
    refused = policy.refused_fields(actor, set(given))
    if refused:
        names = ", ".join(sorted(refused))
        raise PermissionDenied(f"You may not change {names} on this ticket.", tuple(sorted(refused)))
    _check_version(ticket, expected_version)
    now = clock.now()
    planned = _plan_changes(session, actor, ticket, changes, now, rules)
    if not planned:
        return ticket
    for apply in planned:
        apply(ticket)
    _touch(ticket, now)
    _commit_or_conflict(session, ticket)
    return ticket


def transition(
    session: Session,
    actor: User,
    number: int,
    target: Status,
    expected_version: int | None = None,
    rules: DeskRules = DeskRules(),
) -> Ticket:
    return update_ticket(session, actor, number, TicketChanges(status=target), expected_version, rules)


def assign(
    session: Session,
    actor: User,
    number: int,
    assignee_id: int | None,
    expected_version: int | None = None,
) -> Ticket:
    return update_ticket(session, actor, number, TicketChanges(assignee_id=assignee_id), expected_version)


def add_comment(
    session: Session,
    actor: User,
    number: int,
    body: str,
    *,
    internal: bool = False,
    expected_version: int | None = None,
    uploads: Sequence[Upload] = (),
    files: FileStore | None = None,
) -> Comment:
    """A public reply or an internal note. Replies move the ticket along its life cycle (see
    `lifecycle.status_after_reply`); the first public answer from the desk sets first response time."""
    _require_active(actor)
    ticket = get_ticket(session, actor, number)
    if internal and not policy.may_write_internal(actor):
        raise PermissionDenied("Only the desk can write internal notes.", ("internal",))
    errors: list[FieldError] = []
    body = _clean_text(body, "body", COMMENT_MAX, errors, required=True)
    if errors:
        raise ValidationError(errors)
    if ticket.status is Status.CLOSED:
        raise InvalidTransition("This ticket is closed; reopen it to reply.")
    _check_version(ticket, expected_version)
    now = clock.now()
    comment = Comment(ticket=ticket, author=actor, body=body, internal=internal, created_at=now)
    session.add(comment)
    _store_uploads(session, files, actor, ticket, uploads, comment)
    search.index_comment(session, ticket, body, internal=internal)
    _record(ticket, actor, EventKind.COMMENT, None, "internal" if internal else "public", now, comment)
    if actor.is_staff and not internal and ticket.first_response_at is None:
        ticket.first_response_at = now
    new_status = lifecycle.status_after_reply(ticket.status, actor.role, internal)
    if new_status is not ticket.status:
        _set_status(ticket, actor, new_status, now)
    _touch(ticket, now)
    _commit_or_conflict(session, ticket)
    return comment


def close_resolved_tickets(session: Session, now: datetime, after: timedelta, batch: int = 500) -> int:
    """Close tickets resolved more than `after` ago (the auto-close job). Returns how many it closed."""
    closed = 0
    while True:
        tickets = list(
            session.scalars(
                select(Ticket)
                .where(Ticket.status == Status.RESOLVED, Ticket.resolved_at <= now - after)
                .order_by(Ticket.id)
                .limit(batch)
            )
        )
        for ticket in tickets:
            _set_status(ticket, None, Status.CLOSED, now)
            _touch(ticket, now)
        try:
            session.commit()
        except StaleDataError:
            # Someone touched one of these meanwhile; the next round picks up whatever is still due.
            session.rollback()
            continue
        closed += len(tickets)
        if len(tickets) < batch:
            return closed


# ---------------------------------------------------------------------------------------------------
# Helpers


def _require_active(actor: User) -> None:
    if not actor.is_active:
        raise PermissionDenied("This account is deactivated.")


def _check_version(ticket: Ticket, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != ticket.version:
        raise Conflict(
            f"Ticket {ticket.reference} was changed by someone else since you loaded it "
            f"(you had version {expected_version}, it is now at {ticket.version}).",
            current_version=ticket.version,
        )


def _commit_or_conflict(session: Session, ticket: Ticket) -> None:
    reference = ticket.reference
    try:
        session.commit()
    except StaleDataError:
        # Another transaction wrote the same row between our read and our write.
        session.rollback()
        raise Conflict(f"Ticket {reference} was changed by someone else at the same time.") from None


def _touch(ticket: Ticket, now: datetime) -> None:
    ticket.updated_at = now


def _record(
    ticket: Ticket,
    actor: User | None,
    kind: EventKind,
    old: str | None,
    new: str | None,
    now: datetime,
    comment: Comment | None = None,
) -> None:
    ticket.events.append(
        TicketEvent(actor=actor, kind=kind, old_value=old, new_value=new, comment=comment, created_at=now)
    )


def _set_status(ticket: Ticket, actor: User | None, target: Status, now: datetime) -> None:
    _record(ticket, actor, EventKind.STATUS, ticket.status.value, target.value, now)
    ticket.status = target
    ticket.resolved_at, ticket.closed_at = lifecycle.timestamps_for(
        target, ticket.resolved_at, ticket.closed_at, now
    )


def _ref(value: int | None) -> str | None:
    return None if value is None else str(value)


def _plan_changes(
    session: Session,
    actor: User,
    ticket: Ticket,
    changes: TicketChanges,
    now: datetime,
    rules: DeskRules,
) -> list[Any]:
    """Validate every requested change first, so a refusal leaves the ticket untouched; return the
    changes to apply, each a function of the ticket."""
    errors: list[FieldError] = []
    planned: list[Any] = []

    if not isinstance(changes.subject, _Unset):
        subject = _clean_subject(changes.subject, errors)
        if subject and subject != ticket.subject:
            planned.append(_field_change(actor, EventKind.SUBJECT, "subject", ticket.subject, subject, now))
    if not isinstance(changes.priority, _Unset) and changes.priority is not ticket.priority:
        planned.append(
            _field_change(actor, EventKind.PRIORITY, "priority", ticket.priority.value, changes.priority, now)
        )
    if not isinstance(changes.assignee_id, _Unset) and changes.assignee_id != ticket.assignee_id:
        assignee = _load_assignee(session, changes.assignee_id, errors) if changes.assignee_id else None
        planned.append(
            _relation_change(actor, EventKind.ASSIGNEE, "assignee", ticket.assignee_id, assignee, now)
        )
    if not isinstance(changes.team_id, _Unset) and changes.team_id != ticket.team_id:
        team = _load_team(session, changes.team_id, errors) if changes.team_id else None
        planned.append(_relation_change(actor, EventKind.TEAM, "team", ticket.team_id, team, now))
    if not isinstance(changes.category_id, _Unset) and changes.category_id != ticket.category_id:
        category = _load_category(session, changes.category_id, errors) if changes.category_id else None
        planned.append(
            _relation_change(actor, EventKind.CATEGORY, "category", ticket.category_id, category, now)
        )
    if errors:
        raise ValidationError(errors)
    if not isinstance(changes.status, _Unset):
        target = changes.status
        refusal = lifecycle.transition_refusal(
            ticket.status, target, actor.role, ticket.closed_at, now, rules.reopen_window
        )
        if refusal:
            raise InvalidTransition(refusal)
        planned.append(lambda t: _set_status(t, actor, target, now))
    return planned


def _field_change(actor: User, kind: EventKind, attr: str, old: str, new: Any, now: datetime) -> Any:
    def apply(ticket: Ticket) -> None:
        _record(ticket, actor, kind, old, str(new.value if isinstance(new, enum.Enum) else new), now)
        setattr(ticket, attr, new)
        if attr == "subject":
            search.reindex_public_text(object_session_of(ticket), ticket)

    return apply


def _relation_change(
    actor: User, kind: EventKind, attr: str, old_id: int | None, new: Any, now: datetime
) -> Any:
    def apply(ticket: Ticket) -> None:
        _record(ticket, actor, kind, _ref(old_id), _ref(new.id if new is not None else None), now)
        setattr(ticket, attr, new)

    return apply


def object_session_of(ticket: Ticket) -> Session:
    session = Session.object_session(ticket)
    assert session is not None, "tickets are changed while attached to a session"
    return session


def _store_uploads(
    session: Session,
    files: FileStore | None,
    actor: User,
    ticket: Ticket,
    uploads: Sequence[Upload],
    comment: Comment | None,
) -> None:
    if not uploads:
        return
    if files is None:
        raise ValueError("uploads need a FileStore")
    attachments.store_uploads(session, files, actor, ticket, uploads, comment)


def _clean_subject(subject: str, errors: list[FieldError]) -> str:
    cleaned = " ".join(_CONTROL_CHARS.sub("", subject).split())
    if not cleaned:
        errors.append(FieldError("subject", "is required"))
    elif len(cleaned) > SUBJECT_MAX:
        errors.append(FieldError("subject", f"must be at most {SUBJECT_MAX} characters"))
    return cleaned


def _clean_text(text: str, name: str, limit: int, errors: list[FieldError], *, required: bool) -> str:
    cleaned = _CONTROL_CHARS.sub("", text).replace("\r\n", "\n").strip()
    if required and not cleaned:
        errors.append(FieldError(name, "is required"))
    elif len(cleaned) > limit:
        errors.append(FieldError(name, f"must be at most {limit:,} characters"))
    return cleaned


def _load_requester(session: Session, user_id: int, errors: list[FieldError]) -> User | None:
    user = get_by_id(session, User, user_id)
    if user is None or not user.is_active:
        errors.append(FieldError("requester_id", "no active user has this id"))
        return None
    return user


def _load_assignee(session: Session, user_id: int, errors: list[FieldError]) -> User | None:
    user = get_by_id(session, User, user_id)
    if user is None or not policy.may_be_assigned(user):
        errors.append(FieldError("assignee_id", "must be an active technician or admin"))
        return None
    return user


def _load_team(session: Session, team_id: int, errors: list[FieldError]) -> Team | None:
    team = get_by_id(session, Team, team_id)
    if team is None:
        errors.append(FieldError("team_id", "no team has this id"))
    return team


def _load_category(session: Session, category_id: int, errors: list[FieldError]) -> Category | None:
    category = get_by_id(session, Category, category_id)
    if category is None or not category.is_active:
        errors.append(FieldError("category_id", "no active category has this id"))
        return None
    return category


def _insert_numbered(session: Session, ticket: Ticket, attempts: int = 5) -> None:
    """Give the ticket the next number and insert it (flushed, so it has its id). On SQLite two writers
    can pick the same highest-plus-one; the unique index refuses the second, which takes the next."""
    for attempt in range(attempts):
        ticket.number = _next_ticket_number(session)
        session.add(ticket)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            if attempt == attempts - 1:
                raise
        else:
            return


def _next_ticket_number(session: Session) -> int:
    if session.get_bind().dialect.name == "postgresql":
        return int(read_rows(session, _NEXT_NUMBER).scalar_one())
    highest = read_rows(session, _HIGHEST_NUMBER).scalar_one()
    return FIRST_TICKET_NUMBER if highest is None else int(highest) + 1


_NEXT_NUMBER = select(ticket_number_seq.next_value())
_HIGHEST_NUMBER = select(func.max(Ticket.number))


_PRIORITY_RANK = case({p.value: p.rank for p in Priority}, value=Ticket.priority)


def _sort_column(key: SortKey) -> Any:
    return {
        SortKey.UPDATED_AT: Ticket.updated_at,
        SortKey.CREATED_AT: Ticket.created_at,
        SortKey.PRIORITY: _PRIORITY_RANK,
        SortKey.NUMBER: Ticket.number,
    }[key]


def _sort_value(ticket: TicketSummary, key: SortKey) -> Any:
    if key is SortKey.PRIORITY:
        return ticket.priority.rank
    if key is SortKey.NUMBER:
        return ticket.number
    return getattr(ticket, key.value).isoformat()


def _encode_cursor(ticket: TicketSummary, key: SortKey) -> str:
    raw = json.dumps([key.value, _sort_value(ticket, key), ticket.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, key: SortKey) -> tuple[Any, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort_key, value, last_id = json.loads(raw)
        if sort_key != key.value or not isinstance(last_id, int):
            raise ValueError
        if key in (SortKey.UPDATED_AT, SortKey.CREATED_AT):
            value = datetime.fromisoformat(value)
        elif not isinstance(value, int):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationError.single("cursor", "is not a cursor from this listing") from None
    return value, last_id


def teams_of(actor: User) -> Select[tuple[int]]:
    """The ids of the actor's teams, as a subquery (no extra round trip to load them)."""
    return _teams_of(actor.id)


def _teams_of(user: int | BindParameter[int]) -> Select[tuple[int]]:
    return select(team_members.c.team_id).where(team_members.c.user_id == user)


def _text_clause(session: Session, actor: User, text: str) -> ColumnElement[bool]:
    """A ticket number (`#1042` or `1042`), or words anywhere in the subject, description or replies
    the actor may read (full-text search)."""
    words = search.matching_tickets(session, actor, text)
    stripped = text.strip().lstrip("#")
    if stripped.isdigit() and len(stripped) < 10:
        return or_(Ticket.number == int(stripped), words)
    return words


__all__ = [
    "UNSET",
    "BulkResult",
    "DeskRules",
    "PageRequest",
    "Sort",
    "SortKey",
    "TicketChanges",
    "TicketFilters",
    "TicketPage",
    "add_comment",
    "assign",
    "bulk_update",
    "close_resolved_tickets",
    "create_ticket",
    "get_ticket",
    "list_comments",
    "list_events",
    "list_tickets",
    "read_ticket",
    "suggest_similar",
    "transition",
    "update_ticket",
]
