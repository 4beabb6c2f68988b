"""The mailbox API's shapes. The password is write-only: accepted, never returned."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from supportdesk.core.apikit import Id, Schema
from supportdesk.inbound.models import AfterImport, Outcome, UnknownSenders

Folder = Annotated[str, Field(min_length=1, max_length=200, description="A plain ASCII folder name")]


class MailboxSettings(Schema):
    name: Annotated[str, Field(min_length=1, max_length=80)]
    address: Annotated[str, Field(min_length=3, max_length=254, description="What people write to")]
    host: Annotated[str, Field(min_length=1, max_length=253)]
    port: Annotated[int, Field(ge=1, le=65535)] = 993
    security: Annotated[str, Field(pattern=r"^(tls|starttls)$", description="tls (IMAPS) or starttls")] = (
        "tls"
    )
    username: Annotated[str, Field(min_length=1, max_length=254)]
    folder: Folder = "INBOX"
    after_import: AfterImport = AfterImport.MOVE
    processed_folder: Folder = "Processed"
    unknown_senders: UnknownSenders = UnknownSenders.CREATE
    allowed_domains: Annotated[list[Annotated[str, Field(max_length=253)]], Field(max_length=100)] = Field(
        default_factory=list, description="With `create`: only senders from these domains; empty: any"
    )
    per_sender_per_hour: Annotated[int, Field(ge=1, le=10_000)] = 20
    is_active: bool = True


class MailboxIn(MailboxSettings):
    password: Annotated[str, Field(min_length=1, max_length=500)] | None = Field(
        default=None, description="Write-only. Required to create; omitted on PUT keeps the stored one"
    )


class MailboxOut(MailboxSettings):
    id: int
    last_polled_at: datetime | None
    last_error: str | None


class MailboxList(Schema):
    items: list[MailboxOut]


class ReceiptQuery(Schema):
    outcome: Outcome | None = None
    mailbox_id: Id | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class ReceiptOut(Schema):
    id: int
    mailbox_id: int
    message_id: str = Field(description="The Message-ID, or sha256:... for a message without one")
    sender: str
    subject: str
    outcome: Outcome
    detail: str
    ticket_number: int | None
    received_at: datetime


class ReceiptList(Schema):
    items: list[ReceiptOut]
