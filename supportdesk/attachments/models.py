"""Attachment metadata; the bytes live in storage under `storage_key`, never under the uploaded name."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportdesk.accounts.models import User
from supportdesk.core.db import Base, UTCDateTime, utcnow
from supportdesk.tickets.models import Comment, Ticket

INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    # Set when the file came with a reply or note; an internal note's files are internal too.
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    filename: Mapped[str] = mapped_column(String(160))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship()
    comment: Mapped[Comment | None] = relationship()
    uploader: Mapped[User] = relationship()

    @property
    def is_inline_image(self) -> bool:
        """Only raster images whose bytes were recognised are ever shown inline."""
        return self.content_type in INLINE_IMAGE_TYPES
