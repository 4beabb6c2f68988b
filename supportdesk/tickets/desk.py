"""The technicians' desk: queue views, filters, search, bulk actions, and the ticket workspace."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from pydantic import ConfigDict
from werkzeug.wrappers import Response

from supportdesk.attachments.web import file_store, uploads_from
from supportdesk.core import clock, staleforms
from supportdesk.core.apikit import Schema, parse_query
from supportdesk.core.db import db
from supportdesk.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from supportdesk.core.web import form_errors, options, parse_id, safe_next
from supportdesk.routing import availability
from supportdesk.satisfaction import reads as satisfaction
from supportdesk.sla import reads as service_levels
from supportdesk.tickets import (
    collisions,
    drafts,
    incidents,
    lifecycle,
    links,
    policy,
    queues,
    reads,
    service,
)
from supportdesk.tickets import presence as ticket_presence
from supportdesk.tickets.choices import FieldChoices, field_choices
from supportdesk.tickets.forms import (
    BulkForm,
    DraftForm,
    PresenceForm,
    ReplyForm,
    TicketFieldsForm,
    VersionForm,
    optional_id,
)
from supportdesk.tickets.lifecycle import Priority, Status
from supportdesk.tickets.paging import Cursor, PageRequest, SearchText, Sort, TicketFilters, TicketQuery
from supportdesk.tickets.service import TicketChanges
from supportdesk.tickets.summaries import TicketPage
from supportdesk.tickets.web import desk_rules

bp = Blueprint("desk", __name__, url_prefix="/desk")


class DeskQuery(TicketQuery):
    """The queue page's query string: a view, narrowed by the same filters the API takes. Parameters it
    does not know (a bookmark's tracking tag, say) are ignored, as pages do."""

    model_config = ConfigDict(extra="ignore")
    view: queues.QueueView = queues.QueueView.UNASSIGNED


@bp.before_request
@login_required
def _desk_only() -> None:
    if not policy.may_use_desk(current_user):
        raise NotFound("This page is for the support desk.")


@bp.get("/")
def home() -> str:
    session = db.session()
    query = parse_query(DeskQuery, request.args)
    page = reads.list_tickets(
        session, current_user, query.filters(queues.view_filters(query.view)), query.sort, query.page()
    )
    return render_template(
        "desk/home.html",
        page=page,
        view=query.view,
        views=queues.views_for(service_levels.in_use(session)),
        counts=queues.queue_counts(session, current_user),
        available=availability.is_available(session, current_user.id),
        due=service_levels.next_due(session, page.items, clock.now())
        if service_levels.in_use(session)
        else None,
        sort=str(query.sort),
        choices=field_choices(session),
        search_text=query.q or "",
        search_view=query.view,
        # A plain dict: the template asks for missing keys dozens of times, and each miss on werkzeug's
        # MultiDict builds (and swallows) an HTTP exception.
        args=request.args.to_dict(),
    )


class SearchQuery(Schema):
    """The top bar's search: words, a ticket number, a requester's name or address; optionally only
    within the queue view it was typed in."""

    model_config = ConfigDict(extra="ignore")
    q: SearchText = None
    view: queues.QueueView | None = None
    cursor: Cursor = None


@bp.get("/search")
def search() -> Response | str:
    session = db.session()
    query = parse_query(SearchQuery, request.args)
    text = query.q or ""
    number = reads.ticket_number_in(text)
    if number is not None and query.cursor is None:
        try:
            reads.read_ticket(session, current_user, number)
        except NotFound:
            pass  # not a ticket this user may open: the words may still be in some ticket's text
        else:
            return redirect(url_for("desk.ticket", number=number))
    base = queues.view_filters(query.view) if query.view else TicketFilters()
    page = (
        reads.list_tickets(
            session, current_user, replace(base, text=text), Sort(), PageRequest(cursor=query.cursor)
        )
        if text
        else TicketPage([])
    )
    return render_template(
        "desk/search.html", page=page, text=text, view=query.view, search_text=text, search_view=query.view
    )


@bp.post("/bulk")
def bulk() -> Response:
    form = BulkForm()
    back = safe_next(form.next.data, url_for("desk.home"), within="/desk/")
    if not form.validate_on_submit():
        flash("Choose tickets and what to change.", "warning")
        return redirect(back)
    try:
        numbers = [parse_id(n) for n in request.form.getlist("tickets")]
        changes = _bulk_change(form.change.data)
        with db.transaction() as session:
            result = service.bulk_update(session, current_user, numbers, changes, desk_rules())
    except (ValueError, ValidationError) as error:
        flash(getattr(error, "detail", "Those tickets or that change are not valid."), "warning")
        return redirect(back)
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
        if internal and form.to_children.data:
            form.to_children.errors = ["Only a public reply goes to the linked tickets' requesters."]
            return _workspace(number, reply_form=form), 422
        try:
            with db.transaction() as session:
                service.add_comment(
                    session,
                    current_user,
                    number,
                    form.body.data,
                    internal=internal,
                    expected_version=None,
                    uploads=uploads_from(),
                    files=file_store(),
                    seen_event=None if form.send_anyway.data else form.seen.data,
                )
                reached = (
                    incidents.reply_to_children(session, current_user, number, form.body.data)
                    if form.to_children.data
                    else []
                )
                then = Status(form.then_status.data) if form.then_status.data else None
                if then is not None:
                    service.update_fields(
                        session, current_user, number, TicketChanges(status=then), None, None, desk_rules()
                    )
        except service.NewsSinceSeen as news:
            return _hold_back(number, form, news.seen_event)
        except (ValidationError, InvalidTransition, PermissionDenied) as error:
            form_errors(form, error)
        else:
            sent = "Internal note added" if internal else "Reply sent to the requester"
            if reached:
                sent += f" and to the requesters of {len(reached)} linked ticket(s)"
            flash(f"{sent}; the ticket is now {then.label.lower()}." if then else f"{sent}.", "success")
            return _after_reply(number, _queue_of(form.queue.data), bool(form.then_next.data))
    return _workspace(number, reply_form=form), 422


def _queue_of(value: str | None) -> queues.QueueView | None:
    try:
        return queues.QueueView(value) if value else None
    except ValueError:
        return None


def _view_it_came_from() -> str | None:
    """The queue view whose list the ticket was opened from (the link's Referer), if it was one."""
    referrer = request.referrer
    if not referrer or not staleforms.from_this_site():
        return None
    parts = urlsplit(referrer)
    if parts.path != url_for("desk.home"):
        return None
    return parse_qs(parts.query).get("view", [queues.QueueView.UNASSIGNED.value])[0]


def _after_reply(number: int, queue: queues.QueueView | None, then_next: bool) -> Response:
    """Back to the ticket, or on to the ticket after it in the queue view it was opened from."""
    if then_next and queue is not None:
        following = queues.next_ticket(db.session(), current_user, queue, number)
        if following is not None:
            onward: dict[str, Any] = {"number": following, "from": queue.value}
            return redirect(url_for("desk.ticket", **onward))
        flash(f"That was the last ticket in {queue.label}.", "info")
    values: dict[str, Any] = {"number": number, "_anchor": "conversation"}
    if queue is not None:
        values["from"] = queue.value
    return redirect(url_for("desk.ticket", **values))


@bp.post("/tickets/<id:number>/presence")
def presence(number: int) -> tuple[str, int]:
    """The ticket page's heartbeat: who else has the ticket open, as a fragment the page shows."""
    form = PresenceForm()
    if not form.validate_on_submit():
        return "Not understood.", 422
    try:
        with db.transaction() as session:
            others = ticket_presence.beat(
                session,
                current_user,
                number,
                typing=form.typing.data == "1",
                leaving=form.leaving.data == "1",
            )
    except NotFound as error:
        return error.detail, error.status
    return render_template("desk/_presence.html", others=others), 200


@bp.post("/tickets/<id:number>/draft")
def save_draft(number: int) -> tuple[str, int]:
    """The composer's text, sent by the page a moment after the user stops typing (no page of its own:
    204, or the refusal as plain text)."""
    form = DraftForm()
    if not form.validate_on_submit():
        return "The draft was not understood.", 422
    try:
        with db.transaction() as session:
            drafts.save_draft(
                session, current_user, number, form.body.data or "", form.visibility.data or None
            )
    except (ValidationError, PermissionDenied, NotFound) as error:
        return error.detail, error.status
    return "", 204


@staleforms.rescue("desk.reply")
def _keep_a_refused_reply() -> Response | None:
    """A reply refused as stale (its page's token no longer matches) becomes the user's draft, and the
    ticket shows it again in the composer with a word on what happened."""
    number = (request.view_args or {}).get("number")
    body = request.form.get("body", "")
    if not isinstance(number, int) or not body.strip() or not policy.may_use_desk(current_user):
        return None
    visibility = request.form.get("visibility")
    try:
        with db.transaction() as session:
            drafts.save_draft(
                session, current_user, number, body, visibility if visibility in drafts.VISIBILITIES else None
            )
    except (ValidationError, PermissionDenied, NotFound):
        return None
    flash(
        "This page had expired, so your reply was not sent. It is back in the box below: check it and "
        "send it again.",
        "warning",
    )
    return redirect(url_for("desk.ticket", number=number, _anchor="reply"))


def _hold_back(number: int, form: ReplyForm, seen: int) -> Response:
    """A reply the ticket's news holds back: kept as the draft, and the ticket shown again (a GET, so a
    reload sends nothing) with what arrived since the writer's page opened."""
    with db.transaction() as session:
        drafts.save_draft(session, current_user, number, form.body.data, form.visibility.data)
    if request.files.getlist("attachments") and any(f.filename for f in request.files.getlist("attachments")):
        flash("The files you attached were not kept: attach them again when you send.", "warning")
    return redirect(url_for("desk.ticket", number=number, since=seen, _anchor="reply"), 303)


@bp.post("/tickets/<id:number>/update")
def update(number: int) -> Response | tuple[str, int]:
    form = TicketFieldsForm()
    _fill_choices(form, field_choices(db.session(), fresh=True))
    if not form.validate_on_submit():
        return _workspace(number, fields_form=form), 422
    asked = TicketChanges(
        status=Status(form.status.data),
        priority=Priority(form.priority.data),
        assignee_id=form.assignee.data,
        team_id=form.team.data,
        category_id=form.category.data,
    )
    try:
        shown = _shown_fields(form)
    except ValueError:
        flash("The form was damaged on its way; reload the page and try again.", "danger")
        return _workspace(number, fields_form=form), 422
    try:
        with db.transaction() as session:
            _, changed = service.update_fields(
                session, current_user, number, asked, shown, form.version.data, desk_rules()
            )
    except Conflict:
        # Shown again (a GET, so a reload sends nothing) with who changed what and the user's choices.
        values: dict[str, Any] = {f"keep_{name}": v for name, v in _asked_fields(form, shown).items()}
        values.update(number=number, since=form.seen.data or 0)
        return redirect(url_for("desk.ticket", **values), 303)
    except (InvalidTransition, ValidationError, PermissionDenied) as error:
        flash(error.detail, "danger")
        return _workspace(number), error.status
    if changed:
        flash("Ticket updated.", "success")
    else:
        flash("Nothing to save: no field was changed.", "info")
    return redirect(url_for("desk.ticket", number=number))


SIDEBAR_FIELDS = ("status", "priority", "assignee", "team", "category")


def _asked_fields(form: TicketFieldsForm, shown: TicketChanges | None) -> dict[str, str]:
    """The sidebar's fields the user changed, as the form sent them (all of them for an older page)."""
    names = {"assignee": "assignee_id", "team": "team_id", "category": "category_id"}
    asked = {}
    for name in SIDEBAR_FIELDS:
        value = getattr(form, name).data
        was = getattr(shown, names.get(name, name)) if shown is not None else None
        if shown is None or value != was:
            asked[name] = "" if value is None else str(value)
    return asked


def _shown_fields(form: TicketFieldsForm) -> TicketChanges | None:
    """What the sidebar showed when the page was drawn; None for a form that does not say (an older
    page), which is then held to its version instead. ValueError when a value is not one."""
    shown = [form.shown_status, form.shown_priority, form.shown_assignee, form.shown_team]
    if any(field.name not in request.form for field in [*shown, form.shown_category]):
        return None
    return TicketChanges(
        status=Status(form.shown_status.data),
        priority=Priority(form.shown_priority.data),
        assignee_id=optional_id(form.shown_assignee.data),
        team_id=optional_id(form.shown_team.data),
        category_id=optional_id(form.shown_category.data),
    )


@bp.post("/tickets/<id:number>/assign-to-me")
def assign_to_me(number: int) -> Response | tuple[str, int]:
    form = VersionForm()
    if not form.validate_on_submit():
        return _workspace(number), 400
    return _apply(number, TicketChanges(assignee_id=current_user.id), form.version.data)


def _apply(number: int, changes: TicketChanges, version: int | None) -> Response | tuple[str, int]:
    try:
        with db.transaction() as session:
            service.update_ticket(session, current_user, number, changes, version, desk_rules())
    except Conflict:
        return _stale(number)
    except (InvalidTransition, ValidationError, PermissionDenied) as error:
        flash(error.detail, "danger")
        return _workspace(number), error.status
    flash("Ticket updated.", "success")
    return redirect(url_for("desk.ticket", number=number))


def _stale(number: int) -> Response:
    flash(
        "Someone else changed this ticket since you opened it. Here is its current state; your "
        "change was not applied. Check it and try again.",
        "warning",
    )
    return redirect(url_for("desk.ticket", number=number), 303)


def _workspace(
    number: int, reply_form: ReplyForm | None = None, fields_form: TicketFieldsForm | None = None
) -> str:
    session = db.session()
    shown = reads.conversation(session, current_user, number)
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
    choices = field_choices(session)
    _fill_choices(form, choices)
    form.status.choices = options(
        (s.value, s.label)
        for s in Status
        if s is ticket.status or s in lifecycle.allowed_transitions(ticket.status, current_user.role)
    )
    reply = reply_form or ReplyForm(formdata=None)
    if reply_form is None:
        draft = drafts.read_draft(session, current_user, ticket.id)
        if draft is not None:
            reply.body.data, reply.visibility.data = draft.body, draft.visibility
    if fields_form is not None and fields_form.errors:
        form.version.errors = [*fields_form.version.errors]
    kept = _keep_choices(form)
    since = request.args.get("since", type=int)
    news = []
    if since is not None:
        kinds = collisions.FIELD_NEWS if kept else collisions.REPLY_NEWS
        news = collisions.news_since(shown.events, since, current_user.id, kinds)
    return render_template(
        "desk/ticket.html",
        ticket=ticket,
        comments=shown.comments,
        attachments=shown.attachments,
        events=shown.events,
        names=choices.names(),
        reply_form=reply,
        fields_form=form,
        seen=shown.events[-1].id if shown.events else 0,
        news=news,
        news_for="fields" if kept else "reply",
        presence_every=ticket_presence.HEARTBEAT_SECONDS,
        queue=_queue_of(
            request.args.get("from")
            or (reply_form.queue.data if reply_form else None)
            or _view_it_came_from()
        ),
        bodies={c.id: c.body for c in shown.comments},
        targets=service_levels.targets(session, ticket, clock.now()),
        ratings=satisfaction.ratings_on_page(session, ticket.id, shown.events),
        links=links.links_of(session, current_user, ticket),
    )


def _keep_choices(form: TicketFieldsForm) -> bool:
    """After a refused sidebar save (see `update`), its choices come back in the query string: they are
    shown selected again, over the ticket's current values, for the user to save again."""
    kept = False
    for name in SIDEBAR_FIELDS:
        value = request.args.get(f"keep_{name}")
        if value is None:
            continue
        field = getattr(form, name)
        if value in {choice.value for choice in field.choices}:
            field.data = value if name in ("status", "priority") else optional_id(value)
            kept = True
    return kept


def _fill_choices(form: TicketFieldsForm, choices: FieldChoices) -> None:
    form.assignee.choices = options([(None, "Unassigned"), *choices.staff])
    form.team.choices = options([(None, "No team"), *choices.teams])
    form.category.choices = options([(None, "No category"), *choices.categories])


def _bulk_change(change: str) -> TicketChanges:
    kind, _, value = change.partition(":")
    if kind == "assign":
        return TicketChanges(assignee_id=None if value == "none" else parse_id(value))
    if kind == "status":
        return TicketChanges(status=Status(value))
    if kind == "priority":
        return TicketChanges(priority=Priority(value))
    raise ValidationError.single("change", "choose an assignee, a status or a priority")
