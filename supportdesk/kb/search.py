"""Full-text search over articles with the machinery tickets use (search/service.py): FTS5 on SQLite, a
weighted tsvector under a GIN index on PostgreSQL, both built by the migration. Ranked (title over tags
over body), the last word a prefix so it works while typing, the matched words highlighted.

Highlighting is done by the database (`highlight`/`snippet`, `ts_headline`) with two control characters
as markers that stored text cannot hold (the service strips them); the text is then escaped and only
the markers become <mark> tags."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, Select, column, func, literal_column, select, table
from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.core.db import read_rows
from supportdesk.kb import policy
from supportdesk.kb.models import Article, ArticleState, Visibility
from supportdesk.search.service import STOPWORDS, terms
from supportdesk.tickets.models import Category

MARK_START, MARK_END = "\x02", "\x03"
SNIPPET_WORDS = 24
# Title, tags, body: what bm25 weighs each FTS5 column by (PostgreSQL: weights A, B and D).
_BM25_WEIGHTS = (10.0, 5.0, 1.0)
_PG_DOCUMENT = "kb_articles.search_document"
_PG_TITLE_OPTIONS = f"HighlightAll=true, StartSel={MARK_START}, StopSel={MARK_END}"
_PG_SNIPPET_OPTIONS = f"MaxWords={SNIPPET_WORDS}, MinWords=12, StartSel={MARK_START}, StopSel={MARK_END}"
# Markdown's emphasis and code marks, heading and quote markers: noise in a one-line snippet.
_MARKDOWN_NOISE = re.compile(r"\*\*|__|`+|(?<!\S)(?:#{1,6}|>)(?=\s)|\s+")

_kb_fts = table("kb_fts", column("rowid"))


@dataclass(frozen=True, slots=True)
class ArticleHit:
    id: int
    title: str
    title_html: Markup
    snippet_html: Markup
    category_id: int | None
    category_name: str | None
    state: ArticleState
    visibility: Visibility
    updated_at: datetime


def search_articles(
    session: Session,
    actor: User,
    text: str,
    *,
    category_id: int | None = None,
    state: ArticleState | None = None,
    visibility: Visibility | None = None,
    limit: int = 20,
    any_word: bool = False,
    titles_only: bool = False,
) -> list[ArticleHit]:
    """The articles `actor` may read whose title, tags or body hold every word of `text` (or with
    `any_word`, any of its meaningful words: for suggestions from a sentence), best first. With
    `titles_only` the words are looked for in titles and tags alone: few articles, quickly ranked."""
    words = terms(text)
    if any_word:
        words = [w for w in words if w not in STOPWORDS and len(w) > 2]
    if not words:
        return []
    where: list[ColumnElement[bool]] = [policy.readable_by(actor)]
    if category_id is not None:
        where.append(Article.category_id == category_id)
    if state is not None:
        where.append(Article.state == state)
    if visibility is not None:
        where.append(Article.visibility == visibility)
    if session.get_bind().dialect.name == "postgresql":
        statement = _postgres(words, any_word, titles_only)
    else:
        statement = _sqlite(words, any_word, titles_only)
    statement = statement.outerjoin(Category, Category.id == Article.category_id).where(*where).limit(limit)
    return [
        ArticleHit(
            id=row.id,
            title=row.title,
            title_html=_marked(row.title_marked),
            snippet_html=_marked(_MARKDOWN_NOISE.sub(_plain, row.snippet_marked or "").strip()),
            category_id=row.category_id,
            category_name=row.category_name,
            state=ArticleState(row.state),
            visibility=Visibility(row.visibility),
            updated_at=row.updated_at,
        )
        for row in read_rows(session, statement)
    ]


def _columns(title_marked: Any, snippet_marked: Any) -> list[Any]:
    return [
        Article.id,
        Article.title,
        Article.category_id,
        Category.name.label("category_name"),
        Article.state,
        Article.visibility,
        Article.updated_at,
        title_marked.label("title_marked"),
        snippet_marked.label("snippet_marked"),
    ]


def _sqlite(words: list[str], any_word: bool, titles_only: bool) -> Select[Any]:
    # Each word quoted (words are \w+ only, so no quote can occur), the last as a prefix.
    match = (" OR " if any_word else " ").join([f'"{w}"' for w in words[:-1]] + [f'"{words[-1]}"*'])
    if titles_only:
        match = f"{{title tags}} : ({match})"
    fts: ColumnElement[Any] = literal_column("kb_fts")
    return (
        select(
            *_columns(
                func.highlight(fts, 0, MARK_START, MARK_END),
                func.snippet(fts, 2, MARK_START, MARK_END, "…", SNIPPET_WORDS),
            )
        )
        .select_from(_kb_fts)
        .join(Article, Article.id == _kb_fts.c.rowid)
        .where(fts.op("MATCH")(match))
        .order_by(func.bm25(fts, *_BM25_WEIGHTS), Article.id)
    )


def _postgres(words: list[str], any_word: bool, titles_only: bool) -> Select[Any]:
    alternatives = [*words[:-1], f"{words[-1]}:*"]
    weights = "AB" if titles_only else ""  # title A, tags B
    looked_for = (
        [f"{w}:{weights}" for w in words[:-1]] + [f"{words[-1]}:*{weights}"] if weights else alternatives
    )
    tsquery = func.to_tsquery("english", (" | " if any_word else " & ").join(looked_for))
    # Every word must match the article, but the title or the body alone may hold only some of them:
    # ts_headline marks nothing where its query does not match as a whole, so it is given any word.
    any_of = func.to_tsquery("english", " | ".join(alternatives))
    document: ColumnElement[Any] = literal_column(_PG_DOCUMENT)
    return (
        select(
            *_columns(
                func.ts_headline("english", Article.title, any_of, _PG_TITLE_OPTIONS),
                func.ts_headline("english", Article.body, any_of, _PG_SNIPPET_OPTIONS),
            )
        )
        .select_from(Article)
        .where(document.op("@@")(tsquery))
        .order_by(func.ts_rank(document, tsquery).desc(), Article.id)
    )


def _plain(match: re.Match[str]) -> str:
    """Whitespace becomes one space; markdown's marks go."""
    return " " if match.group().isspace() else ""


def _marked(text: str) -> Markup:
    """Escaped text in which only the database's markers become <mark> tags."""
    html = str(escape(text)).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
    # Safe to mark: everything but our two markers was escaped just above.
    return Markup(html)  # noqa: S704  # nosec B704
