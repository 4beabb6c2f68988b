"""The desk raising a ticket for someone on the phone or at the counter (on the desk's blueprint): the
requester is picked by typing part of a name or email, or added on the spot."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from supportdesk.accounts import reads as people
from supportdesk.accounts import service as accounts
from supportdesk.accounts.models import User
from supportdesk.attachments.web import file_store, uploads_from
from supportdesk.core.db import db
from supportdesk.core.errors import FieldError, ValidationError
from supportdesk.core.web import form_errors, options
from supportdesk.tickets import categories, service, walk_ins
from supportdesk.tickets.desk import bp
from supportdesk.tickets.forms import RaiseForRequesterForm, optional_id
from supportdesk.tickets.lifecycle import Priority

# The services' field names as this form calls them.
_FORM_FIELDS = {"requester_id": "requester", "email": "new_email", "full_name": "new_name"}


@bp.route("/new", methods=["GET", "POST"])
def raise_ticket() -> Response | str | tuple[str, int]:
    form = RaiseForRequesterForm()
    form.priority.choices = options((p.value, p.value.capitalize()) for p in Priority)
    if form.validate_on_submit():
        try:
            with db.transaction() as session:
                requester = _requester(session, form)
                ticket = service.create_ticket(
                    session,
                    current_user,
                    subject=form.subject.data,
                    description=form.description.data or "",
                    priority=Priority(form.priority.data),
                    category_id=form.category.data,
                    requester_id=requester.id,
                    uploads=uploads_from(),
                    files=file_store(),
                    creation_key=form.submission.data or None,
                )
                number, name = ticket.number, requester.full_name
        except service.AlreadyCreated as earlier:  # the same form sent twice: the first one's ticket
            return redirect(url_for("desk.ticket", number=earlier.number))
        except (ValidationError, ValueError) as error:
            form_errors(form, _on_this_form(error))
        else:
            flash(f"Ticket #{number} is raised for {name}.", "success")
            return redirect(url_for("desk.ticket", number=number))
    session = db.session()
    form.category.choices = options(
        [(None, "Not sure"), *((c.id, c.name) for c in categories.list_categories(session))]
    )
    chosen = _chosen(session, form)
    adding = bool(form.new_name.data or form.new_email.data)
    return render_template("desk/new.html", form=form, chosen=chosen, adding=adding), (
        422 if form.errors or form.form_errors else 200
    )


@bp.get("/requesters")
def find_requesters() -> str:
    """The requester picker's options while the technician types (an htmx-free fetch from pickers.js)."""
    text = request.args.get("q", "")[: people.SEARCH_MAX]
    found = people.find_people(db.session(), current_user, text)
    return render_template("desk/_requester_options.html", people=found, text=text.strip())


def _requester(session: Session, form: RaiseForRequesterForm) -> User:
    """The person the ticket is for: a new one when the "new requester" fields are filled in."""
    if (form.new_name.data or "").strip() or (form.new_email.data or "").strip():
        added = walk_ins.requester_for_new_person(
            session,
            current_user,
            email=form.new_email.data or "",
            full_name=form.new_name.data or "",
            creation_key=form.submission.data or None,  # the same form sent twice: its first requester
        )
        return accounts.find_user(session, added)  # type: ignore[return-value]
    requester_id = optional_id(form.requester.data)
    if requester_id is None:
        raise ValidationError.single("requester", "Choose a requester or add a new one.")
    found = accounts.find_user(session, requester_id)
    if found is None or not found.is_active:
        raise ValidationError.single("requester", "This person cannot be chosen any more; search again.")
    return found


def _on_this_form(error: ValidationError | ValueError) -> ValidationError:
    if isinstance(error, ValueError):
        return ValidationError.single("requester", "Choose a requester from the list.")
    return ValidationError([FieldError(_FORM_FIELDS.get(e.field, e.field), e.message) for e in error.errors])


def _chosen(session: Session, form: RaiseForRequesterForm) -> people.Person | None:
    try:
        requester_id = optional_id(form.requester.data)
    except ValueError:
        return None
    return None if requester_id is None else people.person(session, current_user, requester_id)
