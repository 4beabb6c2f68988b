"""Knowledge-base articles through the JSON API: everyone signed in lists, searches and reads what the
policy lets them (employees: published public articles only); the desk writes. One unit of work per
write; refusals are the same as the pages'."""

from __future__ import annotations

from http import HTTPStatus

from flask import Response

from supportdesk.core.apikit import bp, current_actor, json_response, registry
from supportdesk.core.db import db
from supportdesk.kb import reads, service
from supportdesk.kb.models import ArticleState
from supportdesk.kb.schemas import (
    ArticleIn,
    ArticleList,
    ArticleOut,
    ArticlePatch,
    ArticleQuery,
    ArticleSummaryOut,
    ArticleVersionList,
    ArticleVersionOut,
)
from supportdesk.tickets.schemas import Ref

TAG = "Knowledge base"
SEARCH_LIMIT = 50


def article_out(view: reads.ArticleView) -> ArticleOut:
    return ArticleOut(
        id=view.id,
        title=view.title,
        body=view.body,
        body_html=str(view.body_html),
        tags=view.tags,
        category=_category(view.category_id, view.category_name),
        state=view.state,
        visibility=view.visibility,
        version=view.version,
        author=view.author_name,
        updated_by=view.updated_by_name,
        created_at=view.created_at,
        updated_at=view.updated_at,
        published_at=view.published_at,
    )


def _category(category_id: int | None, name: str | None) -> Ref | None:
    return Ref(id=category_id, name=name) if category_id is not None and name is not None else None


@registry.route(
    bp,
    "/kb/articles",
    "GET",
    summary="Knowledge-base articles you may read (employees: published public ones); ?q= searches, "
    "ranked, with highlighted snippets",
    tag=TAG,
    query=ArticleQuery,
    responses={200: ArticleList},
)
def list_articles(query: ArticleQuery) -> Response:
    session, actor = db.session(), current_actor()
    if query.q:
        hits = reads.search_articles(
            session,
            actor,
            query.q,
            category_id=query.category_id,
            state=query.state,
            visibility=query.visibility,
            limit=SEARCH_LIMIT,
        )
        items = [
            ArticleSummaryOut(
                id=h.id,
                title=h.title,
                tags=[],
                category=_category(h.category_id, h.category_name),
                state=h.state,
                visibility=h.visibility,
                updated_at=h.updated_at,
                snippet_html=str(h.snippet_html),
            )
            for h in hits
        ]
        return json_response(ArticleList(items=items, page=1, has_next=False))
    page = reads.list_articles(
        session,
        actor,
        category_id=query.category_id,
        state=query.state,
        visibility=query.visibility,
        page=query.page,
    )
    return json_response(
        ArticleList(
            items=[
                ArticleSummaryOut(
                    id=r.id,
                    title=r.title,
                    tags=r.tags,
                    category=_category(r.category_id, r.category_name),
                    state=r.state,
                    visibility=r.visibility,
                    updated_at=r.updated_at,
                )
                for r in page.items
            ],
            page=page.page,
            has_next=page.has_next,
        )
    )


@registry.route(
    bp,
    "/kb/articles/<id:article_id>",
    "GET",
    summary="One article (404 for an article you may not read)",
    tag=TAG,
    responses={200: ArticleOut},
)
def get_article(article_id: int) -> Response:
    return json_response(article_out(reads.read_article(db.session(), current_actor(), article_id)))


@registry.route(
    bp,
    "/kb/articles",
    "POST",
    summary="Write an article (the desk): a draft, or published at once",
    tag=TAG,
    body=ArticleIn,
    responses={201: ArticleOut},
)
def create_article(body: ArticleIn) -> Response:
    actor = current_actor()
    with db.transaction() as session:
        article = service.create_article(
            session,
            actor,
            title=body.title,
            body=body.body,
            category_id=body.category_id,
            tags=body.tags,
            visibility=body.visibility,
        )
        if body.state is ArticleState.PUBLISHED:
            service.publish_article(session, actor, article.id)
        out = article_out(reads.read_article(session, actor, article.id))
    return json_response(out, HTTPStatus.CREATED, {"Location": f"{bp.url_prefix}/kb/articles/{out.id}"})


@registry.route(
    bp,
    "/kb/articles/<id:article_id>",
    "PATCH",
    summary="Change an article (the desk); each change is kept as a new version",
    tag=TAG,
    body=ArticlePatch,
    responses={200: ArticleOut},
)
def update_article(article_id: int, body: ArticlePatch) -> Response:
    actor = current_actor()
    with db.transaction() as session:
        service.update_article(
            session,
            actor,
            article_id,
            title=body.title,
            body=body.body,
            category_id=body.category_id,
            clear_category="category_id" in body.model_fields_set and body.category_id is None,
            tags=body.tags,
            visibility=body.visibility,
            expected_version=body.version,
        )
        if body.state is ArticleState.PUBLISHED:
            service.publish_article(session, actor, article_id)
        elif body.state is ArticleState.DRAFT:
            service.unpublish_article(session, actor, article_id)
        out = article_out(reads.read_article(session, actor, article_id))
    return json_response(out)


@registry.route(
    bp,
    "/kb/articles/<id:article_id>/versions",
    "GET",
    summary="An article's versions, newest first: who saved each and what it changed (the desk)",
    tag=TAG,
    responses={200: ArticleVersionList},
)
def list_article_versions(article_id: int) -> Response:
    versions = reads.article_versions(db.session(), current_actor(), article_id)
    return json_response(
        ArticleVersionList(
            items=[
                ArticleVersionOut(
                    number=v.number,
                    title=v.title,
                    body=v.body,
                    tags=v.tags,
                    state=v.state,
                    visibility=v.visibility,
                    editor=v.editor_name,
                    change=v.change,
                    created_at=v.created_at,
                )
                for v in versions
            ]
        )
    )
