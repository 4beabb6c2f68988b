"""A technician's day in the desk (issue 15), walked in a real browser at desktop and phone widths."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from supportdesk.tickets import service
from supportdesk.tickets.lifecycle import Priority, Status
from supportdesk.tickets.models import Ticket
from tests.e2e.test_flows import sign_in
from tests.factories import make_requester, make_team, make_technician, make_ticket

pytestmark = pytest.mark.e2e
WIDTHS = {"desktop": 1280, "phone": 360}


@pytest.fixture
def day(session):
    team = make_team(session, "Service Desk")
    tech = make_technician(session, email="sam@example.com", full_name="Sam Okafor", teams=[team])
    other = make_technician(session, email="olly@example.com", full_name="Olly Other", teams=[team])
    erin = make_requester(session, email="erin@example.com", full_name="Erin Employee")
    ticket = make_ticket(session, erin, subject="Printer on floor 3 jams", description="Every second page.")
    service.add_comment(session, tech, ticket.number, "Which tray do you use?")
    session.commit()
    return {"tech": tech, "other": other, "erin": erin, "team": team, "number": ticket.number}


def open_page(browser, device: str, scheme: str = "light") -> Page:
    context = browser.new_context(viewport={"width": WIDTHS[device], "height": 900}, color_scheme=scheme)
    return context.new_page()


def current(session, number: int) -> Ticket:
    session.expire_all()
    return session.scalars(select(Ticket).where(Ticket.number == number)).one()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_sidebar_saves_only_the_field_that_changed(browser, live_server, day, session, device):
    number = day["number"]
    assert current(session, number).status is Status.OPEN
    page = open_page(browser, device)
    sign_in(page, live_server, "sam@example.com")
    page.goto(f"{live_server}/desk/tickets/{number}")

    # Only the priority: the status the form also shows (open) is no change and no refusal.
    page.get_by_label("Priority").select_option("high")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Ticket updated.")).to_be_visible()
    expect(page.get_by_label("Priority")).to_have_value("high")
    ticket = current(session, number)
    assert (ticket.priority, ticket.status, ticket.assignee_id) == (Priority.HIGH, Status.OPEN, None)

    # Only the assignee, picked by name.
    page.get_by_label("Assignee").select_option(label="Olly Other")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Ticket updated.")).to_be_visible()
    ticket = current(session, number)
    assert (ticket.assignee_id, ticket.priority) == (day["other"].id, Priority.HIGH)
    assert ticket.status is Status.OPEN

    # Someone else sets the status meanwhile; changing only the team keeps their status.
    service.transition(session, day["other"], number, Status.PENDING)
    session.commit()
    page.get_by_label("Team").select_option(label="Service Desk")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Ticket updated.")).to_be_visible()
    expect(page.get_by_label("Status")).to_have_value("pending")
    ticket = current(session, number)
    assert (ticket.team_id, ticket.status) == (day["team"].id, Status.PENDING)

    # Saving with nothing changed says so and changes nothing.
    version = ticket.version
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Nothing to save: no field was changed.")).to_be_visible()
    assert current(session, number).version == version
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{number}$"))
    page.context.close()
