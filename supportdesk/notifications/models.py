"""The outbox: each outgoing message, written in the transaction of the change that causes it and
delivered by a job after that transaction committed."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.accounts.models import enum_column
from supportdesk.core.db import Base, UTCDateTime, utcnow


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its next attempt (`next_attempt_at`)
    SENDING = "sending"  # claimed by a worker until `claimed_until`; after that, due again
    SENT = "sent"  # accepted by the relay (or kept for the mail catcher: `relay` says which)
    FAILED = "failed"  # refused for good, or every attempt used: an admin may send it again


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_messages_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    sender: Mapped[str] = mapped_column(String(254))
    recipients: Mapped[str] = mapped_column(Text)  # plain addresses, comma-separated
    subject: Mapped[str] = mapped_column(String(300))
    raw: Mapped[str] = mapped_column(Text)  # the whole message as sent (RFC 5322, ASCII)
    status: Mapped[OutboxStatus] = mapped_column(enum_column(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claim: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    relay: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def recipient_list(self) -> list[str]:
        return [r for r in self.recipients.split(",") if r]

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} {self.status}>"


class NotificationKind(enum.StrEnum):
    CREATED = "created"  # to the requester: the acknowledgement, with the ticket's number
    REPLY = "reply"  # a public reply by someone else
    NOTE = "note"  # an internal note (staff only)
    RESOLVED = "resolved"  # the ticket was resolved
    ASSIGNED = "assigned"  # the ticket was assigned to me
    SLA_WARNING = "sla_warning"  # a target of a ticket I (or my team) have falls due soon
    SLA_BREACH = "sla_breach"  # a target was missed (to the team's lead, and whoever has the ticket)
    EXPORT_READY = "export_ready"  # a ticket list I asked for is ready to download


class Notification(Base):
    """One line in a user's in-app list (the bell in the top bar)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    # A background export's (no foreign key: exports are purged after a week, their notices may stay).
    export_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind))
    title: Mapped[str] = mapped_column(String(300))
    excerpt: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EmailSetting(Base):
    """A user's choice for one kind of notification by email; no row means "yes"."""

    __tablename__ = "notification_email_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class TicketWatcher(Base):
    """Someone copied on a ticket (CC): told of what its requester is told."""

    __tablename__ = "ticket_watchers"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
