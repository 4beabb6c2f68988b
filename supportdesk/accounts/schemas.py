"""The account API's request and response shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from supportdesk.accounts.models import Role
from supportdesk.core.apikit import Id, Schema

Name = Annotated[str, Field(min_length=1, max_length=80)]


class TokenCreate(Schema):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)
    name: Name


class TokenCreated(Schema):
    id: int
    token: str = Field(description="Shown once: store it now.")
    name: str
    created_at: datetime
    expires_at: datetime


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime


class TokenList(Schema):
    items: list[TokenOut]


class UserOut(Schema):
    id: int
    email: str
    full_name: str
    role: Role
    is_active: bool
    team_ids: list[int]
    created_at: datetime
    last_login_at: datetime | None


class UserList(Schema):
    items: list[UserOut]
    # The page asked for (the last one when asked past the end), of `pages`, with `total` users matching.
    total: int = 0
    page: int = 1
    pages: int = 1


class UserListQuery(Schema):
    q: str = Field(default="", max_length=100, description="Part of a name or an email")
    role: Role | None = None
    status: Literal["active", "deactivated"] | None = None
    page: int = Field(default=1, ge=1, le=1_000_000)
    size: int = Field(default=50, ge=1, le=200)


class UserCreate(Schema):
    email: str = Field(min_length=3, max_length=254)
    full_name: str = Field(min_length=1, max_length=120)
    role: Role = Role.REQUESTER
    password: str | None = Field(
        default=None,
        min_length=8,
        max_length=1024,
        description="Leave it out to invite them by email to choose their own",
    )


class UserPatch(Schema):
    full_name: str | None = Field(default=None, min_length=1, max_length=120)
    role: Role | None = None
    is_active: bool | None = None


class TeamOut(Schema):
    id: int
    name: str
    member_ids: list[int]


class TeamList(Schema):
    items: list[TeamOut]


class TeamCreate(Schema):
    name: Name


class TeamPatch(Schema):
    name: Name | None = None
    member_ids: list[Id] | None = Field(default=None, max_length=500)
