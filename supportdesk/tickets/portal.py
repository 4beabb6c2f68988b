"""The requester's pages: raise a ticket, follow my tickets, reply, close and reopen."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from supportdesk.attachments.web import file_store, uploads_from
from supportdesk.core.apikit import parse_query
from supportdesk.core.db import db
from supportdesk.core.errors import InvalidTransition, ValidationError
from supportdesk.core.web import form_errors, options
from supportdesk.notifications import preferences
from supportdesk.notifications.models import NotificationKind
from supportdesk.satisfaction import reads as satisfaction
from supportdesk.tickets import categories, lifecycle, links, policy, reads, service
from supportdesk.tickets.forms import NewTicketForm, RequesterReplyForm, VersionForm
from supportdesk.tickets.lifecycle import ACTIVE_STATUSES, DONE_STATUSES, Priority, Status
from supportdesk.tickets.paging import PageRequest, PortalQuery, Sort, TicketFilters
from supportdesk.tickets.web import desk_rules

bp = Blueprint("portal", __name__, url_prefix="/portal")

TABS = {"open": ACTIVE_STATUSES, "closed": DONE_STATUSES}


@bp.get("/")
@login_required
def home() -> str:
    query = parse_query(PortalQuery, request.args)
    page = reads.list_tickets(
        db.session(),
        current_user,
        TicketFilters(statuses=frozenset(TABS[query.tab]), requester_id=current_user.id, text=query.q),
        Sort(),
        PageRequest(cursor=query.cursor),
    )
    return render_template("portal/home.html", page=page, tab=query.tab, query=query.q or "")


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_ticket() -> Response | str | tuple[str, int]:
    form = NewTicketForm()
    allowed = (
        list(Priority)
        if current_user.is_staff
        else sorted(lifecycle.REQUESTER_PRIORITIES, key=lambda p: p.rank)
    )
    form.priority.choices = options((p.value, p.value.capitalize()) for p in allowed)
    if form.validate_on_submit():
        try:
            with db.transaction() as session:
                ticket = service.create_ticket(
                    session,
                    current_user,
                    subject=form.subject.data,
                    description=form.description.data or "",
                    priority=Priority(form.priority.data),
                    category_id=form.category.data,
                    uploads=uploads_from(),
                    files=file_store(),
                    creation_key=form.submission.data or None,
                )
        except service.AlreadyCreated as earlier:  # the same form sent twice: the first one's ticket
            return redirect(url_for("portal.ticket", number=earlier.number))
        except ValidationError as error:
            form_errors(form, error)
        else:
            if preferences.wants_email(db.session(), current_user, NotificationKind.CREATED):
                flash(
                    f"Ticket {ticket.reference} is raised. We have emailed you a confirmation at "
                    f"{current_user.email} and will email you when the desk replies.",
                    "success",
                )
            else:
                flash(f"Ticket {ticket.reference} is raised. The desk's replies will show here.", "success")
            return redirect(url_for("portal.ticket", number=ticket.number))
    form.category.choices = options(
        [(None, "Not sure"), *((c.id, c.name) for c in categories.list_categories(db.session()))]
    )
    status = 422 if form.errors else 200
    return render_template("portal/new.html", form=form), status


@bp.get("/similar")
@login_required
def similar() -> str:
    """While the subject is typed: up to five of the requester's tickets that look like it."""
    subject = request.args.get("subject", "")[:200]
    matches = reads.suggest_similar(db.session(), current_user, subject) if len(subject.strip()) >= 3 else []
    return render_template("portal/_similar.html", matches=matches)


@bp.get("/tickets/<id:number>")
@login_required
def ticket(number: int) -> Response | str:
    if policy.may_use_desk(current_user):
        return redirect(url_for("desk.ticket", number=number))
    return _ticket_page(number)


@bp.post("/tickets/<id:number>/reply")
@login_required
def reply(number: int) -> Response | str | tuple[str, int]:
    form = RequesterReplyForm()
    if form.validate_on_submit():
        try:
            with db.transaction() as session:
                service.add_comment(
                    session, current_user, number, form.body.data, uploads=uploads_from(), files=file_store()
                )
        except (ValidationError, InvalidTransition) as error:
            form_errors(form, error)
        else:
            flash("Your reply is sent.", "success")
            return redirect(url_for("portal.ticket", number=number, _anchor="conversation"))
    return _ticket_page(number, reply_form=form), 422


@bp.post("/tickets/<id:number>/<any(close, reopen):action>")
@login_required
def change_status(number: int, action: str) -> Response | str | tuple[str, int]:
    form = VersionForm()
    if not form.validate_on_submit():
        return _ticket_page(number), 400
    target = Status.CLOSED if action == "close" else Status.OPEN
    try:
        with db.transaction() as session:
            service.transition(session, current_user, number, target, rules=desk_rules())
    except InvalidTransition as error:
        flash(error.detail, "warning")
    else:
        flash(
            "Glad it is solved: the ticket is closed." if action == "close" else "The ticket is open again.",
            "success",
        )
    return redirect(url_for("portal.ticket", number=number))


def _ticket_page(
    number: int, reply_form: RequesterReplyForm | None = None, rating_form: FlaskForm | None = None
) -> str:
    shown = reads.conversation(db.session(), current_user, number, with_events=False)
    ticket = shown.ticket
    return render_template(
        "portal/ticket.html",
        ticket=ticket,
        comments=shown.comments,
        attachments=shown.attachments,
        reply_form=reply_form or RequesterReplyForm(),
        can_reopen=ticket.merged_into_id is None
        and Status.OPEN in lifecycle.allowed_transitions(ticket.status, current_user.role),
        reopen_days=desk_rules().reopen_window.days,
        rating=satisfaction.rating_state_for(db.session(), current_user, ticket),
        rating_form=rating_form,
        links=links.links_of(db.session(), current_user, ticket),
    )
