"""Writing articles: validate everything, then change, keep the version, flush (the caller commits).
Every save that changes something adds a version row; saving what is already there adds nothing."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.core import clock
from supportdesk.core.db import get_by_id
from supportdesk.core.errors import Conflict, FieldError, NotFound, ValidationError
from supportdesk.kb import policy
from supportdesk.kb.models import (
    BODY_MAX,
    QUERY_MAX,
    TAG_MAX,
    TAGS_MAX,
    TITLE_MAX,
    Article,
    ArticleState,
    ArticleVersion,
    Deflection,
    Visibility,
)
from supportdesk.tickets import reads as ticket_reads
from supportdesk.tickets.lifecycle import DONE_STATUSES
from supportdesk.tickets.models import Category

# Control characters other than tab and newlines: never wanted in an article, and the search's
# highlight markers (kb/search.py) must be unable to occur in stored text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TAG = re.compile(r"^[\w-]+$")
# The fields a version's "what changed" names, in this order.
_FIELDS = ("title", "body", "category", "tags", "visibility")


def create_article(
    session: Session,
    actor: User,
    *,
    title: str,
    body: str,
    category_id: int | None = None,
    tags: Iterable[str] = (),
    visibility: Visibility = Visibility.PUBLIC,
    change: str = "created",
) -> Article:
    """A new draft (publishing is its own step, as in Zendesk Guide). `change` is what its first
    version says it was."""
    policy.require_writer(actor)
    errors: list[FieldError] = []
    clean_title = _title(title, errors)
    clean_body = _body(body, errors)
    category = _category(session, category_id, errors)
    clean_tags = _tags(tags, errors)
    if errors:
        raise ValidationError(errors)
    now = clock.now()
    article = Article(
        title=clean_title,
        body=clean_body,
        tags=clean_tags,
        category=category,
        state=ArticleState.DRAFT,
        visibility=visibility,
        version=1,
        author_id=actor.id,
        updated_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    session.add(article)
    session.flush()
    _keep_version(session, article, actor, change)
    return article


def update_article(
    session: Session,
    actor: User,
    article_id: int,
    *,
    title: str | None = None,
    body: str | None = None,
    category_id: int | None = None,
    clear_category: bool = False,
    tags: Iterable[str] | None = None,
    visibility: Visibility | None = None,
    expected_version: int | None = None,
) -> Article:
    """Change what is given; None leaves a field as it is. `expected_version` is the version the editor
    started from: a newer one means a colleague saved in between, and this save is refused."""
    article = policy.require_writable(actor, get_by_id(session, Article, article_id), article_id)
    _require_version(article, expected_version)
    errors: list[FieldError] = []
    new = {
        "title": article.title if title is None else _title(title, errors),
        "body": article.body if body is None else _body(body, errors),
        "category": None if clear_category else article.category_id,
        "tags": article.tags if tags is None else _tags(tags, errors),
        "visibility": article.visibility if visibility is None else visibility,
    }
    if category_id is not None and not clear_category:
        category = _category(session, category_id, errors)
        new["category"] = category.id if category else None
    if errors:
        raise ValidationError(errors)
    old = {
        "title": article.title,
        "body": article.body,
        "category": article.category_id,
        "tags": article.tags,
        "visibility": article.visibility,
    }
    changed = [name for name in _FIELDS if new[name] != old[name]]
    if not changed:
        return article
    article.title, article.body, article.tags = str(new["title"]), str(new["body"]), str(new["tags"])
    article.category_id = new["category"]  # type: ignore[assignment]
    article.visibility = new["visibility"]  # type: ignore[assignment]
    _saved(session, article, actor, ", ".join(changed))
    return article


def publish_article(
    session: Session, actor: User, article_id: int, expected_version: int | None = None
) -> Article:
    return _set_state(session, actor, article_id, ArticleState.PUBLISHED, expected_version)


def unpublish_article(
    session: Session, actor: User, article_id: int, expected_version: int | None = None
) -> Article:
    """Back to a draft: employees no longer see it; the desk still does."""
    return _set_state(session, actor, article_id, ArticleState.DRAFT, expected_version)


def _set_state(
    session: Session, actor: User, article_id: int, state: ArticleState, expected_version: int | None
) -> Article:
    article = policy.require_writable(actor, get_by_id(session, Article, article_id), article_id)
    _require_version(article, expected_version)
    if article.state is state:
        return article
    article.state = state
    if state is ArticleState.PUBLISHED:
        article.published_at = clock.now()
    _saved(session, article, actor, "published" if state is ArticleState.PUBLISHED else "unpublished")
    return article


def draft_from_ticket(session: Session, actor: User, number: int) -> Article:
    """A resolved (or closed) ticket's answer as a draft article, in one step: the subject as its title,
    the problem and the desk's last public reply as its text, the ticket's category. Internal notes
    never go into it; the technician reads the draft (for personal details) before publishing."""
    policy.require_writer(actor)
    found = ticket_reads.conversation(session, actor, number, with_events=False)
    ticket = found.ticket
    if ticket.status not in DONE_STATUSES:
        raise ValidationError.single("ticket", "only a resolved or closed ticket's answer becomes an article")
    answers = [c for c in found.comments if not c.internal and c.author.is_staff]
    if not answers:
        raise ValidationError.single("ticket", "the desk has not answered this ticket in a public reply")
    problem = ticket.description.strip() or ticket.subject
    body = f"## The problem\n\n{problem}\n\n## The answer\n\n{answers[-1].body.strip()}"
    return create_article(
        session,
        actor,
        title=ticket.subject,
        body=body[:BODY_MAX],
        category_id=ticket.category.id if ticket.category else None,
        change=f"created from ticket {ticket.reference}",
    )


def record_deflection(session: Session, actor: User, article_id: int, query: str = "") -> Deflection:
    """`actor` says a published public article answered what they were about to raise a ticket for
    (`query`: the subject they had typed). Any other article is a 404, as it is when read."""
    article = get_by_id(session, Article, article_id)
    if article is None or not article.is_public or not actor.is_active:
        raise NotFound(f"Article {article_id} was not found.")
    deflection = Deflection(
        article_id=article.id,
        user_id=actor.id,
        category_id=article.category_id,
        query=" ".join(_CONTROL.sub("", query).split())[:QUERY_MAX],
        created_at=clock.now(),
    )
    session.add(deflection)
    session.flush()
    return deflection


def _require_version(article: Article, expected: int | None) -> None:
    if expected is not None and expected != article.version:
        raise Conflict(
            f"“{article.title}” was changed by someone else since you opened it (now version "
            f"{article.version}). Reload it, then make your change again.",
            current_version=article.version,
        )


def _saved(session: Session, article: Article, actor: User, change: str) -> None:
    article.version += 1
    article.updated_by_id = actor.id
    article.updated_at = clock.now()
    session.flush()
    # The ids were set directly: the related objects are read again when next asked for.
    session.expire(article, ["category", "updated_by"])
    _keep_version(session, article, actor, change)


def _keep_version(session: Session, article: Article, actor: User, change: str) -> None:
    session.add(
        ArticleVersion(
            article_id=article.id,
            number=article.version,
            title=article.title,
            body=article.body,
            tags=article.tags,
            category_id=article.category_id,
            state=article.state,
            visibility=article.visibility,
            editor_id=actor.id,
            change=change,
            created_at=article.updated_at,
        )
    )
    session.flush()


def _title(title: str, errors: list[FieldError]) -> str:
    clean = " ".join(_CONTROL.sub("", title).split())
    if not clean:
        errors.append(FieldError("title", "is required"))
    elif len(clean) > TITLE_MAX:
        errors.append(FieldError("title", f"must be at most {TITLE_MAX} characters"))
    return clean


def _body(body: str, errors: list[FieldError]) -> str:
    clean = _CONTROL.sub("", body).replace("\r\n", "\n").strip("\n")
    if not clean.strip():
        errors.append(FieldError("body", "is required"))
    elif len(clean) > BODY_MAX:
        errors.append(FieldError("body", f"must be at most {BODY_MAX:,} characters"))
    return clean


def _category(session: Session, category_id: int | None, errors: list[FieldError]) -> Category | None:
    if category_id is None:
        return None
    category = get_by_id(session, Category, category_id)
    if category is None:
        errors.append(FieldError("category_id", "no such category"))
    return category


def _tags(tags: Iterable[str], errors: list[FieldError]) -> str:
    """Tags lower-cased, inner spaces as hyphens, each once, in the order given."""
    clean: list[str] = []
    for tag in tags:
        word = "-".join(tag.lower().split())
        if not word:
            continue
        if len(word) > TAG_MAX or not _TAG.match(word):
            errors.append(
                FieldError("tags", f"“{word[:TAG_MAX]}”: letters, digits and hyphens, at most {TAG_MAX}")
            )
            return ""
        if word not in clean:
            clean.append(word)
    if len(clean) > TAGS_MAX:
        errors.append(FieldError("tags", f"at most {TAGS_MAX} tags"))
    return " ".join(clean)
