"""How tickets change. Each use case takes a session and an actor, asks the policy, validates everything
before changing anything, records one audit event per change, and flushes: the caller (a page, an API
handler, a command or a job) commits the unit of work once, and a refusal anywhere rolls all of it back.

What a ticket looks like to its readers is in `reads`; how a list is asked for, in `paging`."""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError

from supportdesk.accounts.models import Team, User
from supportdesk.attachments import service as attachments
from supportdesk.attachments.service import FileStore, Upload
from supportdesk.core import clock
from supportdesk.core.db import after_commit, read_rows
from supportdesk.core.errors import (
    Conflict,
    DomainError,
    FieldError,
    InvalidTransition,
    PermissionDenied,
    ValidationError,
)
from supportdesk.routing import service as routing
from supportdesk.search import service as search
from supportdesk.sla import service as service_levels
from supportdesk.tickets import cascade, collisions, drafts, lifecycle, metrics, policy
from supportdesk.tickets.changes import (
    UNSET,
    DeskRules,
    TicketChanges,
    apply_changes,
    fields_asked,
    plan_changes,
    record_event,
    set_status,
)
from supportdesk.tickets.collisions import FieldsClash, NewsSinceSeen
from supportdesk.tickets.lifecycle import Priority, Status
from supportdesk.tickets.models import (
    COMMENT_MAX,
    DESCRIPTION_MAX,
    FIRST_TICKET_NUMBER,
    Comment,
    CreationKey,
    EventKind,
    Ticket,
    ticket_number_seq,
)
from supportdesk.tickets.paging import MAX_PAGE_SIZE
from supportdesk.tickets.reads import require_ticket_number, ticket_not_found
from supportdesk.tickets.validation import (
    clean_subject,
    clean_text,
    load_assignee,
    load_category,
    load_requester,
    load_team,
)


class AlreadyCreated(DomainError):
    """A retry of a creation that succeeded before (same creation key, same request): the caller rolls
    back this attempt and answers with the ticket the first one raised."""

    def __init__(self, number: int) -> None:
        super().__init__(f"Ticket #{number} was already raised by this request.")
        self.number = number


def get_ticket(session: Session, actor: User, number: int) -> Ticket:
    """The ticket to change, freshly read and locked until the unit of work ends; NotFound when it does
    not exist or `actor` may not see it. The lock (PostgreSQL; SQLite's writers already take turns) makes
    writers to one ticket queue instead of failing: a reply appended while another is being written
    waits a moment rather than answering "conflict", and a version check is true until the commit."""
    require_ticket_number(number)
    ticket = session.scalars(
        policy.visible_tickets(actor)
        .where(Ticket.number == number)
        .options(
            joinedload(Ticket.requester),
            joinedload(Ticket.assignee),
            joinedload(Ticket.team),
            joinedload(Ticket.category),
        )
        .with_for_update(of=Ticket)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if ticket is None:
        raise ticket_not_found(number)
    return ticket


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
    """Raise a ticket. With a `creation_key`, a retry of the same request raises AlreadyCreated naming
    the ticket the first attempt created, instead of raising a second one (the same key with a
    different request is refused)."""
    _require_active(actor)
    if creation_key is not None and not 1 <= len(creation_key) <= 200:
        raise ValidationError.single("Idempotency-Key", "must be 1 to 200 characters")
    fingerprint = _fingerprint(
        subject, description, priority, category_id, requester_id, team_id, assignee_id
    )
    errors: list[FieldError] = []
    subject = clean_subject(subject, errors)
    description = clean_text(description, "description", DESCRIPTION_MAX, errors, required=False)
    priority = priority or Priority.NORMAL
    if not policy.may_raise_for_others(actor):
        staff_only = sorted(
            name
            for name, value in (
                ("requester_id", requester_id),
                ("team_id", team_id),
                ("assignee_id", assignee_id),
            )
            if value is not None
        )
        if staff_only:
            raise PermissionDenied(f"Only the desk may set {', '.join(staff_only)}.", tuple(staff_only))
        if priority not in lifecycle.REQUESTER_PRIORITIES:
            errors.append(FieldError("priority", "urgent is set by the desk; choose low, normal or high"))
    requester = actor if requester_id is None else load_requester(session, requester_id, errors)
    category = load_category(session, category_id, errors) if category_id is not None else None
    team = load_team(session, team_id, errors) if team_id is not None else None
    assignee = load_assignee(session, assignee_id, errors) if assignee_id is not None else None
    if errors or requester is None:
        raise ValidationError(errors)
    if team is None:
        routed = routing.team_for_new_ticket(session, subject, category.id if category else None)
        team = session.get(Team, routed) if routed is not None else None
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
        number=_next_ticket_number(session),
    )
    record_event(ticket, actor, EventKind.CREATED, None, Status.NEW.value, now)
    if requester.id != actor.id:
        raised_for = f"{requester.full_name} ({requester.email})"
        record_event(ticket, actor, EventKind.REQUESTER, None, raised_for[:255], now)
    service_levels.keep_due_times(session, ticket, now)
    session.add(ticket)
    session.flush()
    if creation_key is not None:
        _claim_creation_key(session, actor, creation_key, fingerprint, ticket, now)
    if routing.assign_automatically(session, ticket, now) is not None:
        session.flush()
    search.index_new_ticket(session, ticket)
    _store_uploads(session, files, actor, ticket, uploads, None)
    after_commit(session, metrics.TICKETS_CREATED.labels(actor.role.value).inc)
    return ticket


