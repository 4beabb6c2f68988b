"""Admins set up assignment, team leads, routing rules and the service levels' warnings and escalation
from the admin pages and the API; mistakes are said, never a 500, and nothing is saved."""

from __future__ import annotations

from supportdesk.accounts import leads
from supportdesk.routing import availability
from supportdesk.routing.models import AssignmentMode, RoutingRule, TeamAssignment
from supportdesk.sla.models import SlaPolicy
from tests.conftest import form_token, login, page_text
from tests.factories import (
    make_admin,
    make_calendar,
    make_category,
    make_requester,
    make_team,
    make_technician,
)

PAGE = "/admin/assignment"


def test_an_admin_sets_up_assignment_leads_and_rules_on_the_page(client, session):
    admin = make_admin(session)
    amy = make_technician(session, full_name="Amy Able")
    bob = make_technician(session, full_name="Bob Busy")
    team = make_team(session, "Service Desk", members=[amy, bob])
    network = make_team(session, "Network")
    availability.set_available(session, amy, True)
    session.commit()
    login(client, admin.email)
    page = page_text(client.get(PAGE))
    assert "Amy Able" in page and "Taking tickets" in page and "Not taking tickets" in page
    saved = client.post(
        f"{PAGE}/teams/{team.id}",
        data={**form_token(client, PAGE), "mode": "round_robin", "max_open": "3", "leads": [str(bob.id)]},
        follow_redirects=True,
    )
    assert "Assignment of Service Desk saved" in page_text(saved)
    setting = session.get(TeamAssignment, team.id)
    assert (setting.mode, setting.max_open) == (AssignmentMode.ROUND_ROBIN, 3)
    assert leads.lead_ids(session, [team.id]) == {bob.id}
    created = client.post(
        f"{PAGE}/rules",
        data={
            **form_token(client, PAGE),
            "name": "VPN",
            "position": "1",
            "keywords": "VPN, wifi",
            "team": str(network.id),
        },
        follow_redirects=True,
    )
    page = page_text(created)
    assert "Rule created" in page and "vpn, wifi" in page
    rule = session.query(RoutingRule).one()
    client.post(f"{PAGE}/rules/{rule.id}/delete", data=form_token(client, PAGE))
    session.expire_all()
    assert session.query(RoutingRule).count() == 0


def test_mistakes_on_the_assignment_page_are_said_and_nothing_is_saved(client, session):
    team = make_team(session, "Service Desk", members=[make_technician(session)])
    outsider = make_technician(session)
    login(client, make_admin(session).email)
    for data in (
        {"mode": "round_robin", "max_open": "0"},
        {"mode": "whenever"},
        {"mode": "least_loaded", "max_open": "lots"},
        {"mode": "least_loaded", "leads": [str(outsider.id)]},
    ):
        response = client.post(
            f"{PAGE}/teams/{team.id}", data={**form_token(client, PAGE), **data}, follow_redirects=True
        )
        assert response.status_code == 200 and "was not saved" in page_text(response), data
    for data in (
        {"name": "Nothing", "team": str(team.id)},
        {"name": "No team", "keywords": "vpn", "team": "999999"},
        {"name": "Bad team", "keywords": "vpn", "team": "abc"},
    ):
        response = client.post(
            f"{PAGE}/rules", data={**form_token(client, PAGE), **data}, follow_redirects=True
        )
        assert response.status_code == 200 and "The rule was not saved" in page_text(response), data
    session.expire_all()
    assert session.query(TeamAssignment).count() == 0 and session.query(RoutingRule).count() == 0


def test_the_api_sets_assignment_leads_rules_and_availability(api_as, session):
    admin = make_admin(session)
    tech = make_technician(session, full_name="Amy Able")
    team = make_team(session, "Service Desk", members=[tech])
    category = make_category(session, "Printers")
    api = api_as(admin)
    put = api.put(
        f"/api/v1/routing/teams/{team.id}",
        json={"mode": "least_loaded", "max_open": 5, "lead_ids": [tech.id]},
    )
    assert put.status_code == 200, put.get_json()
    assert put.get_json() == {
        "team_id": team.id,
        "team_name": "Service Desk",
        "mode": "least_loaded",
        "max_open": 5,
        "lead_ids": [tech.id],
    }
    assert api.get("/api/v1/routing/teams").get_json()["items"][0]["mode"] == "least_loaded"
    outsider = make_technician(session)
    refused = api.put(f"/api/v1/routing/teams/{team.id}", json={"mode": "off", "lead_ids": [outsider.id]})
    assert refused.status_code == 422
    rule = api.post(
        "/api/v1/routing/rules",
        json={
            "name": "Printers",
            "position": 2,
            "category_id": category.id,
            "keywords": "",
            "team_id": team.id,
        },
    )
    assert rule.status_code == 201, rule.get_json()
    rule_id = rule.get_json()["id"]
    replaced = api.put(
        f"/api/v1/routing/rules/{rule_id}",
        json={"name": "Printers", "position": 2, "keywords": "Toner", "team_id": team.id},
    )
    assert replaced.get_json()["keywords"] == "toner" and replaced.get_json()["category_id"] is None
    assert [r["name"] for r in api.get("/api/v1/routing/rules").get_json()["items"]] == ["Printers"]
    tech_api = api_as(tech)
    assert tech_api.put("/api/v1/routing/availability", json={"available": True}).get_json() == {
        "available": True
    }
    [row] = [
        t for t in tech_api.get("/api/v1/routing/technicians").get_json()["items"] if t["user_id"] == tech.id
    ]
    assert row == {"user_id": tech.id, "name": "Amy Able", "available": True, "open_tickets": 0}
    assert tech_api.delete(f"/api/v1/routing/rules/{rule_id}").status_code == 403
    assert api.delete(f"/api/v1/routing/rules/{rule_id}").status_code == 204
    employee = api_as(make_requester(session))
    assert employee.get("/api/v1/routing/teams").status_code == 403
    assert employee.put("/api/v1/routing/availability", json={"available": True}).status_code == 403


def test_policies_take_a_warning_time_and_an_escalation_on_the_page_and_the_api(client, api_as, session):
    admin = make_admin(session)
    escalations = make_team(session, "Escalations")
    calendar = make_calendar(session, "Always")
    login(client, admin.email)
    page = page_text(
        client.post(
            "/admin/service-levels/policies",
            data={
                **form_token(client, "/admin/service-levels"),
                "name": "Standard",
                "calendar": str(calendar.id),
                "resolution_hours": "8",
                "warning_hours": "2",
                "escalate_priority": "1",
                "escalate_team": str(escalations.id),
            },
            follow_redirects=True,
        )
    )
    assert "Policy created" in page and "2 h before" in page and "raise priority, move to Escalations" in page
    policy = session.query(SlaPolicy).one()
    assert (policy.warning_minutes, policy.escalate_priority, policy.escalate_to_team_id) == (
        120,
        True,
        escalations.id,
    )
    api = api_as(admin)
    body = api.get("/api/v1/sla/policies").get_json()["items"][0]
    assert (body["warning_minutes"], body["escalate_priority"], body["escalate_to_team_id"]) == (
        120,
        True,
        escalations.id,
    )
    replaced = api.put(
        f"/api/v1/sla/policies/{policy.id}",
        json={
            "name": "Standard",
            "calendar_id": calendar.id,
            "resolution_minutes": 480,
            "warning_minutes": 30,
        },
    )
    assert replaced.status_code == 200 and replaced.get_json()["warning_minutes"] == 30
    assert replaced.get_json()["escalate_priority"] is False
