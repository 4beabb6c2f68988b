"""The signed-in user's notifications: the list, the count the top bar loads, opening one, marking
all read, and which of them come by email too."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from supportdesk.core.db import db
from supportdesk.core.errors import ValidationError
from supportdesk.notifications import inbox, preferences

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every page here is the signed-in user's own."""


@bp.get("")
def home() -> str:
    return render_template(
        "notifications/list.html", notifications=inbox.list_notifications(db.session(), current_user)
    )


@bp.get("/badge")
def badge() -> str:
    return render_template("notifications/_badge.html", count=inbox.unread_count(db.session(), current_user))


@bp.get("/<id:notification_id>")
def open_one(notification_id: int) -> Response:
    with db.transaction() as session:
        opened = inbox.open_notification(session, current_user, notification_id)
    if opened.export_id is not None:
        return redirect(url_for("reports.export_status", export_id=opened.export_id))
    if opened.ticket_number is None:
        return redirect(url_for("notifications.home"))
    target = "desk.ticket" if current_user.is_staff else "portal.ticket"
    return redirect(url_for(target, number=opened.ticket_number))


@bp.post("/read")
def mark_all_read() -> Response:
    if FlaskForm().validate_on_submit():
        with db.transaction() as session:
            inbox.mark_all_read(session, current_user)
        flash("All notifications marked as read.", "success")
    return redirect(url_for("notifications.home"))


@bp.route("/settings", methods=["GET", "POST"])
def settings() -> Response | tuple[str, int] | str:
    status = 200
    if request.method == "POST" and FlaskForm().validate_on_submit():
        asked = {name.removeprefix("email_") for name in request.form if name.startswith("email_")}
        try:
            with db.transaction() as session:
                preferences.choose_by_email(session, current_user, asked)
        except ValidationError as error:
            flash(error.detail, "danger")
            status = 422
        else:
            flash("Your email choices are saved.", "success")
            return redirect(url_for("notifications.settings"))
    choices = preferences.email_choices(db.session(), current_user)
    page = render_template(
        "notifications/settings.html",
        choices=[(kind, preferences.LABELS[kind], enabled) for kind, enabled in choices.items()],
    )
    return (page, status) if status != 200 else page
