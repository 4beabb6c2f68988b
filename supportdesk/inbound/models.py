"""Desk mailboxes and the receipt of every message read from one."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportdesk.accounts.models import enum_column
from supportdesk.core.db import Base, UTCDateTime, utcnow
from supportdesk.tickets.models import Ticket


class UnknownSenders(enum.StrEnum):
    """What a message from an address without an account does."""

    CREATE = "create"  # the sender becomes a requester (only from `allowed_domains` when it has any)
    REJECT = "reject"  # a polite reply says to ask the desk for an account; nothing is created


class AfterImport(enum.StrEnum):
    """What happens on the server to a message once its ticket or comment is committed."""

    MOVE = "move"  # to `processed_folder` (created when missing)
    DELETE = "delete"  # flagged \\Deleted and expunged


class Outcome(enum.StrEnum):
    TICKET = "ticket"  # raised a ticket
    COMMENT = "comment"  # a reply on a ticket
    AUTOMATED = "automated"  # an auto-reply, bounce, or list mail: recorded, never answered
    REJECTED = "rejected"  # an unknown sender the mailbox does not take, or a deactivated account
    RATE_LIMITED = "rate-limited"  # the sender sent more than the mailbox takes in an hour
    QUARANTINED = "quarantined"  # could not be read or imported: kept, bytes and all, for an admin
    DISCARDED = "discarded"  # quarantined, then thrown away by an admin


class Mailbox(Base):
    """An IMAP mailbox the desk reads. The password is stored encrypted (`inbound/secrets.py`)."""

    __tablename__ = "mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    address: Mapped[str] = mapped_column(String(254))  # what people write to: support@example.com
    host: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column(Integer)
    security: Mapped[str] = mapped_column(String(16))  # "tls" (IMAPS, 993) or "starttls" (143)
    username: Mapped[str] = mapped_column(String(254))
    password_encrypted: Mapped[str] = mapped_column(Text)
    folder: Mapped[str] = mapped_column(String(200), default="INBOX")
    after_import: Mapped[AfterImport] = mapped_column(enum_column(AfterImport), default=AfterImport.MOVE)
    processed_folder: Mapped[str] = mapped_column(String(200), default="Processed")
    unknown_senders: Mapped[UnknownSenders] = mapped_column(
        enum_column(UnknownSenders), default=UnknownSenders.CREATE
    )
    allowed_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    per_sender_per_hour: Mapped[int] = mapped_column(Integer, default=20)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A poll in progress holds the mailbox until then, so two workers never read it at once.
    polling_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Mailbox {self.id} {self.name}>"


class Receipt(Base):
    """One message read from a mailbox, and what became of it. `message_key` (the Message-ID, or a
    digest of the bytes when there is none) is unique per mailbox: a message read again (a fetch cut
    short before the message was moved, a server that delivers it twice) is recognised and not
    imported twice. The bytes are kept only while an admin has to look at them (quarantined)."""

    __tablename__ = "mail_receipts"
    __table_args__ = (
        UniqueConstraint("mailbox_id", "message_key", name="uq_mail_receipts_mailbox_id_message_key"),
        Index("ix_mail_receipts_mailbox_id_sender_received_at", "mailbox_id", "sender", "received_at"),
        Index("ix_mail_receipts_outcome_received_at", "outcome", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id", ondelete="CASCADE"))
    message_key: Mapped[str] = mapped_column(String(520))
    sender: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    outcome: Mapped[Outcome] = mapped_column(enum_column(Outcome))
    detail: Mapped[str] = mapped_column(String(500), default="")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    mailbox: Mapped[Mailbox] = relationship()
    ticket: Mapped[Ticket | None] = relationship()

    def __repr__(self) -> str:
        return f"<Receipt {self.id} {self.outcome} {self.message_key}>"
