"""Which accounts the company directory owns: one row per user who signs in with it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.core.db import Base, UTCDateTime, utcnow


class DirectoryAccount(Base):
    """A user whose account follows the directory: they sign in by a bind as `dn` (never with a local
    password), and the sync keeps name, email, role and mapped teams as the directory says."""

    __tablename__ = "directory_accounts"
    __table_args__ = (UniqueConstraint("server", "entry_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # The LDAP_URL of the last sign-in or sync that saw the person (where the account came from).
    server: Mapped[str] = mapped_column(String(255))
    # entryUUID / objectGUID: the person through renames and moves in the tree.
    entry_id: Mapped[str] = mapped_column(String(255))
    dn: Mapped[str] = mapped_column(String(1024))
    username: Mapped[str] = mapped_column(String(255))
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the sync deactivated the user (removed or disabled in the directory): only such an
    # account comes back when the directory lists the person again; one an admin deactivated does not.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
