"""The ticket API (tickets, their conversation and audit trail, and categories): thin handlers over the
same services the pages use."""

from __future__ import annotations

import re
from http import HTTPStatus

from flask import Response, request

from supportdesk.core.apikit import ApiError, bp, current_actor, json_response, registry
from supportdesk.core.db import db
from supportdesk.core.errors import Conflict, FieldError
from supportdesk.tickets import categories, incidents, policy, reads, service, summaries, walk_ins
from supportdesk.tickets.models import Category, Comment, Ticket, TicketEvent
from supportdesk.tickets.paging import TicketQuery
from supportdesk.tickets.schemas import (
    CategoryCreate,
    CategoryList,
    CategoryOut,
    CategoryPatch,
    CommentCreate,
    CommentList,
    CommentOut,
    EventList,
    EventOut,
    Ref,
    ServiceLevelOut,
    TicketCreate,
    TicketList,
    TicketOut,
    TicketPatch,
    UserRef,
)
from supportdesk.tickets.web import desk_rules

TAG = "Tickets"
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')


def ticket_out(ticket: Ticket | summaries.TicketSummary, *, for_desk: bool = False) -> TicketOut:
    """A ticket, or a list's summary of one: both name what they point at the same way. Service
    levels are the desk's business: requesters never see them."""
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
        service_level=_service_level(ticket) if for_desk else None,
    )


def _service_level(ticket: Ticket | summaries.TicketSummary) -> ServiceLevelOut | None:
    if ticket.sla_policy_id is None:
        return None
    return ServiceLevelOut(
        policy_id=ticket.sla_policy_id,
        first_response_due_at=ticket.first_response_due_at,
        first_response_breached=ticket.first_response_breached,
        resolution_due_at=ticket.resolution_due_at,
        resolution_breached=ticket.resolution_breached,
        next_due_at=ticket.next_due_at,
    )


def comment_out(comment: Comment | summaries.CommentSummary) -> CommentOut:
    return CommentOut(
        id=comment.id,
        author=UserRef(id=comment.author.id, full_name=comment.author.full_name),
        body=comment.body,
        internal=comment.internal,
        created_at=comment.created_at,
    )


def event_out(event: TicketEvent | summaries.EventSummary) -> EventOut:
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


def etag(ticket: Ticket | summaries.TicketSummary) -> str:
    return f'"{ticket.version}"'


def _ticket_response(
    ticket: Ticket | summaries.TicketSummary, status: int = HTTPStatus.OK, **headers: str
) -> Response:
    body = ticket_out(ticket, for_desk=policy.may_use_desk(current_actor()))
    return json_response(body, status, {"ETag": etag(ticket), **headers})


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
    actor = current_actor()
    page = reads.list_tickets(db.session(), actor, query.filters(), query.sort, query.page())
    for_desk = policy.may_use_desk(actor)
    items = [ticket_out(t, for_desk=for_desk) for t in page.items]
    return json_response(TicketList(items=items, next_cursor=page.next_cursor))


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
    actor = current_actor()
    ticket: Ticket | summaries.TicketSummary
    try:
        with db.transaction() as session:
            requester_id = body.requester_id
            creation_key = request.headers.get("Idempotency-Key")
            if body.new_requester is not None:
                requester_id = walk_ins.requester_for_new_person(
                    session,
                    actor,
                    email=body.new_requester.email,
                    full_name=body.new_requester.full_name,
                    creation_key=creation_key,
                )
            ticket = service.create_ticket(
                session,
                actor,
                subject=body.subject,
                description=body.description,
                priority=body.priority,
                category_id=body.category_id,
                requester_id=requester_id,
                team_id=body.team_id,
                assignee_id=body.assignee_id,
                creation_key=creation_key,
            )
    except service.AlreadyCreated as earlier:
        ticket = reads.read_ticket(db.session(), actor, earlier.number)
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
    return _ticket_response(reads.read_ticket(db.session(), current_actor(), number))


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
    actor = current_actor()
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
        with db.transaction() as session:
            ticket = service.update_ticket(
                session, actor, number, service.TicketChanges(**given), expected, desk_rules()
            )
    except Conflict as error:
        current = reads.read_ticket(db.session(), actor, number)
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
    comments = reads.list_comments(db.session(), current_actor(), number)
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
    with db.transaction() as session:
        if body.to_children:
            comment, _ = incidents.reply_with_children(
                session, current_actor(), number, body.body, internal=body.internal
            )
        else:
            comment = service.add_comment(session, current_actor(), number, body.body, internal=body.internal)
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
    events = reads.list_events(db.session(), current_actor(), number)
    return json_response(EventList(items=[event_out(e) for e in events]))


def category_out(category: Category) -> CategoryOut:
    return CategoryOut(
        id=category.id,
        name=category.name,
        default_team_id=category.default_team_id,
        is_active=category.is_active,
    )


@registry.route(
    bp,
    "/categories",
    "GET",
    summary="Categories and where they route",
    tag="Categories",
    responses={200: CategoryList},
)
def list_categories() -> Response:
    items = categories.categories_for(db.session(), current_actor())
    return json_response(CategoryList(items=[category_out(c) for c in items]))


@registry.route(
    bp,
    "/categories",
    "POST",
    summary="Create a category (admins)",
    tag="Categories",
    body=CategoryCreate,
    responses={201: CategoryOut},
)
def create_category(body: CategoryCreate) -> Response:
    with db.transaction() as session:
        category = categories.create_category(session, current_actor(), body.name, body.default_team_id)
    return json_response(category_out(category), HTTPStatus.CREATED)


@registry.route(
    bp,
    "/categories/<id:category_id>",
    "PATCH",
    summary="Change a category (admins)",
    tag="Categories",
    body=CategoryPatch,
    responses={200: CategoryOut},
)
def update_category(category_id: int, body: CategoryPatch) -> Response:
    with db.transaction() as session:
        category = categories.update_category(
            session,
            current_actor(),
            category_id,
            name=body.name,
            default_team_id=body.default_team_id,
            clear_default_team="default_team_id" in body.model_fields_set and body.default_team_id is None,
            is_active=body.is_active,
        )
    return json_response(category_out(category))
