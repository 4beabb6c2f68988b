"""The ticket API's request and response shapes (pydantic v2); the OpenAPI document is built from them.
A listing's query string (`paging.TicketQuery`) is shared with the desk."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, model_validator

from supportdesk.accounts.schemas import Name
from supportdesk.core.apikit import Id, Schema
from supportdesk.tickets.lifecycle import Priority, Status
from supportdesk.tickets.models import COMMENT_MAX, DESCRIPTION_MAX, SUBJECT_MAX, EventKind


class Ref(Schema):
    id: int
    name: str


class UserRef(Schema):
    id: int
    full_name: str


class ServiceLevelOut(Schema):
    """A ticket's service-level targets (desk only). A due time is null while its clock is stopped;
    a breached flag is null while the target can still be met."""

    policy_id: int
    first_response_due_at: datetime | None
    first_response_breached: bool | None
    resolution_due_at: datetime | None
    resolution_breached: bool | None
    next_due_at: datetime | None


class TicketOut(Schema):
    id: int
    number: int
    reference: str
    subject: str
    description: str
    status: Status
    priority: Priority
    requester: UserRef
    assignee: UserRef | None
    team: Ref | None
    category: Ref | None
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    version: int
    service_level: ServiceLevelOut | None = None


class TicketList(Schema):
    items: list[TicketOut]
    next_cursor: str | None


class NewRequester(Schema):
    """Someone without an account yet, added by the desk (they set a password with "Forgot password")."""

    full_name: str = Field(min_length=1, max_length=120)
    email: str = Field(min_length=3, max_length=254)


class TicketCreate(Schema):
    subject: str = Field(min_length=1, max_length=SUBJECT_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    priority: Priority | None = None
    category_id: Id | None = None
    # The desk may raise tickets for a requester and route them at once.
    requester_id: Id | None = None
    new_requester: NewRequester | None = None
    team_id: Id | None = None
    assignee_id: Id | None = None

    @model_validator(mode="after")
    def _one_requester(self) -> TicketCreate:
        if self.requester_id is not None and self.new_requester is not None:
            raise ValueError("give requester_id or new_requester, not both")
        return self


class TicketPatch(Schema):
    """Any subset of these fields; null clears assignee, team or category."""

    status: Status | None = None
    priority: Priority | None = None
    assignee_id: Id | None = None
    team_id: Id | None = None
    category_id: Id | None = None
    subject: str | None = Field(default=None, min_length=1, max_length=SUBJECT_MAX)


class CommentCreate(Schema):
    body: str = Field(min_length=1, max_length=COMMENT_MAX)
    internal: bool = False
    # On a parent incident (the desk only): the public reply goes on each open child ticket too.
    to_children: bool = False


class CommentOut(Schema):
    id: int
    author: UserRef
    body: str
    internal: bool
    created_at: datetime


class CommentList(Schema):
    items: list[CommentOut]


class EventOut(Schema):
    id: int
    kind: EventKind
    actor: UserRef | None
    old_value: str | None
    new_value: str | None
    comment_id: int | None
    created_at: datetime


class EventList(Schema):
    items: list[EventOut]


class CategoryOut(Schema):
    id: int
    name: str
    default_team_id: int | None
    is_active: bool


class CategoryList(Schema):
    items: list[CategoryOut]


class CategoryCreate(Schema):
    name: Name
    default_team_id: Id | None = None


class CategoryPatch(Schema):
    name: Name | None = None
    default_team_id: Id | None = None
    is_active: bool | None = None
