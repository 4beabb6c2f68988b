"""Canned replies: technicians keep their own, admins keep the shared ones; placeholders are filled
from the ticket and the technician; nobody reads or changes another's personal replies."""

from __future__ import annotations

import pytest

from supportdesk.core.errors import NotFound, PermissionDenied, ValidationError
from supportdesk.replies import placeholders, reads, service
from tests.factories import make_admin, make_requester, make_technician, make_ticket


@pytest.fixture
def desk(session):
    sam = make_technician(session, full_name="Sam Okafor")
    olly = make_technician(session, full_name="Olly Other")
    admin = make_admin(session, full_name="Ada Admin")
    erin = make_requester(session, full_name="Erin Employee")
    ticket = make_ticket(session, erin, subject="Printer jams")
    session.commit()
    return {"sam": sam, "olly": olly, "admin": admin, "erin": erin, "ticket": ticket}


def test_placeholders_are_filled_and_unknown_ones_refused():
    values = placeholders.Values(
        requester_name="Erin Employee",
        ticket_number=1042,
        ticket_subject="Printer jams",
        technician_name="Sam Okafor",
    )
    body = (
        "Hi {{ requester.first_name }} ({{requester.name}}), about {{ ticket.number }}"
        " “{{ ticket.subject }}”. {{technician.first_name}} / {{ technician.name }}"
    )
    assert placeholders.fill(body, values) == (
        "Hi Erin (Erin Employee), about #1042 “Printer jams”. Sam / Sam Okafor"
    )
    assert placeholders.fill("{{ nothing here", values) == "{{ nothing here"
    assert placeholders.unknown("Hi {{ requester.name }} {{ ticket.secret }} {{ x }}") == [
        "ticket.secret",
        "x",
    ]


def test_personal_replies_are_their_owners_and_shared_ones_the_admins(session, desk):
    sam, olly, admin = desk["sam"], desk["olly"], desk["admin"]
    mine = service.create_reply(
        session, sam, title=" Printer  tray ", body="Try tray 2, {{ requester.first_name }}."
    )
    shared = service.create_reply(
        session, admin, title="Password reset", body="Use the self-service page.", shared=True
    )
    session.commit()
    assert (mine.title, mine.owner_id) == ("Printer tray", sam.id)
    assert shared.owner_id is None
    assert [r.title for r in reads.usable_replies(session, sam)] == ["Password reset", "Printer tray"]
    assert [r.title for r in reads.usable_replies(session, olly)] == ["Password reset"]
    assert [r.title for r in reads.usable_replies(session, sam, "TRAY")] == ["Printer tray"]
    assert [r.title for r in reads.usable_replies(session, sam, "self-service")] == ["Password reset"]
    # Another technician's personal reply does not exist for them; a shared one is the admins'.
    with pytest.raises(NotFound):
        service.update_reply(session, olly, mine.id, title="Mine now")
    with pytest.raises(NotFound):
        service.delete_reply(session, olly, mine.id)
    with pytest.raises(PermissionDenied):
        service.update_reply(session, sam, shared.id, body="Changed")
    with pytest.raises(PermissionDenied):
        service.create_reply(session, sam, title="Sneaky", body="x", shared=True)
    with pytest.raises(PermissionDenied):
        service.create_reply(session, desk["erin"], title="Requester", body="x")
    session.rollback()
    service.update_reply(session, admin, shared.id, title="Password reset (self-service)")
    service.delete_reply(session, sam, mine.id)
    session.commit()
    assert [r.title for r in reads.usable_replies(session, sam)] == ["Password reset (self-service)"]


def test_a_reply_is_checked_before_it_is_kept(session, desk):
    with pytest.raises(ValidationError) as refused:
        service.create_reply(session, desk["sam"], title=" ", body="Hi {{ requester.phone }}")
    fields = {e.field: e.message for e in refused.value.errors}
    assert fields["title"] == "is required"
    assert "requester.phone" in fields["body"] and "{{ requester.name }}" in fields["body"]
    with pytest.raises(ValidationError):
        service.create_reply(session, desk["sam"], title="x" * 121, body="ok")
    with pytest.raises(ValidationError):
        service.create_reply(session, desk["sam"], title="Empty", body="   ")


def test_the_picker_fills_a_reply_for_the_ticket_the_technician_is_on(session, desk):
    sam = desk["sam"]
    service.create_reply(
        session,
        sam,
        title="Tray",
        body="Hi {{ requester.first_name }}, {{ ticket.number }}? {{ technician.first_name }}",
    )
    session.commit()
    filled = reads.filled_for_ticket(session, sam, desk["ticket"].number, "")
    assert [(r.title, r.body) for r in filled] == [("Tray", f"Hi Erin, #{desk['ticket'].number}? Sam")]
    with pytest.raises(PermissionDenied):  # a requester never gets the desk's replies
        reads.filled_for_ticket(session, desk["erin"], desk["ticket"].number, "")


def test_the_api_lists_creates_changes_and_deletes_replies(session, desk, api_as):
    sam = api_as(desk["sam"])
    created = sam.post("/api/v1/canned-replies", json={"title": "Tray", "body": "Hi {{ requester.name }}"})
    assert created.status_code == 201 and created.json["shared"] is False
    reply_id = created.json["id"]
    assert (
        sam.post("/api/v1/canned-replies", json={"title": "S", "body": "x", "shared": True}).status_code
        == 403
    )
    refused = sam.post("/api/v1/canned-replies", json={"title": "Bad", "body": "{{ nope }}"})
    assert refused.status_code == 422 and "nope" in refused.get_data(as_text=True)
    admin = api_as(desk["admin"])
    shared = admin.post("/api/v1/canned-replies", json={"title": "Reset", "body": "x", "shared": True})
    assert shared.status_code == 201 and shared.json["shared"] is True
    assert [r["title"] for r in sam.get("/api/v1/canned-replies").json["items"]] == ["Reset", "Tray"]
    assert sam.patch(f"/api/v1/canned-replies/{reply_id}", json={"title": "Tray 2"}).json["title"] == "Tray 2"
    assert sam.patch(f"/api/v1/canned-replies/{shared.json['id']}", json={"title": "x"}).status_code == 403
    olly = api_as(desk["olly"])
    assert olly.patch(f"/api/v1/canned-replies/{reply_id}", json={"title": "x"}).status_code == 404
    assert olly.delete(f"/api/v1/canned-replies/{reply_id}").status_code == 404
    assert sam.delete(f"/api/v1/canned-replies/{reply_id}").status_code == 204
    assert [r["title"] for r in sam.get("/api/v1/canned-replies").json["items"]] == ["Reset"]
    assert api_as(desk["erin"]).get("/api/v1/canned-replies").status_code == 403
