"""A technician raises a ticket for someone on the phone or at the counter (issue 15): the requester is
picked by typing part of a name or email, or added on the spot; the ticket is theirs and the activity
log says who raised it for whom. Walked at desktop and phone widths."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from supportdesk.accounts.models import Role, User
from supportdesk.tickets.lifecycle import Priority
from supportdesk.tickets.models import Ticket
from tests.e2e.test_flows import sign_in
from tests.e2e.test_technician_day import open_page
from tests.factories import make_requester, make_technician

pytestmark = pytest.mark.e2e


@pytest.fixture
def people(session):
    make_technician(session, email="sam@example.com", full_name="Sam Okafor")
    erin = make_requester(session, email="erin@example.com", full_name="Erin Employee")
    make_requester(session, email="eric@example.com", full_name="Eric Elsewhere")
    make_requester(session, email="gone@example.com", full_name="Erin Gone", is_active=False)
    session.commit()
    return {"erin": erin}


def newest(session) -> Ticket:
    session.expire_all()
    return session.scalars(select(Ticket).order_by(Ticket.id.desc()).limit(1)).one()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_technician_raises_a_ticket_for_a_caller(
    browser, live_server, people, session, device, screenshot_dir
):
    page = open_page(browser, device)
    sign_in(page, live_server, "sam@example.com")
    page.goto(f"{live_server}/desk/")
    page.get_by_role("link", name="Raise for a requester").click()
    expect(page.get_by_role("heading", name="Raise a ticket for a requester")).to_be_visible()

    # Nothing chosen yet: refused with a message beside the field, and the typed subject is kept.
    page.get_by_label("Subject").fill("Cannot print payslips")
    page.get_by_role("button", name="Raise ticket").click()
    expect(page.get_by_text("Choose a requester or add a new one.")).to_be_visible()
    expect(page.get_by_label("Subject")).to_have_value("Cannot print payslips")

    # Search as you type; a deactivated account is not offered; the keyboard picks.
    finder = page.get_by_role("combobox", name="Requester")
    finder.fill("eri")
    options = page.get_by_role("listbox", name="Matching people").get_by_role("option")
    expect(options).to_have_count(2)
    expect(options.filter(has_text="Erin Gone")).to_have_count(0)
    finder.fill("erin@")
    expect(options).to_have_count(1)
    page.screenshot(path=str(screenshot_dir / f"desk-raise-for-picker-{device}.png"))
    finder.press("ArrowDown")
    finder.press("Enter")
    expect(page.locator("[data-sd-requester-chosen]")).to_contain_text("Erin Employee")
    expect(page.locator("[data-sd-requester-chosen]")).to_contain_text("erin@example.com")
    page.get_by_label("Priority").select_option("urgent")  # the desk may set urgent
    page.get_by_label("Description").fill("She called: the payslip PDF prints blank.")
    page.screenshot(path=str(screenshot_dir / f"desk-raise-for-{device}.png"), full_page=True)
    page.get_by_role("button", name="Raise ticket").click()

    ticket = newest(session)
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{ticket.number}$"))
    expect(page.get_by_text(f"Ticket #{ticket.number} is raised for Erin Employee.")).to_be_visible()
    assert (ticket.requester_id, ticket.subject, ticket.priority) == (
        people["erin"].id,
        "Cannot print payslips",
        Priority.URGENT,
    )
    activity = page.locator(".sd-activity")
    expect(activity).to_contain_text("Sam Okafor raised the ticket for Erin Employee (erin@example.com)")
    page.context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_walk_in_who_has_no_account_is_added_on_the_spot(
    browser, live_server, people, session, device, screenshot_dir
):
    page = open_page(browser, device, "dark")
    sign_in(page, live_server, "sam@example.com")
    page.goto(f"{live_server}/desk/new")
    page.get_by_role("combobox", name="Requester").fill("walter")
    expect(page.get_by_text("Nobody matches “walter”.")).to_be_visible()
    page.get_by_role("button", name="Add a new requester").click()
    page.get_by_label("New requester's name").fill("Walter Walk-in")
    # An address already in use is refused beside the field; nothing is raised, the text is kept.
    page.get_by_label("New requester's email").fill("ERIN@example.com")
    page.get_by_label("Subject").fill("Badge does not open the lab door")
    page.get_by_role("button", name="Raise ticket").click()
    expect(page.get_by_text("a user with this email already exists")).to_be_visible()
    expect(page.get_by_label("New requester's name")).to_have_value("Walter Walk-in")
    expect(page.get_by_label("Subject")).to_have_value("Badge does not open the lab door")
    page.screenshot(path=str(screenshot_dir / f"desk-raise-for-new-dark-{device}.png"), full_page=True)
    page.get_by_label("New requester's email").fill("walter@example.com")
    page.get_by_role("button", name="Raise ticket").click()

    ticket = newest(session)
    expect(page.get_by_text(f"Ticket #{ticket.number} is raised for Walter Walk-in.")).to_be_visible()
    walter = session.scalars(select(User).where(User.email == "walter@example.com")).one()
    assert (walter.full_name, walter.role, walter.is_active) == ("Walter Walk-in", Role.REQUESTER, True)
    assert ticket.requester_id == walter.id and ticket.subject == "Badge does not open the lab door"
    expect(page.locator(".sd-activity")).to_contain_text(
        "Sam Okafor raised the ticket for Walter Walk-in (walter@example.com)"
    )
    page.context.close()
