"""The desk's "taking tickets" switch (on the desk's own blueprint): automatic assignment gives tickets
only to technicians who are taking them."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from supportdesk.core.db import db
from supportdesk.routing import availability
from supportdesk.tickets.desk import bp


@bp.post("/availability")
def set_availability() -> Response:
    if not FlaskForm().validate_on_submit():
        flash("The page had expired; press the switch again.", "warning")
        return redirect(url_for("desk.home"))
    available = request.form.get("available") == "1"
    with db.transaction() as session:
        availability.set_available(session, current_user, available)
    if available:
        flash("You are taking tickets: your teams' automatic assignment may give you new ones.", "success")
    else:
        flash("You are not taking tickets: automatic assignment passes you by.", "info")
    return redirect(url_for("desk.home"))
