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
    assert (walter.email, walter.full_name, walter.role) == ("walter@example.com", "Walter Walk-in", Role.REQUESTER)
    assert not verify_password(walter.password_hash, "")  # no password anybody knows
    with pytest.raises(ValidationError) as refused:
        accounts.add_requester(session, tech, email="walter@example.com", full_name="Again")
    assert refused.value.errors[0].field == "email"
    session.rollback()
    with pytest.raises(ValidationError):
        accounts.add_requester(session, tech, email="not an address", full_name="")
    with pytest.raises(PermissionDenied):
        accounts.add_requester(session, make_requester(session), email="x@example.com", full_name="X")
