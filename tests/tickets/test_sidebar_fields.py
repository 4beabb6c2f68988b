"""A form of several fields (the ticket sidebar) changes only what its user changed."""

import pytest
from sqlalchemy import select

from supportdesk.core.errors import Conflict
from supportdesk.tickets import service
from supportdesk.tickets.changes import fields_asked
from supportdesk.tickets.lifecycle import Priority, Status
from supportdesk.tickets.models import Ticket, TicketEvent
from supportdesk.tickets.service import TicketChanges
from tests.conftest import form_token, login, page_text
from tests.factories import make_requester, make_team, make_technician, make_ticket


@pytest.fixture
def desk(session):
    team = make_team(session, "Network")
    tech = make_technician(session, full_name="Tess Tech", teams=[team])
    other = make_technician(session, full_name="Olly Other")
    ticket = make_ticket(session, make_requester(session), subject="VPN drops")
    return {"tech": tech, "other": other, "team": team, "number": ticket.number}


def form(ticket: Ticket, **asked: object) -> TicketChanges:
    values = {
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee_id": ticket.assignee_id,
        "team_id": ticket.team_id,
        "category_id": ticket.category_id,
    }
    return TicketChanges(**{**values, **asked})


def test_fields_resent_unchanged_are_no_change(session, desk):
    ticket = service.get_ticket(session, desk["tech"], desk["number"])
    shown = form(ticket)
    assert fields_asked(ticket, form(ticket), shown).changes.given() == {}
    asked = fields_asked(ticket, form(ticket, priority=Priority.HIGH), shown)
    assert asked.changes.given() == {"priority": Priority.HIGH} and asked.clashes == ()


def test_a_field_left_alone_keeps_what_someone_else_set_meanwhile(session, desk):
    ticket = service.get_ticket(session, desk["tech"], desk["number"])
    shown = form(ticket)
    service.transition(session, desk["other"], desk["number"], Status.PENDING)
    session.commit()
    ticket, changed = service.update_fields(
        session, desk["tech"], desk["number"], form(ticket, status=Status.NEW, priority=Priority.LOW), shown
    )
    session.commit()
    assert changed == ["priority"]
    assert (ticket.status, ticket.priority) == (Status.PENDING, Priority.LOW)


def test_a_field_someone_else_changed_differently_is_a_conflict_that_changes_nothing(session, desk):
    ticket = service.get_ticket(session, desk["tech"], desk["number"])
    shown = form(ticket)
    service.update_ticket(session, desk["other"], desk["number"], TicketChanges(priority=Priority.URGENT))
    session.commit()
    before = session.scalar(select(Ticket.version).where(Ticket.number == desk["number"]))
    with pytest.raises(Conflict, match="changed the priority"):
        service.update_fields(
            session,
            desk["tech"],
            desk["number"],
            form(shown_ticket := ticket, priority=Priority.LOW, team_id=desk["team"].id),
            shown,
        )
    session.rollback()
    assert shown_ticket.number == desk["number"]
    assert session.scalar(select(Ticket.version).where(Ticket.number == desk["number"])) == before
    # Both asking for the same value is agreement, not a clash.
    ticket, changed = service.update_fields(
        session, desk["tech"], desk["number"], form(ticket, priority=Priority.URGENT), shown
    )
    assert changed == []


def test_the_sidebar_says_when_nothing_changed_and_writes_nothing(client, session, desk):
    login(client, desk["tech"].email)
    url = f"/desk/tickets/{desk['number']}"
    fields = {"status": "new", "priority": "normal", "assignee": "", "team": "", "category": ""}
    shown = {f"shown_{name}": value for name, value in fields.items()}
    response = client.post(
        f"{url}/update",
        data={**form_token(client, url), "version": "1", **fields, **shown},
        follow_redirects=True,
    )
    assert "Nothing to save: no field was changed." in page_text(response)
    assert session.scalars(select(TicketEvent).where(TicketEvent.kind != "created")).all() == []


def test_a_damaged_shown_value_is_a_form_error(client, session, desk):
    login(client, desk["tech"].email)
    url = f"/desk/tickets/{desk['number']}"
    fields = {"status": "open", "priority": "normal", "assignee": "", "team": "", "category": ""}
    shown = {f"shown_{name}": value for name, value in fields.items()}
    response = client.post(
        f"{url}/update",
        data={**form_token(client, url), "version": "1", **fields, **shown, "shown_status": "gone"},
    )
    assert response.status_code == 422 and "reload the page" in page_text(response)
    assert session.scalars(select(TicketEvent).where(TicketEvent.kind != "created")).all() == []