def update_ticket(
    session: Session,
    actor: User,
    number: int,
    changes: TicketChanges,
    expected_version: int | None = None,
    rules: DeskRules = DeskRules(),
) -> Ticket:
    """Change any of a ticket's own fields; a stale `expected_version` is a Conflict. Everything is
    validated before anything changes; one new version, one audit event per field that changed."""
    _require_active(actor)
    ticket = get_ticket(session, actor, number)
    refused = policy.refused_fields(actor, set(changes.given()))
    if refused:
        names = ", ".join(sorted(refused))
        raise PermissionDenied(f"You may not change {names} on this ticket.", tuple(sorted(refused)))
    _check_version(ticket, expected_version)
    _change_fields(session, actor, ticket, changes, rules)
    return ticket


def update_fields(
    session: Session,
    actor: User,
    number: int,
    asked: TicketChanges,
    shown: TicketChanges | None,
    expected_version: int | None = None,
    rules: DeskRules = DeskRules(),
) -> tuple[Ticket, list[str]]:
    """What a form of several fields sends (the ticket page's sidebar): every field it shows, changed
    or not. Only the fields the user changed are changed; the ones they left alone keep whatever they
    hold now, even when someone else changed them meanwhile. `shown` is what the user's page showed:
    a field they changed that someone else has set differently since is a Conflict. Without `shown`,
    a stale `expected_version` is one. Returns the ticket and the names of the fields changed."""
    _require_active(actor)
    ticket = get_ticket(session, actor, number)
    if shown is None:
        _check_version(ticket, expected_version)
    result = fields_asked(ticket, asked, shown)
    if result.clashes:
        names = " and ".join(FIELD_LABELS.get(name, name) for name in result.clashes)
        raise collisions.FieldsClash(
            f"Someone else changed the {names} of ticket {ticket.reference} since you opened it.",
            result.clashes,
            ticket.version,
        )
    refused = policy.refused_fields(actor, set(result.changes.given()))
    if refused:
        names = ", ".join(sorted(refused))
        raise PermissionDenied(f"You may not change {names} on this ticket.", tuple(sorted(refused)))
    return ticket, _change_fields(session, actor, ticket, result.changes, rules)


FIELD_LABELS = {
    "status": "status",
    "priority": "priority",
    "assignee_id": "assignee",
    "team_id": "team",
    "category_id": "category",
    "subject": "subject",
}


def _change_fields(
    session: Session, actor: User, ticket: Ticket, changes: TicketChanges, rules: DeskRules
) -> list[str]:
    now = clock.now()
    planned = plan_changes(session, actor, ticket, changes, now, rules)
    if planned:
        apply_changes(session, ticket, actor, planned, now)
        ticket.updated_at = now
        if any(change.kind is EventKind.TEAM for change in planned):
            routing.assign_automatically(session, ticket, now)  # unless the ticket has someone
        service_levels.keep_due_times(session, ticket, now)
        if any(change.kind is EventKind.STATUS for change in planned):
            cascade.resolve_open_children(session, actor, ticket, now)  # a parent incident's children
        _flush_or_conflict(session, ticket)
    return [change.attribute for change in planned]


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
    session: Session, actor: User, number: int, assignee_id: int | None, expected_version: int | None = None
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
    seen_event: int | None = None,
) -> Comment:
    """A public reply or an internal note. Replies move the ticket along its life cycle (see
    `lifecycle.status_after_reply`); the first public answer from the desk sets first response time.
    With `seen_event` (the last event the writer's page showed), a public reply is held back with
    NewsSinceSeen when someone else has replied publicly or changed the status since: the writer sees
    it first, and sends anyway (without `seen_event`) or revises."""
    _require_active(actor)
    ticket = get_ticket(session, actor, number)
    if seen_event is not None and not internal:
        collisions.check_news_since(session, actor, ticket, seen_event)
    if internal and not policy.may_write_internal(actor):
        raise PermissionDenied("Only the desk can write internal notes.", ("internal",))
    errors: list[FieldError] = []
    body = clean_text(body, "body", COMMENT_MAX, errors, required=True)
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
    record_event(ticket, actor, EventKind.COMMENT, None, "internal" if internal else "public", now, comment)
    drafts.discard_draft(session, actor, ticket.id)  # sent: the draft it was typed in is done
    if actor.is_staff and not internal and ticket.first_response_at is None:
        ticket.first_response_at = now
    new_status = lifecycle.status_after_reply(ticket.status, actor.role, internal)
    status_moved = new_status is not ticket.status
    if status_moved:
        set_status(ticket, actor, new_status, now)
    if not internal:
        # An internal note leaves the ticket row alone: its version (the requester's ETag) and update
        # time are what the requester sees, and must not tell them when the desk talks about them.
        ticket.updated_at = now
    if not internal or status_moved:
        service_levels.keep_due_times(session, ticket, now)
    _flush_or_conflict(session, ticket)
    return comment


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
    """Apply the same change to several tickets. Each ticket's change is undone alone when refused (a
    transition its status forbids, say), and reported; the others stand."""
    if not numbers:
        raise ValidationError.single("tickets", "select at least one ticket")
    if len(numbers) > MAX_PAGE_SIZE:
        raise ValidationError.single("tickets", f"select at most {MAX_PAGE_SIZE} tickets")
    if not changes.given():
        raise ValidationError.single("action", "choose what to change")
    result = BulkResult([], {})
    # In number order, so two bulk changes over the same tickets lock them in the same order.
    for number in sorted(set(numbers)):
        try:
            with session.begin_nested():
                update_ticket(session, actor, number, changes, rules=rules)
        except DomainError as error:
            result.refused[number] = error.detail
        else:
            result.changed.append(number)
    return result


