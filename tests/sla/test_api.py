"""Admins set service levels through the API; the open tickets follow once the worker has recomputed."""

from __future__ import annotations

from datetime import timedelta

from supportdesk.core import clock
from supportdesk.core.db import utcnow
from supportdesk.sla import recompute
from supportdesk.tickets import service
from supportdesk.tickets.lifecycle import Status
from tests.factories import make_admin, make_requester, make_technician

OFFICE = {"name": "Office", "zone": "Europe/Berlin", "weekly": {str(d): [[540, 1020]] for d in range(5)}}


def test_admins_manage_calendars_and_policies_and_open_tickets_follow(api_as, session):
    admin, tech, employee = make_admin(session), make_technician(session), make_requester(session)
    with clock.frozen_at(utcnow() - timedelta(hours=30)):
        waiting = service.create_ticket(session, employee, subject="Monitor flickers")
    session.commit()
    with clock.frozen_at(utcnow() - timedelta(hours=29)):
        service.transition(session, tech, waiting.number, Status.PENDING)
    session.commit()
    api = api_as(admin)
    calendar = api.post("/api/v1/sla/calendars", json={**OFFICE, "holidays": ["2026-12-24", "--12-25"]})
    assert calendar.status_code == 201, calendar.get_json()
    calendar_id = calendar.get_json()["id"]
    always = {"name": "Always", "zone": "UTC", "weekly": {str(d): [[0, 1440]] for d in range(7)}}
    replaced = api.put(f"/api/v1/sla/calendars/{calendar_id}", json=always)
    assert replaced.get_json()["zone"] == "UTC"
    created = api.post(
        "/api/v1/sla/policies",
        json={"name": "Standard", "calendar_id": calendar_id, "resolution_minutes": 120},
    )
    assert created.status_code == 201, created.get_json()
    assert [p["name"] for p in api_as(tech).get("/api/v1/sla/policies").get_json()["items"]] == ["Standard"]

    # Until the worker's pass, the ticket raised before the policy has no due time; after it, the one
    # hour it was open before waiting on its requester counts.
    assert api.get(f"/api/v1/tickets/{waiting.number}").get_json()["service_level"] is None
    while recompute.recompute_batch(session, clock.now(), batch=1) is not None:
        session.commit()
    session.commit()
    level = api.get(f"/api/v1/tickets/{waiting.number}").get_json()["service_level"]
    assert level["resolution_due_at"] is None and level["resolution_breached"] is False
    with clock.frozen_at(utcnow()):
        service.transition(session, tech, waiting.number, Status.OPEN)
        reopened_at = clock.now()
    session.commit()
    level = api.get(f"/api/v1/tickets/{waiting.number}").get_json()["service_level"]
    assert level["resolution_due_at"].startswith((reopened_at + timedelta(hours=1)).isoformat()[:16])

    assert api.delete(f"/api/v1/sla/calendars/{calendar_id}").status_code == 409  # a policy uses it
    policy_id = created.get_json()["id"]
    assert api.delete(f"/api/v1/sla/policies/{policy_id}").status_code == 204
    while recompute.recompute_batch(session, clock.now()) is not None:
        session.commit()
    assert api.get(f"/api/v1/tickets/{waiting.number}").get_json()["service_level"] is None
    assert api.delete(f"/api/v1/sla/calendars/{calendar_id}").status_code == 204


def test_bad_settings_are_field_errors(api_as, session):
    api = api_as(make_admin(session))
    bad_zone = api.post("/api/v1/sla/calendars", json={**OFFICE, "zone": "Nowhere/Atlantis"})
    assert bad_zone.status_code == 422 and "zone" in bad_zone.get_data(as_text=True)
    overlapping = {**OFFICE, "weekly": {"0": [[540, 720], [700, 800]]}}
    assert api.post("/api/v1/sla/calendars", json=overlapping).status_code == 422
    assert api.post("/api/v1/sla/calendars", json={**OFFICE, "holidays": ["Christmas"]}).status_code == 422
    calendar_id = api.post("/api/v1/sla/calendars", json=OFFICE).get_json()["id"]
    no_target = api.post("/api/v1/sla/policies", json={"name": "Empty", "calendar_id": calendar_id})
    assert no_target.status_code == 422
    assert api.post("/api/v1/sla/calendars", json=OFFICE).status_code == 422  # name taken
