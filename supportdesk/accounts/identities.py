"""External identities: who a user is at an OpenID Connect provider (the issuer and its subject).

A user is matched by (issuer, subject), never by email: an email can change hands or be claimed without
proof, a subject is the provider's own stable name for the person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportdesk.accounts.models import User
from supportdesk.core.db import Base, UTCDateTime, utcnow


class ExternalIdentity(Base):
    __tablename__ = "external_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    # OpenID Connect caps `sub` at 255 ASCII characters.
    subject: Mapped[str] = mapped_column(String(255))
    # The email the provider last gave, to show admins which account at the provider this is.
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
