"""The service-level API's shapes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from supportdesk.core.apikit import Id, Schema
from supportdesk.tickets.lifecycle import Priority

Minutes = Annotated[int, Field(ge=0, le=24 * 60)]
Span = Annotated[
    list[Minutes], Field(min_length=2, max_length=2, description="[start, end) in minutes after midnight")
]
Name = Annotated[str, Field(min_length=1, max_length=80)]


class CalendarIn(Schema):
    name: Name
    zone: Annotated[str, Field(max_length=64, description="An IANA time zone, e.g. Europe/Berlin")]
    weekly: dict[Annotated[str, Field(pattern=r"^[0-6]$")], Annotated[list[Span], Field(max_length=6)]] = (
        Field(description='Working windows per weekday, "0" = Monday: {"0": [[540, 1020]], ...}')
    )
    holidays: Annotated[list[Annotated[str, Field(max_length=10)]], Field(max_length=400)] = Field(
        default_factory=list, description='Dates ("2026-12-24"), or "--12-25" for every year'
    )


class CalendarOut(CalendarIn):
    id: int


class CalendarList(Schema):
    items: list[CalendarOut]


class PolicyIn(Schema):
    name: Name
    position: Annotated[int, Field(ge=0, le=10_000, description="Policies are tried in this order")] = 0
    calendar_id: Id
    priority: Priority | None = None
    category_id: Id | None = None
    team_id: Id | None = None
    first_response_minutes: Annotated[int, Field(ge=1, le=366 * 24 * 60)] | None = None
    resolution_minutes: Annotated[int, Field(ge=1, le=366 * 24 * 60)] | None = None
    warning_minutes: Annotated[int, Field(ge=1, le=30 * 24 * 60)] = Field(
        default=60, description="Minutes (wall clock) before a target falls due: at risk, and warned"
    )
    escalate_priority: bool = Field(default=False, description="On a breach, raise the priority one step")
    escalate_to_team_id: Id | None = Field(
        default=None, description="On a breach, move the ticket to this team"
    )


class PolicyOut(PolicyIn):
    id: int


class PolicyList(Schema):
    items: list[PolicyOut]
