"""The ticket API's request and response shapes (pydantic v2); the OpenAPI document is built from them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

from supportdesk.core.apikit import Schema
from supportdesk.core.db import ID_MAX
from supportdesk.tickets.lifecycle import Priority, Status
from supportdesk.tickets.models import COMMENT_MAX, DESCRIPTION_MAX, SUBJECT_MAX, EventKind

Id = Annotated[int, Field(ge=1, le=ID_MAX)]


def _assignee(value: str | None) -> str | None:
    if (
        value is None
        or value in ("me", "none")
        or (re.fullmatch(r"\d{1,10}", value) and 1 <= int(value) <= ID_MAX)
    ):
        return value
    raise ValueError("must be me, none or a user id")


class Ref(Schema):
    id: int
    name: str


class UserRef(Schema):
    id: int
    full_name: str


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


class TicketList(Schema):
    items: list[TicketOut]
    next_cursor: str | None


class TicketQuery(Schema):
    status: list[Status] = Field(default_factory=list, description="Repeat for several statuses.")
    priority: list[Priority] = Field(default_factory=list)
    assignee: Annotated[str | None, AfterValidator(_assignee)] = Field(
        default=None, description="me, none or a user id", max_length=10
    )
    requester: Id | None = None
    team: Id | None = None
    category: Id | None = None
    q: str | None = Field(default=None, max_length=200, description="Words, or a ticket number")
    updated_since: AwareDatetime | None = None
    sort: str = Field(default="-updated_at", pattern=r"^-?(updated_at|created_at|priority|number)$")
    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=500)


class TicketCreate(Schema):
    subject: str = Field(min_length=1, max_length=SUBJECT_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    priority: Priority | None = None
    category_id: Id | None = None
    # The desk may raise tickets for a requester and route them at once.
    requester_id: Id | None = None
    team_id: Id | None = None
    assignee_id: Id | None = None


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
