"""The text each ticket is searched by, kept in two parts so requesters never match internal notes."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.core.db import Base

# Built by raw SQL in the migrations (FTS5 on SQLite; on PostgreSQL a generated tsvector column and its
# GIN index), so not in the models; schema comparisons must leave them alone. The knowledge base's
# articles are searched the same way (kb_fts; kb_articles.search_document and its index).
UNMODELLED_NAMES = (
    "ticket_fts",
    "ix_ticket_search_document",
    "search_document",
    "kb_fts",
    "ix_kb_articles_search_document",
)


def is_modelled(name: str | None, type_: str, _parent: object = None) -> bool:
    return not (name and type_ in ("table", "index", "column") and name.startswith(UNMODELLED_NAMES))


class TicketSearchText(Base):
    """One row per ticket. PostgreSQL keeps a generated `search_document` tsvector (public text weight A,
    internal notes weight D) under a GIN index; SQLite mirrors the text into the FTS5 table `ticket_fts`
    with triggers (both created by the migrations, see 0002 and 0006)."""

    __tablename__ = "ticket_search"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    # Subject, description and public replies: what the requester can read.
    public_text: Mapped[str] = mapped_column(Text, default="")
    # Internal notes: searchable by the desk only.
    internal_text: Mapped[str] = mapped_column(Text, default="")
