"""What the audit log page, its export and its API read from a query string, and what the API answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field, field_validator, model_validator

from supportdesk.accounts.audit import ACTIONS
from supportdesk.core.apikit import Schema
from supportdesk.core.db import ID_MAX

PAGE_SIZE = 50


class AuditQuery(Schema):
    actor: str = Field(default="", max_length=100, description="Part of the acting user's email")
    action: str | None = Field(default=None, description="One action, e.g. user.role_changed")
    target: str = Field(default="", max_length=100, description="Part of the target's name or email")
    since: date | None = Field(default=None, description="From this day (UTC), inclusive")
    until: date | None = Field(default=None, description="To this day (UTC), inclusive")
    before: int | None = Field(default=None, ge=1, le=ID_MAX, description="Entries older than this id")
    size: int = Field(default=PAGE_SIZE, ge=1, le=200)

    @field_validator("action")
    @classmethod
    def _known_action(cls, value: str | None) -> str | None:
        if value is not None and value not in ACTIONS:
            raise ValueError("is not an action the audit log records")
        return value

    @model_validator(mode="after")
    def _range(self) -> AuditQuery:
        if self.since is not None and self.until is not None and self.since > self.until:
            raise ValueError("the first day comes after the last")
        return self


class AuditEntryOut(Schema):
    id: int
    created_at: datetime
    actor_id: int | None
    actor: str | None
    ip: str | None
    user_agent: str | None
    via: str
    action: str
    target_type: str
    target_id: int | None
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditList(Schema):
    items: list[AuditEntryOut]
    next_before: int | None = Field(description="Pass as `before` for the next (older) page; null at the end")
