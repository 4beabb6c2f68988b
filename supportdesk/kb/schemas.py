"""The JSON API's shapes for knowledge-base articles."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator, Field

from supportdesk.core.apikit import Id, Schema
from supportdesk.kb.models import BODY_MAX, TAG_MAX, TAGS_MAX, TITLE_MAX, ArticleState, Visibility
from supportdesk.tickets.schemas import Ref

SEARCH_MAX = 200
Tag = Annotated[str, Field(max_length=TAG_MAX)]


class ArticleQuery(Schema):
    q: Annotated[
        Annotated[str, Field(max_length=SEARCH_MAX, description="Words: ranked matches, best first")] | None,
        BeforeValidator(lambda v: None if v is None else (str(v).strip() or None)),
    ] = None
    category_id: Id | None = None
    # The desk's filters; an employee only ever gets published public articles.
    state: ArticleState | None = None
    visibility: Visibility | None = None
    page: Annotated[int, Field(ge=1, le=10_000)] = 1


class ArticleIn(Schema):
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    body: str = Field(min_length=1, max_length=BODY_MAX)
    category_id: Id | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=TAGS_MAX)
    visibility: Visibility = Visibility.PUBLIC
    # Published at once, or kept as a draft (the default).
    state: ArticleState = ArticleState.DRAFT


class ArticlePatch(Schema):
    """Fields left out stay as they are; `category_id: null` takes the category away."""

    title: str | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    body: str | None = Field(default=None, min_length=1, max_length=BODY_MAX)
    category_id: Id | None = None
    tags: list[Tag] | None = Field(default=None, max_length=TAGS_MAX)
    visibility: Visibility | None = None
    state: ArticleState | None = None
    # The version the change was made on: refused with 409 if someone saved a newer one meanwhile.
    version: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None


class ArticleSummaryOut(Schema):
    id: int
    title: str
    tags: list[str]
    category: Ref | None
    state: ArticleState
    visibility: Visibility
    updated_at: datetime
    # Search results only: the matched part of the body, HTML-escaped, matched words in <mark>.
    snippet_html: str | None = None


class ArticleList(Schema):
    items: list[ArticleSummaryOut]
    page: int
    has_next: bool


class ArticleOut(Schema):
    id: int
    title: str
    body: str
    body_html: str
    tags: list[str]
    category: Ref | None
    state: ArticleState
    visibility: Visibility
    version: int
    author: str
    updated_by: str
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None


class ArticleVersionOut(Schema):
    number: int
    title: str
    body: str
    tags: list[str]
    state: ArticleState
    visibility: Visibility
    editor: str
    change: str
    created_at: datetime


class ArticleVersionList(Schema):
    items: list[ArticleVersionOut]
