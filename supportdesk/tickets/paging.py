"""How a ticket list is asked for: filters, sort orders, page requests and cursors, and the one parser of
a listing's query string that the desk, the portal and the API share."""

from __future__ import annotations

import base64
import binascii
import enum
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)

from supportdesk.core.apikit import Id, Schema
from supportdesk.core.db import ID_MAX
from supportdesk.core.errors import ValidationError
from supportdesk.tickets.lifecycle import Priority, Status

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 25
SEARCH_TEXT_MAX = 200


class Assignee(enum.Enum):
    """Filter by who works a ticket: the signed-in user, nobody, or one user (`AssignedTo`)."""

    ME = "me"
    NOBODY = "none"


@dataclass(frozen=True)
class AssignedTo:
    user_id: int


AssigneeFilter = Assignee | AssignedTo


class DueFilter(enum.StrEnum):
    """Tickets by their next running service-level target (see `sla`)."""

    AT_RISK = "at_risk"  # falls due within the warning time
    BREACHED = "breached"  # already past due, and still running


@dataclass(frozen=True)
class TicketFilters:
    statuses: frozenset[Status] = frozenset()
    priorities: frozenset[Priority] = frozenset()
    assignee: AssigneeFilter | None = None
    requester_id: int | None = None
    team_ids: frozenset[int] = frozenset()
    # Tickets of the teams the actor belongs to (the "My teams" view), resolved inside the query.
    my_teams: bool = False
    category_id: int | None = None
    text: str | None = None
    updated_since: datetime | None = None
    due: DueFilter | None = None


class SortKey(enum.StrEnum):
    UPDATED_AT = "updated_at"
    CREATED_AT = "created_at"
    PRIORITY = "priority"
    NUMBER = "number"
    DUE = "due"  # the next service-level target; tickets without one last


@dataclass(frozen=True)
class Sort:
    key: SortKey = SortKey.UPDATED_AT
    descending: bool = True

    @classmethod
    def parse(cls, text: str) -> Sort:
        """`-updated_at` is newest first, `priority` lowest first, and so on."""
        descending = text.startswith("-")
        try:
            return cls(SortKey(text.removeprefix("-")), descending)
        except ValueError:
            choices = ", ".join(k.value for k in SortKey)
            raise ValueError(f"sort by one of {choices}, with - for descending") from None

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.key.value


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None


# --- cursors -------------------------------------------------------------------------------------------
# A cursor names the last row of a page by its sort value and id: the next page starts after it.


