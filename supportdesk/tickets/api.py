"""The ticket API: thin handlers over the same services the pages use."""

from __future__ import annotations

import re
from http import HTTPStatus

from flask import Response, request

from supportdesk.core.apikit import ApiError, bp, current_actor, json_response, registry
from supportdesk.core.db import db
from supportdesk.core.errors import Conflict, FieldError
from supportdesk.tickets import service
from supportdesk.tickets.models import Comment, Ticket, TicketEvent
from supportdesk.tickets.schemas import (
    CommentCreate,
    CommentList,
    CommentOut,
    EventList,
    EventOut,
    Ref,
    TicketCreate,
    TicketList,
    TicketOut,
    TicketPatch,
    TicketQuery,
    UserRef,
)
from supportdesk.tickets.web import desk_rules

TAG = "Tickets"
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')


def ticket_out(ticket: Ticket | service.TicketSummary) -> TicketOut:
    """A ticket, or a list's summary of one: both name what they point at the same way."""
    return TicketOut(
        id=ticket.id,
        number=ticket.number,
        reference=ticket.reference,
        subject=ticket.subject,
        description=ticket.description,
        status=ticket.status,
        priority=ticket.priority,
        requester=UserRef(id=ticket.requester.id, full_name=ticket.requester.full_name),
        assignee=UserRef(id=ticket.assignee.id, full_name=ticket.assignee.full_name)
        if ticket.assignee
        else None,
        team=Ref(id=ticket.team.id, name=ticket.team.name) if ticket.team else None,
        category=Ref(id=ticket.category.id, name=ticket.category.name) if ticket.category else None,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        first_response_at=ticket.first_response_at,
        resolved_at=ticket.resolved_at,
        closed_at=ticket.closed_at,
        version=ticket.version,
    )


def comment_out(comment: Comment | service.CommentSummary) -> CommentOut:
    return CommentOut(
        id=comment.id,
        author=UserRef(id=comment.author.id, full_name=comment.author.full_name),
        body=comment.body,
        internal=comment.internal,
        created_at=comment.created_at,
    )


def event_out(event: TicketEvent | service.EventSummary) -> EventOut:
    actor = UserRef(id=event.actor.id, full_name=event.actor.full_name) if event.actor else None
    return EventOut(
        id=event.id,
        kind=event.kind,
        actor=actor,
        old_value=event.old_value,
        new_value=event.new_value,
        comment_id=event.comment_id,
        created_at=event.created_at,
    )


def etag(ticket: Ticket | service.TicketSummary) -> str:
    return f'"{ticket.version}"'


def _ticket_response(
    ticket: Ticket | service.TicketSummary, status: int = HTTPStatus.OK, **headers: str
) -> Response:
    return json_response(ticket_out(ticket), status, {"ETag": etag(ticket), **headers})


@registry.route(
    bp,
    "/tickets",
    "GET",
    summary="List the tickets you may see",
    tag=TAG,
    query=TicketQuery,
    responses={200: TicketList},
)
def list_tickets(query: TicketQuery) -> Response:
    assignee: int | str | None = query.assignee
    if assignee is not None and assignee not in ("me", "none"):
        assignee = int(assignee)
    filters = service.TicketFilters(
        statuses=frozenset(query.status),
        priorities=frozenset(query.priority),
        assignee=assignee,
        requester_id=query.requester,
        team_ids=frozenset({query.team}) if query.team else frozenset(),
        category_id=query.category,
        text=query.q,
        updated_since=query.updated_since,
    )
    page = service.list_tickets(
        db.session(),
        current_actor(),
        filters,
        service.Sort.parse(query.sort),
        service.PageRequest(query.limit, query.cursor),
    )
    return json_response(TicketList(items=[ticket_out(t) for t in page.items], next_cursor=page.next_cursor))


@registry.route(
    bp,
    "/tickets",
    "POST",
    summary="Raise a ticket",
    tag=TAG,
    body=TicketCreate,
    responses={201: TicketOut},
    headers={"Idempotency-Key": "Retrying with the same key returns the first result"},
)
def create_ticket(body: TicketCreate) -> Response:
    ticket = service.create_ticket(
        db.session(),
        current_actor(),
        subject=body.subject,
        description=body.description,
        priority=body.priority,
        category_id=body.category_id,
        requester_id=body.requester_id,
        team_id=body.team_id,
        assignee_id=body.assignee_id,
        creation_key=request.headers.get("Idempotency-Key"),
    )
    return _ticket_response(ticket, HTTPStatus.CREATED, Location=f"/api/v1/tickets/{ticket.number}")


@registry.route(
    bp,
    "/tickets/<id:number>",
    "GET",
    summary="One ticket, with its ETag",
    tag=TAG,
    responses={200: TicketOut},
)
def get_ticket(number: int) -> Response:
    return _ticket_response(service.read_ticket(db.session(), current_actor(), number))


@registry.route(
    bp,
    "/tickets/<id:number>",
    "PATCH",
    summary="Change a ticket (If-Match required)",
    tag=TAG,
    body=TicketPatch,
    responses={200: TicketOut},
    headers={"If-Match": "The ETag of the ticket as you last read it"},
)
def update_ticket(number: int, body: TicketPatch) -> Response:
    session, actor = db.session(), current_actor()
    expected = _expected_version()
    given = {name: getattr(body, name) for name in body.model_fields_set}
    for name in ("status", "priority", "subject"):
        if name in given and given[name] is None:
            raise ApiError(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                f"{name} cannot be null",
                [FieldError(name, "cannot be null")],
            )
    try:
        ticket = service.update_ticket(
            session, actor, number, service.TicketChanges(**given), expected, desk_rules()
        )
    except Conflict as error:
        session.rollback()
        current = service.get_ticket(session, actor, number)
        raise ApiError(
            HTTPStatus.PRECONDITION_FAILED, f"{error.detail} Current ETag: {etag(current)}."
        ) from None
    return _ticket_response(ticket)


def _expected_version() -> int:
    header = request.headers.get("If-Match")
    if header is None:
        raise ApiError(
            HTTPStatus.PRECONDITION_REQUIRED,
            "Send If-Match with the ticket's ETag, so a stale change cannot overwrite another.",
        )
    match = _ETAG.match(header)
    if match is None:
        raise ApiError(HTTPStatus.PRECONDITION_FAILED, "If-Match does not match this ticket's ETag.")
    return int(match.group(1))


@registry.route(
    bp,
    "/tickets/<id:number>/comments",
    "GET",
    summary="The conversation you may read",
    tag=TAG,
    responses={200: CommentList},
)
def list_comments(number: int) -> Response:
    comments = service.list_comments(db.session(), current_actor(), number)
    return json_response(CommentList(items=[comment_out(c) for c in comments]))


@registry.route(
    bp,
    "/tickets/<id:number>/comments",
    "POST",
    summary="Reply, or add an internal note",
    tag=TAG,
    body=CommentCreate,
    responses={201: CommentOut},
)
def add_comment(number: int, body: CommentCreate) -> Response:
    comment = service.add_comment(db.session(), current_actor(), number, body.body, internal=body.internal)
    return json_response(comment_out(comment), HTTPStatus.CREATED)


@registry.route(
    bp,
    "/tickets/<id:number>/events",
    "GET",
    summary="The audit trail (the desk only)",
    tag=TAG,
    responses={200: EventList},
)
def list_events(number: int) -> Response:
    events = service.list_events(db.session(), current_actor(), number)
    return json_response(EventList(items=[event_out(e) for e in events]))
