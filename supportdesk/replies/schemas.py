"""The JSON API's shapes for canned replies."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from supportdesk.core.apikit import Schema
from supportdesk.replies.models import BODY_MAX, TITLE_MAX


class CannedReplyIn(Schema):
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    body: str = Field(min_length=1, max_length=BODY_MAX)
    # Shared with the whole desk (admins only); otherwise the caller's own.
    shared: bool = False


class CannedReplyPatch(Schema):
    title: str | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    body: str | None = Field(default=None, min_length=1, max_length=BODY_MAX)


class CannedReplyOut(Schema):
    id: int
    title: str
    body: str
    shared: bool
    updated_at: datetime | None = None


class CannedReplyList(Schema):
    items: list[CannedReplyOut]