def encode_cursor(key: SortKey, value: Any, last_id: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([key.value, value, last_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


_CURSOR_MAX = 500
_CURSOR_ROW = re.compile(rb'^\["[a-z_]{1,20}",(?:-?\d{1,12}|"[0-9T:.+\-]{1,40}"),\d{1,12}\]$')


def decode_cursor(cursor: str, key: SortKey) -> tuple[Any, int]:
    """The sort value and id a cursor names; a cursor from another listing, or anything else, is a
    field error (never a crash: it is read straight from the query string)."""
    try:
        if len(cursor) > _CURSOR_MAX:
            raise ValueError
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        # The shape is checked before parsing: no nesting, no huge numbers, no other types.
        if not _CURSOR_ROW.match(raw):
            raise ValueError
        sort_key, value, last_id = json.loads(raw)
        if sort_key != key.value or not 1 <= last_id <= ID_MAX:
            raise ValueError
        if key in (SortKey.UPDATED_AT, SortKey.CREATED_AT, SortKey.DUE):
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError
            value = value.astimezone(UTC)  # OverflowError for a moment no UTC datetime holds
        elif not isinstance(value, int) or abs(value) > ID_MAX:
            raise ValueError
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise ValidationError.single("cursor", "is not a cursor from this listing") from None
    return value, last_id


# --- the query string ----------------------------------------------------------------------------------


def _blank_is_absent(value: Any) -> Any:
    """Forms send empty fields for "any": they mean no filter, in the query string of any listing."""
    if isinstance(value, list):
        return [item for item in value if item != ""]
    return None if value == "" else value


def _assignee(value: Any) -> AssigneeFilter | None:
    if value is None or value == "":
        return None
    if isinstance(value, Assignee | AssignedTo):
        return value
    text = str(value)
    if text in ("me", "none"):
        return Assignee(text)
    if re.fullmatch(r"[0-9]{1,10}", text) and 1 <= int(text) <= ID_MAX:
        return AssignedTo(int(text))
    raise ValueError("must be me, none or a user id")


def _sort(value: Any) -> Sort:
    return value if isinstance(value, Sort) else Sort.parse(str(value))


OptionalId = Annotated[Id | None, BeforeValidator(_blank_is_absent)]
AssigneeParam = Annotated[
    AssigneeFilter | None,
    BeforeValidator(_assignee),
    PlainSerializer(lambda a: None if a is None else a.value if isinstance(a, Assignee) else str(a.user_id)),
    WithJsonSchema(
        {"type": "string", "pattern": r"^(me|none|[0-9]{1,10})$", "description": "me, none or a user id"}
    ),
]
SortParam = Annotated[
    Sort,
    BeforeValidator(_sort),
    PlainSerializer(str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^-?({'|'.join(k.value for k in SortKey)})$",
            "description": "A sort key, with - for descending",
        }
    ),
]
SearchText = Annotated[
    Annotated[str, Field(max_length=SEARCH_TEXT_MAX, description="Words, or a ticket number")] | None,
    BeforeValidator(lambda v: None if v is None else (str(v).strip() or None)),
]
Cursor = Annotated[Annotated[str, Field(max_length=_CURSOR_MAX)] | None, BeforeValidator(_blank_is_absent)]


def _in_utc(value: datetime | None) -> datetime | None:
    """A moment in any offset, as UTC; one UTC cannot hold (year 9999 at -14:00) is refused."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None


class TicketQuery(Schema):
    """A ticket listing's query string, as the desk and the API read it (the portal reads its own few
    parameters with the same types)."""

    status: Annotated[list[Status], BeforeValidator(_blank_is_absent)] = Field(
        default_factory=list, description="Repeat for several statuses."
    )
    priority: Annotated[list[Priority], BeforeValidator(_blank_is_absent)] = Field(default_factory=list)
    assignee: AssigneeParam = None
    requester: OptionalId = None
    team: OptionalId = None
    category: OptionalId = None
    q: SearchText = None
    updated_since: Annotated[
        AwareDatetime | None, BeforeValidator(_blank_is_absent), AfterValidator(_in_utc)
    ] = None
    due: Annotated[DueFilter | None, BeforeValidator(_blank_is_absent)] = Field(
        default=None, description="at_risk: a service-level target falls due soon; breached: one has passed."
    )
    sort: SortParam = Sort()
    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    cursor: Cursor = None

    def filters(self, base: TicketFilters = TicketFilters()) -> TicketFilters:
        """`base` (a queue view's filters) narrowed by these: an explicit status filter replaces the
        view's statuses; anything not given keeps the view's value."""
        given: dict[str, Any] = {
            "statuses": frozenset(self.status),
            "priorities": frozenset(self.priority),
            "assignee": self.assignee,
            "requester_id": self.requester,
            "team_ids": frozenset({self.team}) if self.team else frozenset(),
            "category_id": self.category,
            "text": self.q,
            "updated_since": self.updated_since,
            "due": self.due,
        }
        return TicketFilters(
            **{name: value or getattr(base, name) for name, value in given.items()}, my_teams=base.my_teams
        )

    def page(self) -> PageRequest:
        return PageRequest(self.limit, self.cursor)


class PortalQuery(Schema):
    """What a requester's list of tickets takes: a tab, words and a cursor (other parameters are
    ignored, as pages do)."""

    model_config = ConfigDict(extra="ignore")

    # An unknown tab shows the open one, as a tab bar would.
    tab: Annotated[
        Literal["open", "closed"], BeforeValidator(lambda v: v if v in ("open", "closed") else "open")
    ] = "open"
    q: SearchText = None
    cursor: Cursor = None