def close_resolved_tickets(session: Session, now: datetime, after: timedelta, limit: int = 500) -> int:
    """Close up to `limit` tickets resolved more than `after` ago (the auto-close job runs it until it
    closes fewer than `limit`). Tickets another transaction is changing are left for the next round."""
    tickets = list(
        session.scalars(
            select(Ticket)
            .where(Ticket.status == Status.RESOLVED, Ticket.resolved_at <= now - after)
            .order_by(Ticket.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for ticket in tickets:
        set_status(ticket, None, Status.CLOSED, now)
        ticket.updated_at = now
    session.flush()
    return len(tickets)


# --- helpers -------------------------------------------------------------------------------------------


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


def _flush_or_conflict(session: Session, ticket: Ticket) -> None:
    reference = ticket.reference
    try:
        session.flush()
    except StaleDataError:
        # Another transaction wrote the same row between our read and our write.
        raise Conflict(f"Ticket {reference} was changed by someone else at the same time.") from None


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


def _next_ticket_number(session: Session) -> int:
    """PostgreSQL hands numbers out from a sequence; SQLite, whose writers take turns (a unit of work
    holds the write lock from its start), takes the next after the highest."""
    if session.get_bind().dialect.name == "postgresql":
        return int(read_rows(session, _NEXT_NUMBER).scalar_one())
    highest = read_rows(session, _HIGHEST_NUMBER).scalar_one()
    return FIRST_TICKET_NUMBER if highest is None else int(highest) + 1


_NEXT_NUMBER = select(ticket_number_seq.next_value())
_HIGHEST_NUMBER = select(func.max(Ticket.number))


def _fingerprint(*parts: object) -> str:
    raw = json.dumps([p.value if isinstance(p, enum.Enum) else p for p in parts], separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def _claim_creation_key(
    session: Session, actor: User, key: str, fingerprint: str, ticket: Ticket, now: datetime
) -> None:
    """Record the key with the new ticket. The key's unique index, not a look-up first, tells a retry (a
    first attempt, nearly every one, costs no extra statement); a concurrent attempt with the same key
    waits for the first to commit and then finds its ticket."""
    values = {
        "user_id": actor.id,
        "key": key,
        "fingerprint": fingerprint,
        "ticket_id": ticket.id,
        "created_at": now,
    }
    statement = _NEW_CREATION_KEY[session.get_bind().dialect.name]
    if session.connection().execute(statement, values).first() is not None:
        return
    earlier = read_rows(session, _CREATION_KEY, {"user_id": actor.id, "key": key}).one()
    if earlier.fingerprint != fingerprint:
        raise ValidationError.single("Idempotency-Key", "was already used for a different request")
    raise AlreadyCreated(earlier.number)


def created_with_key(session: Session, actor: User, key: str) -> int | None:
    """The number of the ticket `actor` already raised with this Idempotency-Key, if any."""
    row = read_rows(session, _CREATION_KEY, {"user_id": actor.id, "key": key}).first()
    return None if row is None else int(row.number)


# RETURNING tells whether the row went in: nothing comes back when the key was already there.
_NEW_CREATION_KEY = {
    "postgresql": postgresql.insert(CreationKey)
    .on_conflict_do_nothing(index_elements=["user_id", "key"])
    .returning(CreationKey.id),
    "sqlite": sqlite.insert(CreationKey)
    .on_conflict_do_nothing(index_elements=["user_id", "key"])
    .returning(CreationKey.id),
}
_CREATION_KEY = (
    select(CreationKey.fingerprint, Ticket.number)
    .join(Ticket, Ticket.id == CreationKey.ticket_id)
    .where(CreationKey.user_id == bindparam("user_id"), CreationKey.key == bindparam("key"))
)


__all__ = [
    "UNSET",
    "AlreadyCreated",
    "BulkResult",
    "DeskRules",
    "FieldsClash",
    "NewsSinceSeen",
    "TicketChanges",
    "add_comment",
    "assign",
    "bulk_update",
    "close_resolved_tickets",
    "create_ticket",
    "created_with_key",
    "get_ticket",
    "transition",
    "update_fields",
    "update_ticket",
]
