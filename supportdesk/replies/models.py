"""A canned reply: a title to find it by and a markdown text with placeholders. Personal ones belong to
their owner; shared ones (no owner) to the whole desk, kept by the admins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.core.db import Base, UTCDateTime, utcnow

TITLE_MAX = 120
BODY_MAX = 10_000


class CannedReply(Base):
    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: shared by the desk. A user's personal replies go with their account.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def shared(self) -> bool:
        return self.owner_id is None

    def __repr__(self) -> str:
        return f"<CannedReply {self.id} {self.title!r} {'shared' if self.shared else self.owner_id}>"
