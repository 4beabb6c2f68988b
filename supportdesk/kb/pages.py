"""The knowledge base's pages: the portal's help centre (employees browse, search and read published
public articles; the desk sees what employees see there) and the desk's articles (list and search
everything, write, revise, publish, read the history)."""

from __future__ import annotations

from typing import TypedDict, TypeVar

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from supportdesk.core.db import db
from supportdesk.core.errors import Conflict, ValidationError
from supportdesk.core.web import form_errors, options
from supportdesk.kb import reads, service
from supportdesk.kb.forms import ArticleForm, StateForm, optional_number
from supportdesk.kb.models import ArticleState, Visibility
from supportdesk.kb.schemas import SEARCH_MAX
from supportdesk.tickets import categories
from supportdesk.tickets.desk import bp as desk_bp
from supportdesk.tickets.portal import bp as portal_bp

Choice = TypeVar("Choice", ArticleState, Visibility)
RESULTS = 30
PAGE_MAX = 10_000


class _PortalView(TypedDict):
    state: ArticleState
    visibility: Visibility


# What the portal lists: published public articles, for the desk too (so it sees what employees see;
# for employees the policy alone already allows no other).
PORTAL_VIEW = _PortalView(state=ArticleState.PUBLISHED, visibility=Visibility.PUBLIC)


@portal_bp.get("/help")
@login_required
def help_center() -> str:
    session = db.session()
    text, category_id, page = _text(), _number("category"), _number("page") or 1
    found = (
        reads.search_articles(
            session, current_user, text, category_id=category_id, limit=RESULTS, **PORTAL_VIEW
        )
        if text
        else None
    )
    listing = (
        None
        if text
        else reads.list_articles(
            session,
            current_user,
            category_id=category_id,
            page=min(page, PAGE_MAX),
            by_title=True,
            **PORTAL_VIEW,
        )
    )
    groups = reads.portal_categories(session, current_user)
    return render_template(
        "kb/portal_home.html",
        text=text,
        found=found,
        listing=listing,
        groups=groups,
        category=next((g for g in groups if g.id == category_id), None),
    )


@portal_bp.get("/help/<id:article_id>")
@login_required
def help_article(article_id: int) -> str:
    article = reads.read_article(db.session(), current_user, article_id)
    return render_template("kb/portal_article.html", article=article)


@desk_bp.get("/kb")
def kb_articles() -> str:
    session = db.session()
    text, category_id = _text(), _number("category")
    state = _choice(ArticleState, "state")
    visibility = _choice(Visibility, "visibility")
    found = (
        reads.search_articles(
            session,
            current_user,
            text,
            category_id=category_id,
            state=state,
            visibility=visibility,
            limit=RESULTS,
        )
        if text
        else None
    )
    listing = (
        None
        if text
        else reads.list_articles(
            session,
            current_user,
            category_id=category_id,
            state=state,
            visibility=visibility,
            page=min(_number("page") or 1, PAGE_MAX),
        )
    )
    return render_template(
        "kb/desk_list.html",
        text=text,
        found=found,
        listing=listing,
        state=state,
        visibility=visibility,
        category_id=category_id,
        category_choices=categories.list_categories(session),
        args=request.args.to_dict(),
    )


@desk_bp.route("/kb/new", methods=["GET", "POST"])
def kb_new_article() -> Response | tuple[str, int]:
    form = ArticleForm()
    if form.validate_on_submit():
        try:
            with db.transaction() as session:
                article = service.create_article(
                    session,
                    current_user,
                    title=form.title.data or "",
                    body=form.body.data or "",
                    category_id=form.category.data,
                    tags=form.tag_list(),
                    visibility=Visibility(form.visibility.data),
                )
                if form.action.data == "publish":
                    service.publish_article(session, current_user, article.id)
                article_id, title, state = article.id, article.title, article.state
        except ValidationError as error:
            form_errors(form, error)
        else:
            done = "published" if state is ArticleState.PUBLISHED else "saved as a draft"
            flash(f"Article “{title}” {done}.", "success")
            return redirect(url_for("desk.kb_article", article_id=article_id))
    return _form_page(form, None)


