"""The requester's faces of a rating: the "How did we do?" buttons on their ticket page, and the
resolution email's link, which works without signing in. Opening the link only shows a confirmation
(mail scanners and link previews fetch links; a GET never records anything); sending it records."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import StringField, TextAreaField

from supportdesk.accounts.models import User
from supportdesk.core.db import db
from supportdesk.core.errors import Conflict, ValidationError
from supportdesk.core.web import form_errors
from supportdesk.satisfaction import links, service
from supportdesk.satisfaction.lifecycle import CHANGE_WINDOW, COMMENT_MAX, Score
from supportdesk.satisfaction.reads import rating_state_for
from supportdesk.tickets import portal, reads
from supportdesk.tickets.summaries import TicketSummary

bp = Blueprint("satisfaction", __name__)


class RatingForm(FlaskForm):  # type: ignore[misc]
    """The score and an optional comment; the service checks both."""

    score = StringField("Rating")
    comment = TextAreaField("Comment (optional)")


@bp.post("/portal/tickets/<id:number>/rating")
@login_required
def rate(number: int) -> Response | str | tuple[str, int]:
    form = RatingForm()
    if form.validate_on_submit():
        try:
            with db.transaction() as session:
                rating = service.rate(session, current_user, number, form.score.data, form.comment.data)
        except ValidationError as error:
            form_errors(form, error)
        except Conflict as refusal:
            flash(refusal.detail, "warning")
            return redirect(url_for("portal.ticket", number=number, _anchor="rating"))
        else:
            flash(f"Thank you: your rating ({rating.score.label.lower()}) is recorded.", "success")
            return redirect(url_for("portal.ticket", number=number, _anchor="rating"))
    return portal._ticket_page(number, rating_form=form), 422


def _signed_in() -> User | None:
    return current_user if current_user.is_authenticated else None


@bp.route("/rate/<token>", methods=["GET", "POST"])
def rate_from_link(token: str) -> str | tuple[str, int]:
    form = RatingForm()
    recorded = False
    if request.method == "POST" and form.validate_on_submit():
        try:
            with db.transaction() as session:
                service.rate_with_link(
                    session, token, form.score.data, form.comment.data, signed_in=_signed_in()
                )
        except ValidationError as error:
            form_errors(form, error)
        except Conflict as refusal:
            form.form_errors.append(refusal.detail)
        else:
            recorded = True
    session = db.session()
    target = links.open_link(session, token, _signed_in())
    state = rating_state_for(session, target.requester, _summary(session, target))
    chosen = form.score.data if request.method == "POST" else request.args.get("score", "")
    if request.method == "GET" and state.rating is not None:
        form.comment.data = state.rating.comment or ""
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "satisfaction/link.html",
        ticket=target.ticket,
        requester=target.requester,
        state=state,
        form=form,
        chosen=chosen if chosen in set(Score) else "",
        recorded=recorded,
        comment_max=COMMENT_MAX,
        change_days=CHANGE_WINDOW.days,
    ), status


def _summary(session: Session, target: links.LinkTarget) -> TicketSummary:
    return reads.read_ticket(session, target.requester, target.ticket.number)
