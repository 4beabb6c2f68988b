"""What a reader is given: a ticket, a list of them, its conversation, as plain values (no ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from supportdesk.attachments.models import Attachment
from supportdesk.tickets.lifecycle import Priority, Status
from supportdesk.tickets.models import EventKind, ticket_reference


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
    """A ticket as pages and the API show it, read as plain columns with the names it points at."""

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
    # Service levels (see `sla`): None where no policy applies.
    sla_policy_id: int | None
    first_response_due_at: datetime | None
    first_response_breached: bool | None
    resolution_due_at: datetime | None
    resolution_breached: bool | None
    next_due_at: datetime | None
    # Duplicates and incidents: the ids of the ticket this one was merged into, and of its parent.
    merged_into_id: int | None
    parent_id: int | None

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


@dataclass(frozen=True)
class Conversation:
    """Everything a ticket page shows, read once: the ticket, the replies (and, for the desk, notes and
    the activity log) and the files the actor may open."""

    ticket: TicketSummary
    comments: list[CommentSummary]
    events: list[EventSummary]
    attachments: list[Attachment]
