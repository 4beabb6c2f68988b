"""Routing and automatic assignment through the JSON API: each team's assignment and leads, the
routing rules, who is taking tickets (the desk reads them, admins change them; a technician switches
their own availability). Each write is one unit of work."""

from __future__ import annotations

from http import HTTPStatus

from flask import Response

from supportdesk.core.apikit import bp, current_actor, json_response, registry
from supportdesk.core.db import db
from supportdesk.core.origin import request_origin
from supportdesk.routing import availability, settings
from supportdesk.routing.models import RoutingRule
from supportdesk.routing.schemas import (
    AvailabilityIn,
    AvailabilityOut,
    RuleIn,
    RuleList,
    RuleOut,
    TeamAssignmentIn,
    TeamAssignmentList,
    TeamAssignmentOut,
    TechnicianList,
    TechnicianOut,
)
from supportdesk.routing.settings import TeamSetup

TAG = "Routing and assignment"


def setup_out(setup: TeamSetup) -> TeamAssignmentOut:
    return TeamAssignmentOut(
        team_id=setup.team_id,
        team_name=setup.team_name,
        mode=setup.mode,
        max_open=setup.max_open,
        lead_ids=setup.lead_ids,
    )


def rule_out(rule: RoutingRule) -> RuleOut:
    return RuleOut(
        id=rule.id,
        name=rule.name,
        position=rule.position,
        category_id=rule.category_id,
        keywords=rule.keywords,
        team_id=rule.team_id,
    )


@registry.route(
    bp,
    "/routing/teams",
    "GET",
    summary="Each team's automatic assignment and leads",
    tag=TAG,
    responses={200: TeamAssignmentList},
)
def list_team_assignments() -> Response:
    setups = settings.team_setups(db.session(), current_actor())
    return json_response(TeamAssignmentList(items=[setup_out(s) for s in setups]))


@registry.route(
    bp,
    "/routing/teams/<id:team_id>",
    "PUT",
    summary="Set a team's automatic assignment and leads (admins)",
    tag=TAG,
    body=TeamAssignmentIn,
    responses={200: TeamAssignmentOut},
)
def replace_team_assignment(team_id: int, body: TeamAssignmentIn) -> Response:
    with db.transaction() as session:
        setup = settings.save_team_setup(
            session,
            current_actor(),
            team_id,
            mode=body.mode,
            max_open=body.max_open,
            lead_ids=body.lead_ids,
            origin=request_origin("api"),
        )
    return json_response(setup_out(setup))


@registry.route(
    bp,
    "/routing/rules",
    "GET",
    summary="Routing rules, in the order they are tried",
    tag=TAG,
    responses={200: RuleList},
)
def list_routing_rules() -> Response:
    rules = settings.list_rules(db.session(), current_actor())
    return json_response(RuleList(items=[rule_out(r) for r in rules]))


@registry.route(
    bp,
    "/routing/rules",
    "POST",
    summary="Create a routing rule (admins)",
    tag=TAG,
    body=RuleIn,
    responses={201: RuleOut},
)
def create_routing_rule(body: RuleIn) -> Response:
    with db.transaction() as session:
        rule = settings.save_rule(session, current_actor(), **body.model_dump(), origin=request_origin("api"))
        out = rule_out(rule)
    return json_response(out, HTTPStatus.CREATED)


@registry.route(
    bp,
    "/routing/rules/<id:rule_id>",
    "PUT",
    summary="Replace a routing rule (admins)",
    tag=TAG,
    body=RuleIn,
    responses={200: RuleOut},
)
def replace_routing_rule(rule_id: int, body: RuleIn) -> Response:
    with db.transaction() as session:
        rule = settings.save_rule(
            session, current_actor(), rule_id=rule_id, **body.model_dump(), origin=request_origin("api")
        )
        out = rule_out(rule)
    return json_response(out)


@registry.route(
    bp,
    "/routing/rules/<id:rule_id>",
    "DELETE",
    summary="Delete a routing rule (admins)",
    tag=TAG,
    responses={204: None},
)
def delete_routing_rule(rule_id: int) -> Response:
    with db.transaction() as session:
        settings.delete_rule(session, current_actor(), rule_id, origin=request_origin("api"))
    return Response(status=HTTPStatus.NO_CONTENT)


@registry.route(
    bp,
    "/routing/technicians",
    "GET",
    summary="Technicians: whether each is taking tickets, and their open tickets",
    tag=TAG,
    responses={200: TechnicianList},
)
def list_technicians() -> Response:
    loads = availability.technician_loads(db.session(), current_actor())
    return json_response(
        TechnicianList(
            items=[
                TechnicianOut(
                    user_id=t.user_id, name=t.name, available=t.available, open_tickets=t.open_tickets
                )
                for t in loads
            ]
        )
    )


@registry.route(
    bp,
    "/routing/availability",
    "PUT",
    summary="Say whether you are taking tickets (automatic assignment only gives them to those who are)",
    tag=TAG,
    body=AvailabilityIn,
    responses={200: AvailabilityOut},
)
def set_my_availability(body: AvailabilityIn) -> Response:
    with db.transaction() as session:
        availability.set_available(session, current_actor(), body.available)
    return json_response(AvailabilityOut(available=body.available))
