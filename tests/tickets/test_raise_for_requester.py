"""Raising a ticket for someone else: the desk picks or adds the requester; the audit trail says who
raised it for whom; requesters cannot do either."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from supportdesk.accounts import reads as people
from supportdesk.accounts import service as accounts
from supportdesk.accounts.models import Role
from supportdesk.accounts.passwords import verify_password
from supportdesk.core.errors import PermissionDenied, ValidationError
from supportdesk.tickets import service
from supportdesk.tickets.models import EventKind, TicketEvent
from tests.factories import make_requester, make_technician


def test_the_desk_finds_active_people_by_part_of_a_name_or_email(session):
    tech = make_technician(session, full_name="Sam Okafor")
    make_requester(session, email="erin@example.com", full_name="Erin Employee")
    make_requester(session, email="e.r.i.n@corp.example", full_name="Other Person")
    make_requester(session, email="gone@example.com", full_name="Erin Gone", is_active=False)
    make_requester(session, email="pct@example.com", full_name="100% Percent")
    found = people.find_people(session, tech, "ERIN")
    assert [p.full_name for p in found] == ["Erin Employee"]
    assert [p.email for p in people.find_people(session, tech, "corp.example")] == ["e.r.i.n@corp.example"]
    # LIKE's wildcards are plain characters here.
    assert [p.full_name for p in people.find_people(session, tech, "%")] == ["100% Percent"]
    assert people.find_people(session, tech, " ") == []
    with pytest.raises(PermissionDenied):
        people.find_people(session, make_requester(session), "erin")


def test_a_ticket_raised_for_someone_is_theirs_and_the_trail_says_who_raised_it(session):
    tech = make_technician(session, full_name="Sam Okafor")
    erin = make_requester(session, email="erin@example.com", full_name="Erin Employee")
    ticket = service.create_ticket(session, tech, subject="VPN down", requester_id=erin.id)
    session.commit()
    assert ticket.requester_id == erin.id
    events = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).all()
    raised_for = [e for e in events if e.kind is EventKind.REQUESTER]
    assert [(e.actor_id, e.new_value) for e in raised_for] == [(tech.id, "Erin Employee (erin@example.com)")]
    # Raised by the requester themselves: no such line.
    own = service.create_ticket(session, erin, subject="Mouse")
    session.commit()
    assert not [e for e in own.events if e.kind is EventKind.REQUESTER]


def test_the_desk_adds_a_requester_who_signs_in_after_a_reset(session):
    tech = make_technician(session)
    walter = accounts.add_requester(session, tech, email=" Walter@Example.com ", full_name=" Walter Walk-in ")
    session.commit()
    assert (walter.email, walter.full_name, walter.role) == (
        "walter@example.com",
        "Walter Walk-in",
        Role.REQUESTER,
    )
    assert not verify_password(walter.password_hash, "")  # no password anybody knows
    with pytest.raises(ValidationError) as refused:
        accounts.add_requester(session, tech, email="walter@example.com", full_name="Again")
    assert refused.value.errors[0].field == "email"
    session.rollback()
    with pytest.raises(ValidationError):
        accounts.add_requester(session, tech, email="not an address", full_name="")
    with pytest.raises(PermissionDenied):
        accounts.add_requester(session, make_requester(session), email="x@example.com", full_name="X")


def test_the_api_raises_for_an_existing_or_a_new_requester_and_the_events_say_so(session, api_as):
    tech = make_technician(session, full_name="Sam Okafor")
    erin = make_requester(session, email="erin@example.com", full_name="Erin Employee")
    api = api_as(tech)
    response = api.post("/api/v1/tickets", json={"subject": "VPN down", "requester_id": erin.id})
    assert response.status_code == 201 and response.json["requester"]["id"] == erin.id
    events = api.get(f"/api/v1/tickets/{response.json['number']}/events").json["items"]
    assert [(e["kind"], e["new_value"]) for e in events if e["kind"] == "requester"] == [
        ("requester", "Erin Employee (erin@example.com)")
    ]
    new = {
        "subject": "Badge",
        "new_requester": {"full_name": "Walter Walk-in", "email": "walter@example.com"},
    }
    response = api.post("/api/v1/tickets", json=new)
    assert response.status_code == 201 and response.json["requester"]["full_name"] == "Walter Walk-in"
    # Both at once is ambiguous; an address in use is refused, and nothing is raised.
    both = {**new, "requester_id": erin.id, "subject": "Both"}
    assert api.post("/api/v1/tickets", json=both).status_code == 422
    again = {"subject": "Again", "new_requester": {"full_name": "W", "email": "WALTER@example.com"}}
    refused = api.post("/api/v1/tickets", json=again)
    assert refused.status_code == 422 and "email" in refused.get_data(as_text=True)
    # A requester may not add people.
    employee = api_as(erin)
    assert employee.post("/api/v1/tickets", json={**new, "subject": "Mine"}).status_code == 403


def test_a_retry_with_the_same_key_returns_the_first_ticket_for_a_new_requester(session, api_as):
    """A client that lost the answer sends the same request again: it gets the ticket the first
    attempt raised, not a refusal of the requester that attempt added, and nobody is added twice."""
    api = api_as(make_technician(session, full_name="Sam Okafor"))
    new = {
        "subject": "Badge",
        "new_requester": {"full_name": "Walter Walk-in", "email": "walter@example.com"},
    }
    key = {"Idempotency-Key": "walk-in-7"}
    first = api.post("/api/v1/tickets", json=new, headers=key)
    again = api.post("/api/v1/tickets", json=new, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json["number"] == first.json["number"]
    assert again.json["requester"]["id"] == first.json["requester"]["id"]
    # The same key with another request is still refused, and a new key still refuses a known address.
    assert api.post("/api/v1/tickets", json={**new, "subject": "Other"}, headers=key).status_code == 422
    assert api.post("/api/v1/tickets", json=new, headers={"Idempotency-Key": "walk-in-8"}).status_code == 422