@desk_bp.get("/kb/<id:article_id>")
def kb_article(article_id: int) -> str:
    article = reads.read_article(db.session(), current_user, article_id)
    return render_template("kb/desk_article.html", article=article, form=StateForm(formdata=None))


@desk_bp.route("/kb/<id:article_id>/edit", methods=["GET", "POST"])
def kb_edit_article(article_id: int) -> Response | tuple[str, int]:
    article = reads.read_article(db.session(), current_user, article_id)
    form = ArticleForm()
    if request.method == "GET":
        form = ArticleForm(
            formdata=None,
            title=article.title,
            body=article.body,
            category=article.category_id,
            tags=", ".join(article.tags),
            visibility=article.visibility.value,
            version=str(article.version),
        )
    elif form.validate_on_submit():
        try:
            with db.transaction() as session:
                saved = service.update_article(
                    session,
                    current_user,
                    article_id,
                    title=form.title.data or "",
                    body=form.body.data or "",
                    category_id=form.category.data,
                    clear_category=form.category.data is None,
                    tags=form.tag_list(),
                    visibility=Visibility(form.visibility.data),
                    expected_version=optional_number(form.version.data),
                )
                if form.action.data == "publish":
                    service.publish_article(session, current_user, article_id)
                elif form.action.data == "unpublish":
                    service.unpublish_article(session, current_user, article_id)
                title = saved.title
        except (ValidationError, Conflict) as error:
            form_errors(form, error)
            return _form_page(form, article, 409 if isinstance(error, Conflict) else 422)
        flash(f"Article “{title}” saved.", "success")
        return redirect(url_for("desk.kb_article", article_id=article_id))
    return _form_page(form, article)


@desk_bp.post("/kb/<id:article_id>/publish")
def kb_publish_article(article_id: int) -> Response:
    return _set_state(article_id, publish=True)


@desk_bp.post("/kb/<id:article_id>/unpublish")
def kb_unpublish_article(article_id: int) -> Response:
    return _set_state(article_id, publish=False)


@desk_bp.get("/kb/<id:article_id>/history")
def kb_article_history(article_id: int) -> str:
    session = db.session()
    versions = reads.article_versions(session, current_user, article_id)
    article = reads.read_article(session, current_user, article_id)
    return render_template("kb/desk_history.html", article=article, versions=versions)


def _set_state(article_id: int, *, publish: bool) -> Response:
    form = StateForm()
    if form.validate_on_submit():
        change = service.publish_article if publish else service.unpublish_article
        try:
            with db.transaction() as session:
                title = change(session, current_user, article_id, optional_number(form.version.data)).title
        except Conflict as error:
            flash(error.detail, "danger")
        else:
            flash(
                f"Article “{title}” {'published' if publish else 'unpublished: employees no longer see it'}.",
                "success",
            )
    return redirect(url_for("desk.kb_article", article_id=article_id))


def _form_page(
    form: ArticleForm, article: reads.ArticleView | None, status: int | None = None
) -> tuple[str, int]:
    form.category.choices = options(
        [(None, "None"), *((c.id, c.name) for c in categories.list_categories(db.session()))]
    )
    failed = bool(form.errors or form.form_errors)
    return render_template("kb/desk_form.html", form=form, article=article), status or (
        422 if failed else 200
    )


def _text() -> str:
    return " ".join(request.args.get("q", "").split())[:SEARCH_MAX]


def _number(name: str) -> int | None:
    return optional_number(request.args.get(name))


def _choice(kind: type[Choice], name: str) -> Choice | None:
    value = request.args.get(name, "")
    return kind(value) if value in {member.value for member in kind} else None
