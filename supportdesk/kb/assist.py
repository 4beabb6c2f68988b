"""The knowledge base where it helps on other pages: articles suggested while an employee types a new
ticket, "This solved it" (a deflection: the form is left, no ticket raised), the admins' deflection
figures, and the composer's picker that puts an article's link into a reply."""

from __future__ import annotations

from datetime import timedelta

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from supportdesk.accounts.admin import bp as admin_bp
from supportdesk.core import clock
from supportdesk.core.db import db
from supportdesk.kb import reads, service
from supportdesk.kb.forms import StateForm
from supportdesk.kb.models import ArticleState, Visibility
from supportdesk.kb.schemas import SEARCH_MAX
from supportdesk.tickets.desk import bp as desk_bp
from supportdesk.tickets.portal import bp as portal_bp

PERIODS = {"7": 7, "30": 30, "90": 90, "365": 365}
PICKER_SIZE = 20


@portal_bp.get("/help/suggestions")
@login_required
def help_suggestions() -> str:
    """While the new ticket's subject and description are typed: a few public articles that may answer it."""
    subject = request.args.get("subject", "")[:SEARCH_MAX]
    description = request.args.get("description", "")[:1000]
    found = reads.suggest_articles(db.session(), current_user, subject, description)
    return render_template("kb/_suggestions.html", found=found)


@portal_bp.post("/help/<id:article_id>/solved")
@login_required
def help_solved(article_id: int) -> Response:
    """ "This solved it": counted, and the new-ticket form is left (no ticket raised)."""
    with db.transaction() as session:
        service.record_deflection(session, current_user, article_id, request.form.get("subject", ""))
    flash("Glad that solved it. No ticket was raised; the desk is here if you need it.", "success")
    home = url_for("portal.home")
    if request.headers.get("HX-Request"):
        response = make_response("", 204)
        response.headers["HX-Redirect"] = home
        return response
    return redirect(home)


@admin_bp.get("/kb/deflections")
def kb_deflections() -> str:
    days = PERIODS.get(request.args.get("days", ""), 30)
    report = reads.deflection_report(db.session(), current_user, clock.now() - timedelta(days=days))
    return render_template("kb/admin_deflections.html", report=report, days=days, periods=PERIODS)


@desk_bp.get("/kb/picker")
def kb_article_picker() -> str:
    """The composer's article picker: published public articles (what a requester can open), by the
    words typed, or the most recently changed; each inserts a markdown link to its portal page."""
    session, text = db.session(), " ".join(request.args.get("q", "").split())[:SEARCH_MAX]
    published, public = ArticleState.PUBLISHED, Visibility.PUBLIC
    if text:
        found = reads.search_articles(
            session, current_user, text, state=published, visibility=public, limit=PICKER_SIZE
        )
        rows = [(h.id, h.title) for h in found]
    else:
        recent = reads.list_articles(session, current_user, state=published, visibility=public)
        rows = [(r.id, r.title) for r in recent.items[:PICKER_SIZE]]
    links = [
        (
            article_id,
            title,
            f"[{_link_text(title)}]({url_for('portal.help_article', article_id=article_id, _external=True)})",
        )
        for article_id, title in rows
    ]
    return render_template("kb/_picker_options.html", links=links, text=text)


def _link_text(title: str) -> str:
    """A title as a markdown link's text: brackets and backslashes escaped."""
    return title.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


@desk_bp.post("/tickets/<id:number>/article")
def kb_article_from_ticket(number: int) -> Response:
    """A resolved ticket's answer as a draft article, opened for editing."""
    form = StateForm()
    if not form.validate_on_submit():
        return redirect(url_for("desk.ticket", number=number))
    with db.transaction() as session:
        article_id = service.draft_from_ticket(session, current_user, number).id
    check = "Check it for anything personal to the requester, then publish it."
    flash(f"Draft article made from #{number}. {check}", "success")
    return redirect(url_for("desk.kb_edit_article", article_id=article_id))
