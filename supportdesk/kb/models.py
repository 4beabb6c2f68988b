"""A knowledge-base article and its versions. The article holds what readers see now; every save adds
a version row (the article as that save left it, who saved it and what it changed), so the history
can be read back and nothing a technician wrote is ever lost."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportdesk.accounts.models import User, enum_column
from supportdesk.core.db import Base, UTCDateTime, utcnow
from supportdesk.tickets.models import Category

TITLE_MAX = 200
BODY_MAX = 100_000
TAG_MAX = 30
TAGS_MAX = 10
CHANGE_MAX = 200


class ArticleState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Visibility(enum.StrEnum):
    PUBLIC = "public"  # employees read it in the portal once published
    INTERNAL = "internal"  # the desk only, whatever its state


class Article(Base):
    """Searched through raw-SQL objects the migration builds: on SQLite the FTS5 table `kb_fts` (kept by
    triggers), on PostgreSQL a generated `search_document` tsvector under a GIN index."""

    __tablename__ = "kb_articles"
    __table_args__ = (Index("ix_kb_articles_state_visibility_title", "state", "visibility", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    body: Mapped[str] = mapped_column(Text)
    # Lower-case tags, space-separated (each is letters, digits and hyphens): searched with the text.
    tags: Mapped[str] = mapped_column(String(TAGS_MAX * (TAG_MAX + 1)), default="")
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[ArticleState] = mapped_column(enum_column(ArticleState), default=ArticleState.DRAFT)
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility), default=Visibility.PUBLIC)
    # The number of the latest version: what an edit form was opened on, to refuse overwriting a newer one.
    version: Mapped[int] = mapped_column(Integer, default=1)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    category: Mapped[Category | None] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    updated_by: Mapped[User] = relationship(foreign_keys=[updated_by_id])

    @property
    def tag_list(self) -> list[str]:
        return self.tags.split()

    @property
    def is_public(self) -> bool:
        """What an employee may read: published and public."""
        return self.state is ArticleState.PUBLISHED and self.visibility is Visibility.PUBLIC

    def __repr__(self) -> str:
        return f"<Article {self.id} {self.title!r} {self.state} {self.visibility}>"


class ArticleVersion(Base):
    """The article as one save left it."""

    __tablename__ = "kb_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(String(TAGS_MAX * (TAG_MAX + 1)), default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    state: Mapped[ArticleState] = mapped_column(enum_column(ArticleState))
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility))
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    # What this save changed, for the history: "created", "title, body", "published".
    change: Mapped[str] = mapped_column(String(CHANGE_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


QUERY_MAX = 200


class Deflection(Base):
    """An employee said an article answered the ticket they were starting ("This solved it") and left
    the form: a ticket the desk never had to take. Counted per article and per category."""

    __tablename__ = "kb_deflections"
    __table_args__ = (Index("ix_kb_deflections_created_at_article_id", "created_at", "article_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The article's category when it helped (so the count stays where it was if the article moves).
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    # What the employee had typed as the subject: what people look for, in their words.
    query: Mapped[str] = mapped_column(String(QUERY_MAX), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
