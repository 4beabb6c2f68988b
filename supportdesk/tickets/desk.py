"""The technicians' desk: queue views, filters, search, bulk actions, and the ticket workspace."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from supportdesk.attachments.web import file_store, uploads_from
from supportdesk.core.db import db
from supportdesk.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from supportdesk.core.web import form_errors, parse_id
from supportdesk.tickets import lifecycle, policy, queues, service
from supportdesk.tickets.forms import BulkForm, ReplyForm, TicketFieldsForm, VersionForm, options
from supportdesk.tickets.lifecycle import Priority, Status
from supportdesk.tickets.service import TicketChanges, TicketFilters
from supportdesk.tickets.web import desk_rules

bp = Blueprint("desk", __name__, url_prefix="/desk")


@bp.before_request
@login_required
def _desk_only() -> None:
    if not policy.may_use_desk(current_user):
        raise NotFound("This page is for the support desk.")


@bp.get("/")
def home() -> str:
    session = db.session()
    view = queues.parse_view(request.args.get("view"))
    filters = _narrow(queues.view_filters(view))
    sort = service.Sort.parse(request.args.get("sort") or "-updated_at")
    page = service.list_tickets(
        session, current_user, filters, sort, service.PageRequest(cursor=request.args.get("cursor") or None)
    )
    return render_template(
        "desk/home.html",
        page=page,
        view=view,
        views=list(queues.QueueView),
        counts=queues.queue_counts(session, current_user),
        sort=str(sort),
        choices=service.field_choices(session),
        # A plain dict: the template asks for missing keys dozens of times, and each miss on werkzeug's
        # MultiDict builds (and swallows) an HTTP exception.
        args=request.args.to_dict(),
    )


@bp.post("/bulk")
def bulk() -> Response:
    form = BulkForm()
    back = form.next.data if (form.next.data or "").startswith("/desk/") else url_for("desk.home")
    if not form.validate_on_submit():
        flash("Choose tickets and what to change.", "warning")
        return redirect(back)
    try:
        numbers = [parse_id(n) for n in request.form.getlist("tickets")]
        changes = _bulk_change(form.change.data)
        result = service.bulk_update(db.session(), current_user, numbers, changes, desk_rules())
    except (ValueError, ValidationError) as error:
        flash(getattr(error, "detail", "Those tickets or that change are not valid."), "warning")
        return redirect(back)
    queues.forget_counts()
    if result.changed:
        flash(f"Updated {len(result.changed)} ticket(s).", "success")
    for number, reason in result.refused.items():
        flash(f"#{number} was not changed: {reason}", "warning")
    return redirect(back)


@bp.get("/tickets/<id:number>")
def ticket(number: int) -> str:
    return _workspace(number)


@bp.post("/tickets/<id:number>/reply")
def reply(number: int) -> Response | tuple[str, int]:
    form = ReplyForm()
    if form.validate_on_submit():
        internal = form.visibility.data == "internal"
        try:
            service.add_comment(
                db.session(),
                current_user,
                number,
                form.body.data,
                internal=internal,
                expected_version=None,
                uploads=uploads_from(),
                files=file_store(),
            )
        except (ValidationError, InvalidTransition) as error:
            form_errors(form, error)
        else:
            queues.forget_counts()
            flash("Internal note added." if internal else "Reply sent to the requester.", "success")
            return redirect(url_for("desk.ticket", number=number, _anchor="conversation"))
    return _workspace(number, reply_form=form), 422


@bp.post("/tickets/<id:number>/update")
def update(number: int) -> Response | tuple[str, int]:
    form = TicketFieldsForm()
    _fill_choices(form, service.field_choices(db.session(), fresh=True))
    if not form.validate_on_submit():
        return _workspace(number, fields_form=form), 422
    changes = TicketChanges(
        status=Status(form.status.data),
        priority=Priority(form.priority.data),
        assignee_id=form.assignee.data,
        team_id=form.team.data,
        category_id=form.category.data,
    )
    return _apply(number, changes, form.version.data)


@bp.post("/tickets/<id:number>/assign-to-me")
def assign_to_me(number: int) -> Response | tuple[str, int]:
    form = VersionForm()
    if not form.validate_on_submit():
        return _workspace(number), 400
    return _apply(number, TicketChanges(assignee_id=current_user.id), form.version.data)


def _apply(number: int, changes: TicketChanges, version: int | None) -> Response | tuple[str, int]:
    try:
        service.update_ticket(db.session(), current_user, number, changes, version, desk_rules())
    except Conflict:
        db.session().rollback()
        flash(
            "Someone else changed this ticket since you opened it. Here is its current state; your "
            "change was not applied. Check it and try again.",
            "warning",
        )
        return _workspace(number), 409
    except (InvalidTransition, ValidationError, PermissionDenied) as error:
        db.session().rollback()
        flash(error.detail, "danger")
        return _workspace(number), error.status
    queues.forget_counts()
    flash("Ticket updated.", "success")
    return redirect(url_for("desk.ticket", number=number))


def _workspace(
    number: int, reply_form: ReplyForm | None = None, fields_form: TicketFieldsForm | None = None
) -> str:
    session = db.session()
    shown = service.conversation(session, current_user, number)
    ticket = shown.ticket
    form = TicketFieldsForm(
        formdata=None,
        status=ticket.status.value,
        priority=ticket.priority.value,
        assignee=ticket.assignee_id,
        team=ticket.team_id,
        category=ticket.category_id,
        version=ticket.version,
    )
    choices = service.field_choices(session)
    _fill_choices(form, choices)
    form.status.choices = options(
        (s.value, s.label)
        for s in Status
        if s is ticket.status or s in lifecycle.allowed_transitions(ticket.status, current_user.role)
    )
    if fields_form is not None and fields_form.errors:
        form.version.errors = [*fields_form.version.errors]
    return render_template(
        "desk/ticket.html",
        ticket=ticket,
        comments=shown.comments,
        attachments=shown.attachments,
        events=shown.events,
        names=choices.names(),
        reply_form=reply_form or ReplyForm(formdata=None),
        fields_form=form,
    )


def _fill_choices(form: TicketFieldsForm, choices: service.FieldChoices) -> None:
    form.assignee.choices = options([(None, "Unassigned"), *choices.staff])
    form.team.choices = options([(None, "No team"), *choices.teams])
    form.category.choices = options([(None, "No category"), *choices.categories])


def _narrow(filters: TicketFilters) -> TicketFilters:
    """The view's filters narrowed by the query string; an explicit status filter replaces the view's
    statuses. Unknown values are a clear 422, not a crash."""
    params = request.args
    try:
        changes: dict[str, object] = {
            "statuses": frozenset(Status(s) for s in params.getlist("status") if s),
            "priorities": frozenset(Priority(p) for p in params.getlist("priority") if p),
            "team_ids": frozenset({parse_id(params["team"])}) if params.get("team") else frozenset(),
            "category_id": parse_id(params["category"]) if params.get("category") else None,
            "requester_id": parse_id(params["requester"]) if params.get("requester") else None,
            "assignee": _assignee_filter(params.get("assignee")),
        }
    except ValueError:
        raise ValidationError.single("filters", "a filter has a value this desk does not know") from None
    given = {key: value for key, value in changes.items() if value}
    return replace(filters, text=(params.get("q") or "").strip()[:200] or None, **given)  # type: ignore[arg-type]


def _assignee_filter(value: str | None) -> int | str | None:
    if value in (None, "", "me", "none"):
        return value or None
    return parse_id(value)


def _bulk_change(change: str) -> TicketChanges:
    kind, _, value = change.partition(":")
    if kind == "assign":
        return TicketChanges(assignee_id=None if value == "none" else parse_id(value))
    if kind == "status":
        return TicketChanges(status=Status(value))
    if kind == "priority":
        return TicketChanges(priority=Priority(value))
    raise ValidationError.single("change", "choose an assignee, a status or a priority")
