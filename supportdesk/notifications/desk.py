"""Watchers in the desk: the ticket page's sidebar loads this list, where the desk adds people by
email (colleagues, a requester's manager) and removes them."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from supportdesk.accounts.policy import may_use_desk
from supportdesk.core.db import db
from supportdesk.core.errors import NotFound, ValidationError
from supportdesk.notifications import watchers

bp = Blueprint("watchers", __name__, url_prefix="/desk/tickets")


@bp.before_request
@login_required
def _desk_only() -> None:
    if not may_use_desk(current_user):
        raise NotFound("Not found.")


@bp.get("/<id:number>/watchers")
def watchers_part(number: int) -> str:
    return render_template(
        "desk/_watchers.html",
        number=number,
        watchers=watchers.list_watchers(db.session(), current_user, number),
    )


@bp.post("/<id:number>/watchers")
def add_watcher(number: int) -> Response:
    if FlaskForm().validate_on_submit():
        try:
            with db.transaction() as session:
                user = watchers.add_watcher(session, current_user, number, request.form.get("email", ""))
        except ValidationError as error:
            flash(error.errors[0].message, "danger")
        else:
            flash(f"{user.full_name} is copied on this ticket.", "success")
    return redirect(url_for("desk.ticket", number=number))


@bp.post("/<id:number>/watchers/<id:user_id>/remove")
def remove_watcher(number: int, user_id: int) -> Response:
    if FlaskForm().validate_on_submit():
        with db.transaction() as session:
            watchers.remove_watcher(session, current_user, number, user_id)
        flash("Removed from the ticket's watchers.", "success")
    return redirect(url_for("desk.ticket", number=number))
