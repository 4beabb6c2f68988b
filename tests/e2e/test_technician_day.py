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


def search_box(page: Page):
    return page.get_by_role("searchbox", name="Search tickets")


def search_for(page: Page, words: str) -> None:
    box = search_box(page)
    box.fill(words)
    box.press("Enter")


def found(page: Page) -> list[str]:
    page.wait_for_load_state()
    return sorted(page.locator(".sd-row-link").all_inner_texts())


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_one_search_from_the_top_bar_finds_any_ticket(browser, live_server, day, session, device):
    bob = make_requester(session, email="bob@example.com", full_name="Bob Builder")
    old = make_ticket(session, day["erin"], subject="Laptop battery", description="Also the printer driver.")
    service.transition(session, day["tech"], old.number, Status.RESOLVED)
    session.commit()
    monitor = make_ticket(session, bob, subject="Monitor flickers", description="Since Monday.")
    service.add_comment(session, day["tech"], monitor.number, "Please try another cable.")
    session.commit()
    page = open_page(browser, device)
    sign_in(page, live_server, "sam@example.com")

    # From the Unassigned view, words search that view first; the view is a filter the user drops.
    page.goto(f"{live_server}/desk/?view=unassigned")
    search_for(page, "printer")
    assert found(page) == ["Printer on floor 3 jams"]
    filter_chip = page.get_by_role("link", name="Remove filter: Unassigned")
    expect(filter_chip).to_be_visible()
    filter_chip.click()
    assert found(page) == ["Laptop battery", "Printer on floor 3 jams"]
    expect(page.get_by_role("heading", name=re.compile("Search"))).to_contain_text("printer")

    # The requester's name or email, words in a reply: every status.
    search_for(page, "erin")
    assert found(page) == ["Laptop battery", "Printer on floor 3 jams"]
    search_for(page, "bob@example.com")
    assert found(page) == ["Monitor flickers"]
    search_for(page, "cable")
    assert found(page) == ["Monitor flickers"]
    search_for(page, "nothing-like-this")
    expect(page.get_by_text("No tickets match")).to_be_visible()

    # A ticket number jumps to the ticket, with or without #; `/` puts the cursor in the box.
    search_for(page, f"#{old.number}")
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{old.number}$"))
    page.locator("body").press("/")
    expect(search_box(page)).to_be_focused()
    page.keyboard.type(str(day["number"]))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{day['number']}$"))
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    page.context.close()


@pytest.mark.parametrize(
    ("device", "scheme"), [("desktop", "light"), ("desktop", "dark"), ("phone", "light"), ("phone", "dark")]
)
def test_screenshots_of_the_technicians_pages(browser, live_server, day, screenshot_dir, device, scheme):
    """The pages this issue changes, both widths and themes: saved for review, none scrolls sideways."""
    page = open_page(browser, device, scheme)
    sign_in(page, live_server, "sam@example.com")
    pages = {
        "desk-search": "/desk/search?q=printer&view=unassigned",
        "desk-search-empty": "/desk/search?q=nothing-matches-this",
        "desk-ticket-sidebar": f"/desk/tickets/{day['number']}",
    }
    for name, path in pages.items():
        page.goto(f"{live_server}{path}")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} scrolls sideways on a {device}"
        page.screenshot(path=str(screenshot_dir / f"{name}-{device}-{scheme}.png"), full_page=True)
    page.context.close()
