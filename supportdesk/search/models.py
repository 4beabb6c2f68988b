"""The text each ticket is searched by, kept in two parts so requesters never match internal notes."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.db import Base

# Built by raw SQL in the migrations (FTS5 on SQLite, GIN expression indexes on PostgreSQL), so not in
# the models; schema comparisons must leave them alone.
UNMODELLED_NAMES = ("ticket_fts", "ix_ticket_search_public_fts", "ix_ticket_search_all_fts")


def is_modelled(name: str | None, type_: str, _parent: object = None) -> bool:
    return not (name and type_ in ("table", "index") and name.startswith(UNMODELLED_NAMES))


class TicketSearchText(Base):
    """One row per ticket. PostgreSQL indexes it with GIN over `to_tsvector`; SQLite mirrors it into the
    FTS5 table `ticket_fts` with triggers (both created by the migrations, see 0002)."""

    __tablename__ = "ticket_search"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    # Subject, description and public replies: what the requester can read.
    public_text: Mapped[str] = mapped_column(Text, default="")
    # Internal notes: searchable by the desk only.
    internal_text: Mapped[str] = mapped_column(Text, default="")
