"""The service-level settings through the JSON API: calendars and policies (the desk reads them,
admins change them). Each write is one unit of work."""

from __future__ import annotations

from http import HTTPStatus

from flask import Response

from supportdesk.core.apikit import bp, current_actor, json_response, registry
from supportdesk.core.db import db
from supportdesk.core.origin import request_origin
from supportdesk.sla import next_ticket, settings
from supportdesk.sla.models import BusinessCalendar, SlaPolicy
from supportdesk.sla.schemas import CalendarIn, CalendarList, CalendarOut, PolicyIn, PolicyList, PolicyOut
from supportdesk.tickets.api import ticket_out
from supportdesk.tickets.schemas import TicketOut

TAG = "Service levels"


def calendar_out(calendar: BusinessCalendar) -> CalendarOut:
    return CalendarOut(
        id=calendar.id,
        name=calendar.name,
        zone=calendar.zone,
        weekly=calendar.weekly,
        holidays=calendar.holidays,
    )


def policy_out(found: SlaPolicy) -> PolicyOut:
    return PolicyOut(
        id=found.id,
        name=found.name,
        position=found.position,
        calendar_id=found.calendar_id,
        priority=found.priority,
        category_id=found.category_id,
        team_id=found.team_id,
        first_response_minutes=found.first_response_minutes,
        resolution_minutes=found.resolution_minutes,
        warning_minutes=found.warning_minutes,
        escalate_priority=found.escalate_priority,
        escalate_to_team_id=found.escalate_to_team_id,
    )


@registry.route(
    bp, "/sla/calendars", "GET", summary="Business calendars", tag=TAG, responses={200: CalendarList}
)
def list_calendars() -> Response:
    items = settings.list_calendars(db.session(), current_actor())
    return json_response(CalendarList(items=[calendar_out(c) for c in items]))


@registry.route(
    bp,
    "/sla/calendars",
    "POST",
    summary="Create a business calendar (admins)",
    tag=TAG,
    body=CalendarIn,
    responses={201: CalendarOut},
)
def create_calendar(body: CalendarIn) -> Response:
    with db.transaction() as session:
        calendar = settings.save_calendar(
            session, current_actor(), **body.model_dump(), origin=request_origin("api")
        )
    return json_response(calendar_out(calendar), HTTPStatus.CREATED)


@registry.route(
    bp,
    "/sla/calendars/<id:calendar_id>",
    "PUT",
    summary="Replace a business calendar (admins); open tickets are recomputed",
    tag=TAG,
    body=CalendarIn,
    responses={200: CalendarOut},
)
def replace_calendar(calendar_id: int, body: CalendarIn) -> Response:
    with db.transaction() as session:
        calendar = settings.save_calendar(
            session,
            current_actor(),
            calendar_id=calendar_id,
            **body.model_dump(),
            origin=request_origin("api"),
        )
    return json_response(calendar_out(calendar))


@registry.route(
    bp,
    "/sla/calendars/<id:calendar_id>",
    "DELETE",
    summary="Delete a business calendar no policy uses (admins)",
    tag=TAG,
    responses={204: None},
)
def delete_calendar(calendar_id: int) -> Response:
    with db.transaction() as session:
        settings.delete_calendar(session, current_actor(), calendar_id, origin=request_origin("api"))
    return Response(status=HTTPStatus.NO_CONTENT)


@registry.route(
    bp,
    "/sla/policies",
    "GET",
    summary="Service-level policies, in the order they are tried",
    tag=TAG,
    responses={200: PolicyList},
)
def list_policies() -> Response:
    items = settings.list_policies(db.session(), current_actor())
    return json_response(PolicyList(items=[policy_out(p) for p in items]))


@registry.route(
    bp,
    "/sla/policies",
    "POST",
    summary="Create a service-level policy (admins); open tickets are recomputed",
    tag=TAG,
    body=PolicyIn,
    responses={201: PolicyOut},
)
def create_policy(body: PolicyIn) -> Response:
    with db.transaction() as session:
        found = settings.save_policy(
            session, current_actor(), **body.model_dump(), origin=request_origin("api")
        )
    return json_response(policy_out(found), HTTPStatus.CREATED)


@registry.route(
    bp,
    "/sla/policies/<id:policy_id>",
    "PUT",
    summary="Replace a service-level policy (admins); open tickets are recomputed",
    tag=TAG,
    body=PolicyIn,
    responses={200: PolicyOut},
)
def replace_policy(policy_id: int, body: PolicyIn) -> Response:
    with db.transaction() as session:
        found = settings.save_policy(
            session, current_actor(), policy_id=policy_id, **body.model_dump(), origin=request_origin("api")
        )
    return json_response(policy_out(found))


@registry.route(
    bp,
    "/sla/policies/<id:policy_id>",
    "DELETE",
    summary="Delete a service-level policy (admins); open tickets are recomputed",
    tag=TAG,
    responses={204: None},
)
def delete_policy(policy_id: int) -> Response:
    with db.transaction() as session:
        settings.delete_policy(session, current_actor(), policy_id, origin=request_origin("api"))
    return Response(status=HTTPStatus.NO_CONTENT)


@registry.route(
    bp,
    "/tickets/next",
    "POST",
    summary="Take the next ticket: the most urgent unassigned one of your teams, assigned to you",
    tag="Tickets",
    responses={200: TicketOut, 204: None},
)
def take_next_ticket() -> Response:
    with db.transaction() as session:
        ticket = next_ticket.take_next(session, current_actor())
        body = None if ticket is None else ticket_out(ticket, for_desk=True)
    if body is None:
        return Response(status=HTTPStatus.NO_CONTENT)
    return json_response(body)
