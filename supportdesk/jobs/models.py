"""A job that failed for good (every retry used), kept until an admin retries or dismisses it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.accounts.models import enum_column
from supportdesk.core.db import Base, UTCDateTime, utcnow


class FailedJobStatus(enum.StrEnum):
    FAILED = "failed"
    RETRIED = "retried"
    DISMISSED = "dismissed"


class FailedJob(Base):
    __tablename__ = "failed_jobs"
    __table_args__ = (Index("ix_failed_jobs_status_failed_at", "status", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_name: Mapped[str] = mapped_column(String(200))
    arguments: Mapped[str] = mapped_column(Text)  # JSON: {"args": [...], "kwargs": {...}}
    error: Mapped[str] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text)  # the traceback
    attempts: Mapped[int] = mapped_column(Integer)
    status: Mapped[FailedJobStatus] = mapped_column(
        enum_column(FailedJobStatus), default=FailedJobStatus.FAILED
    )
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def __repr__(self) -> str:
        return f"<FailedJob {self.id} {self.task_name} {self.status}>"
