"""A ticket list exported in the background: asked for by one person, written to a file by a job, kept
for a week (`background.py`)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.accounts.models import enum_column
from supportdesk.core.db import Base, UTCDateTime, utcnow


class ExportStatus(enum.StrEnum):
    QUEUED = "queued"
    READY = "ready"
    FAILED = "failed"


class TicketExport(Base):
    __tablename__ = "ticket_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The desk's query string that chose the list (view, filters, sort): each name's values.
    query: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    status: Mapped[ExportStatus] = mapped_column(enum_column(ExportStatus), default=ExportStatus.QUEUED)
    rows: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(String(64))  # in the exports folder; never from user input
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
