"""An admin sets up automatic assignment and a routing rule; a technician says they are taking tickets
and finds the next matching ticket already in "Mine"."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from supportdesk.tickets import service
from tests.e2e.test_flows import sign_in, sign_out
from tests.factories import make_admin, make_requester, make_team, make_technician

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [1280, 360])
def test_an_admin_sets_up_assignment_and_a_technician_gets_the_ticket(
    browser, live_server, session, screenshot_dir, width
):
    make_admin(session, email="ada@example.com", full_name="Ada Admin")
    sam = make_technician(session, email="sam@example.com", full_name="Sam Okafor")
    tia = make_technician(session, email="tia@example.com", full_name="Tia Lead")
    make_team(session, "Network", members=[sam, tia])
    erin = make_requester(session, full_name="Erin Employee")
    device = "desktop" if width > 600 else "phone"
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()

    sign_in(page, live_server, "ada@example.com")
    page.goto(f"{live_server}/admin/users")
    page.get_by_role("link", name="Assignment").click()
    expect(page.get_by_role("heading", name="Network")).to_be_visible()
    page.get_by_label("Automatic assignment").select_option("round_robin")
    page.get_by_label("Open tickets each, at most").fill("5")
    page.get_by_label("Tia Lead").check()
    page.get_by_role("button", name="Save Network").click()
    expect(page.get_by_text("Assignment of Network saved.")).to_be_visible()
    expect(page.get_by_label("Tia Lead")).to_be_checked()
    page.get_by_label("Name", exact=True).fill("VPN trouble")
    page.get_by_label("Keywords in the subject").fill("VPN, remote access")
    page.get_by_label("Send to team").select_option(label="Network")
    page.get_by_role("button", name="Create rule").click()
    expect(page.get_by_text("Rule created.")).to_be_visible()
    expect(page.get_by_role("cell", name="keywords vpn, remote access")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the assignment page scrolls sideways at {width}px"
    page.screenshot(path=str(screenshot_dir / f"admin-assignment-{device}.png"), full_page=True)
    sign_out(page)

    sign_in(page, live_server, "sam@example.com")
    page.goto(f"{live_server}/desk/")
    page.get_by_role("button", name="Not taking tickets").click()
    expect(page.get_by_text("You are taking tickets")).to_be_visible()
    expect(page.get_by_role("button", name="Taking tickets", exact=True)).to_be_visible()

    # An employee raises a ticket about the VPN: the rule sends it to Network, which gives it to Sam.
    ticket = service.create_ticket(session, erin, subject="The VPN drops every hour")
    session.commit()
    page.get_by_role("link", name=re.compile(r"^Mine")).click()
    expect(page.get_by_role("link", name="The VPN drops every hour")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the queue scrolls sideways at {width}px"
    page.screenshot(path=str(screenshot_dir / f"desk-assigned-automatically-{device}.png"), full_page=True)
    page.get_by_role("link", name="The VPN drops every hour").click()
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{ticket.number}$"))
    expect(
        page.get_by_text(re.compile(r"SupportDesk\s+changed assignee from nobody to Sam Okafor"))
    ).to_be_visible()
