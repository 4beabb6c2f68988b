"""Articles as their readers see them: plain rows, scoped by the policy (an employee's lists, pages and
searches hold published public articles only), and an article's history for the desk."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from supportdesk.accounts import policy as accounts
from supportdesk.accounts.models import User
from supportdesk.core.db import get_by_id, read_rows
from supportdesk.core.richtext import render_markdown
from supportdesk.kb import policy
from supportdesk.kb.models import Article, ArticleState, ArticleVersion, Deflection, Visibility
from supportdesk.kb.search import ArticleHit, search_articles
from supportdesk.tickets.models import Category, Ticket

__all__ = ["ArticleHit", "search_articles"]

PAGE_SIZE = 50
SUGGESTIONS = 5
# A suggestion looks at the subject and the beginning of the description: enough words to find the
# article, few enough to stay quick while the employee types.
SUGGESTION_WORDS = 8


@dataclass(frozen=True, slots=True)
class ArticleRow:
    id: int
    title: str
    tags: list[str]
    category_id: int | None
    category_name: str | None
    state: ArticleState
    visibility: Visibility
    updated_at: datetime
    updated_by_name: str


@dataclass(frozen=True, slots=True)
class ArticlePage:
    items: list[ArticleRow]
    page: int
    has_next: bool


@dataclass(frozen=True, slots=True)
class ArticleView:
    id: int
    title: str
    body: str
    body_html: Markup
    tags: list[str]
    category_id: int | None
    category_name: str | None
    state: ArticleState
    visibility: Visibility
    version: int
    author_name: str
    updated_by_name: str
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class CategoryCount:
    id: int
    name: str
    articles: int


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: str  # "added", "removed" or "same"
    text: str


@dataclass(frozen=True, slots=True)
class VersionRow:
    number: int
    title: str
    body: str
    tags: list[str]
    state: ArticleState
    visibility: Visibility
    editor_name: str
    change: str
    created_at: datetime
    # The body's lines against the version before (empty for the first, and when the body is unchanged).
    body_diff: list[DiffLine]


def list_articles(
    session: Session,
    actor: User,
    *,
    category_id: int | None = None,
    state: ArticleState | None = None,
    visibility: Visibility | None = None,
    page: int = 1,
    by_title: bool = False,
) -> ArticlePage:
    """The articles `actor` may read, newest change first (or by title), a page at a time."""
    editor = aliased(User)
    statement = (
        select(
            Article.id,
            Article.title,
            Article.tags,
            Article.category_id,
            Category.name.label("category_name"),
            Article.state,
            Article.visibility,
            Article.updated_at,
            editor.full_name.label("updated_by_name"),
        )
        .join(editor, editor.id == Article.updated_by_id)
        .outerjoin(Category, Category.id == Article.category_id)
        .where(policy.readable_by(actor))
    )
    if category_id is not None:
        statement = statement.where(Article.category_id == category_id)
    if state is not None:
        statement = statement.where(Article.state == state)
    if visibility is not None:
        statement = statement.where(Article.visibility == visibility)
    order = (
        (func.lower(Article.title), Article.id)
        if by_title
        else (Article.updated_at.desc(), Article.id.desc())
    )
    page = max(page, 1)
    rows = list(
        read_rows(session, statement.order_by(*order).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1))
    )
    items = [
        ArticleRow(
            id=r.id,
            title=r.title,
            tags=r.tags.split(),
            category_id=r.category_id,
            category_name=r.category_name,
            state=ArticleState(r.state),
            visibility=Visibility(r.visibility),
            updated_at=r.updated_at,
            updated_by_name=r.updated_by_name,
        )
        for r in rows[:PAGE_SIZE]
    ]
    return ArticlePage(items, page, len(rows) > PAGE_SIZE)


def read_article(session: Session, actor: User, article_id: int) -> ArticleView:
    """One article (NotFound when `actor` may not read it, exactly as when it does not exist)."""
    article = policy.require_readable(actor, get_by_id(session, Article, article_id), article_id)
    return ArticleView(
        id=article.id,
        title=article.title,
        body=article.body,
        body_html=render_markdown(article.body),
        tags=article.tag_list,
        category_id=article.category_id,
        category_name=article.category.name if article.category else None,
        state=article.state,
        visibility=article.visibility,
        version=article.version,
        author_name=article.author.full_name,
        updated_by_name=article.updated_by.full_name,
        created_at=article.created_at,
        updated_at=article.updated_at,
        published_at=article.published_at,
    )


def portal_categories(session: Session, actor: User) -> list[CategoryCount]:
    """The categories holding articles `actor` may read, with how many, by name."""
    statement = (
        select(Category.id, Category.name, func.count(Article.id).label("articles"))
        .join(Article, Article.category_id == Category.id)
        .where(policy.readable_by(actor))
        .group_by(Category.id, Category.name)
        .order_by(Category.name)
    )
    return [CategoryCount(r.id, r.name, r.articles) for r in read_rows(session, statement)]


def article_versions(session: Session, actor: User, article_id: int) -> list[VersionRow]:
    """Every version of an article, newest first, with who saved it and what it changed (the desk only)."""
    policy.require_writable(actor, get_by_id(session, Article, article_id), article_id)
    statement = (
        select(ArticleVersion, User.full_name)
        .join(User, User.id == ArticleVersion.editor_id)
        .where(ArticleVersion.article_id == article_id)
        .order_by(ArticleVersion.number)
    )
    versions: list[VersionRow] = []
    previous: ArticleVersion | None = None
    for version, editor_name in session.execute(statement):
        versions.append(
            VersionRow(
                number=version.number,
                title=version.title,
                body=version.body,
                tags=version.tags.split(),
                state=version.state,
                visibility=version.visibility,
                editor_name=editor_name,
                change=version.change,
                created_at=version.created_at,
                body_diff=_diff(previous.body, version.body) if previous is not None else [],
            )
        )
        previous = version
    return versions[::-1]


def suggest_articles(session: Session, actor: User, subject: str, description: str = "") -> list[ArticleHit]:
    """While an employee types a new ticket: published public articles holding any of the meaningful
    words of the subject (then the description), the best few first. The same for the desk, which
    raises tickets through the same form."""
    words = f"{subject} {description[:500]}"
    if len(words.strip()) < 3:
        return []
    text = " ".join(words.split()[: SUGGESTION_WORDS * 3])

    def public(limit: int, titles_only: bool) -> list[ArticleHit]:
        return search_articles(
            session,
            actor,
            text,
            state=ArticleState.PUBLISHED,
            visibility=Visibility.PUBLIC,
            limit=limit,
            any_word=True,
            titles_only=titles_only,
        )

    # Titles and tags first: they say what an article answers, and few articles hold a word there, so
    # ranking them is quick however many bodies mention it. Bodies only when titles give too few.
    found = public(SUGGESTIONS, titles_only=True)
    if len(found) < SUGGESTIONS:
        seen = {hit.id for hit in found}
        more = public(SUGGESTIONS + len(found), titles_only=False)
        found += [hit for hit in more if hit.id not in seen][: SUGGESTIONS - len(found)]
    return found


@dataclass(frozen=True, slots=True)
class ArticleDeflections:
    article_id: int
    title: str
    category_name: str | None
    deflections: int
    last_at: datetime


@dataclass(frozen=True, slots=True)
class CategoryDeflections:
    category_id: int | None
    name: str
    deflections: int
    tickets: int

    @property
    def rate(self) -> float | None:
        """Of the problems that came to the desk in this category, the share the articles answered."""
        total = self.deflections + self.tickets
        return self.deflections / total if total else None


@dataclass(frozen=True, slots=True)
class DeflectionReport:
    since: datetime
    by_article: list[ArticleDeflections]
    by_category: list[CategoryDeflections]

    @property
    def total(self) -> int:
        return sum(row.deflections for row in self.by_category)


def deflection_report(session: Session, actor: User, since: datetime) -> DeflectionReport:
    """Deflections since `since`, per article (most first) and per category, beside the tickets raised
    in each category meanwhile (the admins)."""
    accounts.require_desk_manager(actor)
    by_article = [
        ArticleDeflections(r.id, r.title, r.category_name, r.deflections, r.last_at)
        for r in read_rows(
            session,
            select(
                Article.id,
                Article.title,
                Category.name.label("category_name"),
                func.count(Deflection.id).label("deflections"),
                func.max(Deflection.created_at).label("last_at"),
            )
            .join(Deflection, Deflection.article_id == Article.id)
            .outerjoin(Category, Category.id == Article.category_id)
            .where(Deflection.created_at >= since)
            .group_by(Article.id, Article.title, Category.name)
            .order_by(func.count(Deflection.id).desc(), Article.id),
        )
    ]
    deflected: dict[int | None, int] = {
        r.key: r.n
        for r in read_rows(
            session,
            select(Deflection.category_id.label("key"), func.count(Deflection.id).label("n"))
            .where(Deflection.created_at >= since)
            .group_by(Deflection.category_id),
        )
    }
    if not deflected:
        return DeflectionReport(since, by_article, [])
    # Tickets raised meanwhile in the categories the articles served (one grouped count).
    served = [c for c in deflected if c is not None]
    raised_in = select(Ticket.category_id.label("key"), func.count(Ticket.id).label("n")).where(
        Ticket.created_at >= since
    )
    raised: dict[int | None, int] = {
        r.key: r.n
        for r in read_rows(
            session,
            raised_in.where(
                Ticket.category_id.in_(served) | Ticket.category_id.is_(None)
                if None in deflected
                else Ticket.category_id.in_(served)
            ).group_by(Ticket.category_id),
        )
    }
    names = {
        r.id: r.name
        for r in read_rows(session, select(Category.id, Category.name).where(Category.id.in_(served)))
    }
    by_category = [
        CategoryDeflections(
            category_id,
            names.get(category_id, "No category") if category_id is not None else "No category",
            count,
            raised.get(category_id, 0),
        )
        for category_id, count in deflected.items()
    ]
    by_category.sort(key=lambda row: (-row.deflections, row.name))
    return DeflectionReport(since, by_article, by_category)


def _diff(old: str, new: str) -> list[DiffLine]:
    if old == new:
        return []
    lines: list[DiffLine] = []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        code, text = line[:2], line[2:]
        if code == "+ ":
            lines.append(DiffLine("added", text))
        elif code == "- ":
            lines.append(DiffLine("removed", text))
        elif code == "  ":
            lines.append(DiffLine("same", text))
    return lines
