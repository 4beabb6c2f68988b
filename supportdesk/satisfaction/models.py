"""A requester's rating of one resolution of their ticket."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.accounts.models import enum_column
from supportdesk.core.db import Base, UTCDateTime, utcnow
from supportdesk.satisfaction.lifecycle import Score


class Rating(Base):
    """One per resolution (the status event that resolved the ticket): a ticket reopened and resolved
    again is rated again. Changed in place within the change window; every change is also an event in
    the ticket's history."""

    __tablename__ = "ratings"
    # Reports count ratings by the time of the resolution they rate (supportdesk/reports/satisfaction.py).
    __table_args__ = (Index("ix_ratings_resolved_at", "resolved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    resolution_event_id: Mapped[int] = mapped_column(
        ForeignKey("ticket_events.id", ondelete="CASCADE"), unique=True
    )
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    score: Mapped[Score] = mapped_column(enum_column(Score))
    comment: Mapped[str | None] = mapped_column(Text)
    # When the rated resolution happened (a copy of its event's time, so reports need no join).
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
