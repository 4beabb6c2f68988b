"""A change to a ticket's own fields, as plain data: what was asked (`TicketChanges`), checked in full
before anything is touched (`plan_changes`), then applied with one audit event per field
(`apply_changes`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.core.errors import FieldError, InvalidTransition, ValidationError
from supportdesk.search import service as search
from supportdesk.tickets import lifecycle
from supportdesk.tickets.lifecycle import Priority, Status
from supportdesk.tickets.models import Comment, EventKind, Ticket, TicketEvent
from supportdesk.tickets.validation import clean_subject, load_assignee, load_category, load_team


class _Unset(enum.Enum):
    UNSET = "unset"


UNSET: Final = _Unset.UNSET


@dataclass(frozen=True)
class DeskRules:
    """The configurable parts of the life cycle (read from the settings by the faces)."""

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
class FieldChange:
    """One of the ticket's fields set to a new value, and how the audit trail records it."""

    kind: EventKind
    attribute: str
    value: Any  # what the ticket's attribute becomes: an enum, text, a user, team or category, or None
    old: str | None
    new: str | None


def plan_changes(
    session: Session, actor: User, ticket: Ticket, changes: TicketChanges, now: datetime, rules: DeskRules
) -> list[FieldChange]:
    """Every requested change, checked before any is made: a refusal leaves the ticket untouched.
    Fields asked to keep their value are no change."""
    errors: list[FieldError] = []
    planned: list[FieldChange] = []
    if not isinstance(changes.subject, _Unset):
        subject = clean_subject(changes.subject, errors)
        if subject and subject != ticket.subject:
            planned.append(FieldChange(EventKind.SUBJECT, "subject", subject, ticket.subject, subject))
    if not isinstance(changes.priority, _Unset) and changes.priority is not ticket.priority:
        priority = changes.priority
        planned.append(
            FieldChange(EventKind.PRIORITY, "priority", priority, ticket.priority.value, priority.value)
        )
    if not isinstance(changes.assignee_id, _Unset) and changes.assignee_id != ticket.assignee_id:
        assignee = load_assignee(session, changes.assignee_id, errors) if changes.assignee_id else None
        planned.append(_relation(EventKind.ASSIGNEE, "assignee", ticket.assignee_id, assignee))
    if not isinstance(changes.team_id, _Unset) and changes.team_id != ticket.team_id:
        team = load_team(session, changes.team_id, errors) if changes.team_id else None
        planned.append(_relation(EventKind.TEAM, "team", ticket.team_id, team))
    if not isinstance(changes.category_id, _Unset) and changes.category_id != ticket.category_id:
        category = load_category(session, changes.category_id, errors) if changes.category_id else None
        planned.append(_relation(EventKind.CATEGORY, "category", ticket.category_id, category))
    if errors:
        raise ValidationError(errors)
    if not isinstance(changes.status, _Unset):
        target = changes.status
        if ticket.merged_into_id is not None:
            # Closed for good: the conversation goes on in the ticket it was merged into.
            raise InvalidTransition("This ticket was merged into another one; it stays closed.")
        refusal = lifecycle.transition_refusal(
            ticket.status, target, actor.role, ticket.closed_at, now, rules.reopen_window
        )
        if refusal:
            raise InvalidTransition(refusal)
        planned.append(FieldChange(EventKind.STATUS, "status", target, ticket.status.value, target.value))
    return planned


def apply_changes(
    session: Session, ticket: Ticket, actor: User, planned: list[FieldChange], now: datetime
) -> None:
    for change in planned:
        if change.kind is EventKind.STATUS:
            set_status(ticket, actor, change.value, now)
            continue
        record_event(ticket, actor, change.kind, change.old, change.new, now)
        setattr(ticket, change.attribute, change.value)
    if any(change.kind is EventKind.SUBJECT for change in planned):
        search.reindex_public_text(session, ticket)


def record_event(
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


def set_status(ticket: Ticket, actor: User | None, target: Status, now: datetime) -> None:
    """Move the ticket to `target` (already allowed by the life cycle), with its audit event and the
    timestamps the new status implies."""
    record_event(ticket, actor, EventKind.STATUS, ticket.status.value, target.value, now)
    ticket.status = target
    ticket.resolved_at, ticket.closed_at = lifecycle.timestamps_for(
        target, ticket.resolved_at, ticket.closed_at, now
    )


def _relation(kind: EventKind, attribute: str, old_id: int | None, new: Any) -> FieldChange:
    new_id = None if new is None else new.id
    return FieldChange(kind, attribute, new, _ref(old_id), _ref(new_id))


def _ref(value: int | None) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class FieldsAsked:
    """What a form of several fields asks, once the fields it merely resent are set aside: `changes`
    holds each field the user changed that still has the value they saw; `clashes` names each field they
    changed that someone else has changed differently since (their page showed an older value)."""

    changes: TicketChanges
    clashes: tuple[str, ...]


def fields_asked(ticket: Ticket, asked: TicketChanges, shown: TicketChanges | None) -> FieldsAsked:
    """A form resends every field it shows. A field whose value is what the page showed (or, without
    `shown`, what the ticket holds now) is no change; a field someone else changed meanwhile is only
    a clash when the user asked for a different value than theirs."""
    kept: dict[str, Any] = {}
    clashes: list[str] = []
    for name, value in asked.given().items():
        now_value = getattr(ticket, name)
        seen = getattr(shown, name) if shown is not None else UNSET
        if seen is UNSET:
            seen = now_value
        if value in (seen, now_value):
            continue
        if seen != now_value:
            clashes.append(name)
            continue
        kept[name] = value
    return FieldsAsked(TicketChanges(**kept), tuple(clashes))
