"""Duplicates and incidents in the desk (on the desk's blueprint): the similar open tickets the ticket
page loads after itself, merging a ticket into another, and linking it to (or out of) an incident."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from supportdesk.core.db import db
from supportdesk.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from supportdesk.tickets import incidents, links, merging, reads
from supportdesk.tickets.desk import bp
from supportdesk.tickets.forms import MergeForm, ParentForm

REFUSED = (Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError)


@bp.get("/tickets/<id:number>/similar")
def similar_tickets(number: int) -> str:
    """A fragment: the open tickets that read like this one, each with a one-click merge."""
    return render_template(
        "desk/_similar.html",
        number=number,
        similar=links.similar_open(db.session(), current_user, number),
        merge_form=MergeForm(formdata=None),
    )


@bp.post("/tickets/<id:number>/merge")
def merge(number: int) -> Response:
    form = MergeForm()
    if not form.validate_on_submit():
        return _refused(number, _first_error(form) or "Name the ticket to merge into.")
    into = reads.ticket_number_in(form.into.data or "")
    if into is None:
        return _refused(number, "Name the ticket to merge into by its number, as #1042.")
    try:
        with db.transaction() as session:
            merging.merge_ticket(
                session,
                current_user,
                number,
                into,
                message=form.message.data or None,
                copy_requester=bool(form.copy_requester.data),
            )
    except REFUSED as error:
        return _refused(number, _detail(error))
    flash(f"Ticket #{number} was merged into #{into} and closed; its requester was told.", "success")
    return redirect(url_for("desk.ticket", number=into), 303)


@bp.post("/tickets/<id:number>/parent")
def link_parent(number: int) -> Response:
    form = ParentForm()
    if not form.validate_on_submit():
        return _refused(number, _first_error(form) or "Name the incident's ticket.")
    parent = reads.ticket_number_in(form.parent.data or "")
    if parent is None:
        return _refused(number, "Name the incident by its ticket number, as #1042.")
    try:
        with db.transaction() as session:
            incidents.link_to_incident(session, current_user, number, parent)
    except REFUSED as error:
        return _refused(number, _detail(error))
    flash(f"Ticket #{number} is now part of incident #{parent}.", "success")
    return redirect(url_for("desk.ticket", number=number), 303)


@bp.post("/tickets/<id:number>/parent/remove")
def unlink_parent(number: int) -> Response:
    if not FlaskForm().validate_on_submit():
        return _refused(number, "The form was not understood; reload the page and try again.")
    try:
        with db.transaction() as session:
            incidents.unlink_from_incident(session, current_user, number)
    except REFUSED as error:
        return _refused(number, _detail(error))
    flash(f"Ticket #{number} is no longer part of an incident.", "success")
    return redirect(url_for("desk.ticket", number=number), 303)


def _refused(number: int, message: str) -> Response:
    flash(message, "danger")
    return redirect(url_for("desk.ticket", number=number), 303)


def _detail(error: Exception) -> str:
    if isinstance(error, ValidationError) and error.errors:
        return error.errors[0].message
    return str(getattr(error, "detail", error))


def _first_error(form: FlaskForm) -> str | None:
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return None
