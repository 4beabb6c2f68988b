"""The routing API's shapes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from supportdesk.core.apikit import Id, Schema
from supportdesk.routing.models import AssignmentMode


class TeamAssignmentIn(Schema):
    mode: AssignmentMode = Field(description="off, round_robin or least_loaded")
    max_open: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        default=None, description="At most this many open tickets each (null: no cap)"
    )
    lead_ids: Annotated[list[Id], Field(max_length=500)] | None = Field(
        default=None, description="Exactly these members are the team's leads (left out: unchanged)"
    )


class TeamAssignmentOut(Schema):
    team_id: int
    team_name: str
    mode: AssignmentMode
    max_open: int | None
    lead_ids: list[int]


class TeamAssignmentList(Schema):
    items: list[TeamAssignmentOut]


class RuleIn(Schema):
    name: Annotated[str, Field(min_length=1, max_length=80)]
    position: Annotated[int, Field(ge=0, le=10_000, description="Rules are tried in this order")] = 0
    category_id: Id | None = None
    keywords: Annotated[str, Field(max_length=500, description="Comma-separated; any one in the subject")] = (
        ""
    )
    team_id: Id


class RuleOut(RuleIn):
    id: int


class RuleList(Schema):
    items: list[RuleOut]


class TechnicianOut(Schema):
    user_id: int
    name: str
    available: bool
    open_tickets: int


class TechnicianList(Schema):
    items: list[TechnicianOut]


class AvailabilityIn(Schema):
    available: bool


class AvailabilityOut(Schema):
    available: bool
