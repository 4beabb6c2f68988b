"""Who reads and who writes the knowledge base: the desk (technicians and admins) reads and writes every
article; everyone else reads published public articles only, and any other article does not exist for
them (a 404, never a 403 that would confirm it is there)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, true

from supportdesk.accounts import policy as accounts
from supportdesk.accounts.models import User
from supportdesk.core.errors import NotFound, PermissionDenied
from supportdesk.kb.models import Article, ArticleState, Visibility


def may_write(actor: User) -> bool:
    return accounts.may_use_desk(actor)


def require_writer(actor: User) -> None:
    if not may_write(actor):
        raise PermissionDenied("Only the support desk writes knowledge-base articles.")


def readable_by(actor: User) -> ColumnElement[bool]:
    """The articles `actor` may read, as a WHERE clause on Article."""
    if may_write(actor):
        return true()
    return and_(Article.state == ArticleState.PUBLISHED, Article.visibility == Visibility.PUBLIC)


def may_read(actor: User, article: Article) -> bool:
    return may_write(actor) or article.is_public


def require_readable(actor: User, article: Article | None, article_id: int) -> Article:
    if article is None or not may_read(actor, article):
        raise NotFound(f"Article {article_id} was not found.")
    return article


def require_writable(actor: User, article: Article | None, article_id: int) -> Article:
    require_writer(actor)
    if article is None:
        raise NotFound(f"Article {article_id} was not found.")
    return article
