"""The desk's "Take next ticket" button (on the desk's own blueprint)."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from supportdesk.core.db import db
from supportdesk.sla import next_ticket
from supportdesk.tickets.desk import bp


@bp.post("/next")
def take_next_ticket() -> Response:
    if not FlaskForm().validate_on_submit():
        flash("The page had expired; press Take next ticket again.", "warning")
        return redirect(url_for("desk.home"))
    with db.transaction() as session:
        ticket = next_ticket.take_next(session, current_user)
        number = None if ticket is None else ticket.number
    if number is None:
        flash("Nothing to take: no unassigned ticket is waiting for your teams.", "info")
        return redirect(url_for("desk.home"))
    flash(f"#{number} is yours now.", "success")
    return redirect(url_for("desk.ticket", number=number))
