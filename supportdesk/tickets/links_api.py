"""Duplicates and incidents in the API: what a ticket is linked to, similar open tickets (the desk),
merging a ticket into another, and linking it to (or out of) a parent incident."""

from __future__ import annotations

from http import HTTPStatus

from flask import Response
from pydantic import Field

from supportdesk.core.apikit import Id, Schema, bp, current_actor, json_response, registry
from supportdesk.core.db import db
from supportdesk.tickets import incidents, links, merging
from supportdesk.tickets.lifecycle import Status
from supportdesk.tickets.models import COMMENT_MAX

TAG = "Duplicates and incidents"


class LinkedOut(Schema):
    """Another ticket. `subject` is null when you may not see that ticket (it is someone else's)."""

    number: int
    status: Status | None
    subject: str | None


class LinksOut(Schema):
    number: int
    merged_into: LinkedOut | None
    merged_from: list[LinkedOut]
    parent: LinkedOut | None
    children: list[LinkedOut]


class SimilarList(Schema):
    items: list[LinkedOut]


class MergeIn(Schema):
    into: Id
    message: str | None = Field(default=None, max_length=COMMENT_MAX)
    copy_requester: bool = True


class ParentIn(Schema):
    parent: Id


def _linked(ticket: links.LinkedTicket) -> LinkedOut:
    return LinkedOut(
        number=ticket.number,
        status=ticket.status if ticket.subject is not None else None,
        subject=ticket.subject,
    )


def _links_out(shown: links.Links) -> LinksOut:
    return LinksOut(
        number=shown.ticket.number,
        merged_into=_linked(shown.merged_into) if shown.merged_into else None,
        merged_from=[
            LinkedOut(number=m.number, status=Status.CLOSED, subject=m.subject) for m in shown.merged_from
        ],
        parent=_linked(shown.parent) if shown.parent else None,
        children=[_linked(child) for child in shown.children],
    )


def _links_response(number: int, status: int = HTTPStatus.OK) -> Response:
    return json_response(_links_out(links.related(db.session(), current_actor(), number)), status)


@registry.route(
    bp,
    "/tickets/<id:number>/links",
    "GET",
    summary="Where a merged ticket went, what was merged into it, its incident and children",
    tag=TAG,
    responses={200: LinksOut},
)
def get_links(number: int) -> Response:
    return _links_response(number)


@registry.route(
    bp,
    "/tickets/<id:number>/similar",
    "GET",
    summary="Open tickets that read like this one, best match first (the desk only)",
    tag=TAG,
    responses={200: SimilarList},
)
def similar_tickets(number: int) -> Response:
    found = links.similar_open(db.session(), current_actor(), number)
    return json_response(SimilarList(items=[_linked(t) for t in found]))


@registry.route(
    bp,
    "/tickets/<id:number>/merge",
    "POST",
    summary="Merge this ticket into another (the desk only): closed, pointing at it, its requester told",
    tag=TAG,
    body=MergeIn,
    responses={200: LinksOut},
)
def merge_ticket(number: int, body: MergeIn) -> Response:
    with db.transaction() as session:
        merging.merge_ticket(
            session,
            current_actor(),
            number,
            body.into,
            message=body.message,
            copy_requester=body.copy_requester,
        )
    return _links_response(number)


@registry.route(
    bp,
    "/tickets/<id:number>/parent",
    "PUT",
    summary="Link this ticket to a parent incident (the desk only)",
    tag=TAG,
    body=ParentIn,
    responses={200: LinksOut},
)
def link_parent(number: int, body: ParentIn) -> Response:
    with db.transaction() as session:
        incidents.link_to_incident(session, current_actor(), number, body.parent)
    return _links_response(number)


@registry.route(
    bp,
    "/tickets/<id:number>/parent",
    "DELETE",
    summary="Take this ticket out of its incident (the desk only)",
    tag=TAG,
    responses={200: LinksOut},
)
def unlink_parent(number: int) -> Response:
    with db.transaction() as session:
        incidents.unlink_from_incident(session, current_actor(), number)
    return _links_response(number)
