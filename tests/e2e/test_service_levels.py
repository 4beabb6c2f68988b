"""A desk lead sets up service levels; a technician then sees what is at risk and what has breached."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from supportdesk.core import clock
from supportdesk.core.db import utcnow
from supportdesk.sla import recompute
from supportdesk.tickets import service
from tests.e2e.test_flows import sign_in, sign_out
from tests.factories import make_admin, make_requester, make_technician

pytestmark = pytest.mark.e2e


def raised_ago(session, who, subject, ago):
    with clock.frozen_at(utcnow() - ago):
        ticket = service.create_ticket(session, who, subject=subject)
    session.commit()
    return ticket


@pytest.mark.parametrize("width", [1280, 360])
def test_a_lead_sets_targets_and_a_technician_sees_what_is_at_risk(
    browser, live_server, session, screenshot_dir, width
):
    make_admin(session, email="ada@example.com", full_name="Ada Admin")
    make_technician(session, email="sam@example.com", full_name="Sam Okafor")
    erin = make_requester(session, full_name="Erin Employee")
    late = raised_ago(session, erin, "Mail server down", timedelta(hours=5))
    raised_ago(session, erin, "Printer jammed", timedelta(hours=3, minutes=30))
    device = "desktop" if width > 600 else "phone"
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()

    sign_in(page, live_server, "ada@example.com")
    page.goto(f"{live_server}/admin/users")
    page.get_by_role("link", name="Service levels").click()
    expect(page.get_by_text("No policies: tickets have no due times")).to_be_visible()
    page.get_by_label("Name", exact=True).first.fill("Round the clock")
    for day in ("Sat", "Sun"):
        page.get_by_label(day, exact=True).check()
    page.get_by_label("From").fill("00:00")
    page.get_by_label("Until").fill("00:00")  # midnight
    page.get_by_role("button", name="Create calendar").click()
    expect(page.get_by_text("Calendar created")).to_be_visible()
    page.locator("#policy-name").fill("Standard")
    page.get_by_label("Resolution (working hours)").fill("4")
    page.get_by_role("button", name="Create policy").click()
    expect(page.get_by_text("Policy created")).to_be_visible()
    expect(page.get_by_role("cell", name="every ticket")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the service-level page scrolls sideways at {width}px"
    page.screenshot(path=str(screenshot_dir / f"admin-service-levels-{device}.png"), full_page=True)
    sign_out(page)

    # The worker's next run brings the open tickets in line with the new policy.
    while recompute.recompute_batch(session, clock.now()) is not None:
        session.commit()
    session.commit()

    sign_in(page, live_server, "sam@example.com")
    page.goto(f"{live_server}/desk/")
    page.get_by_role("link", name=re.compile(r"^At risk")).click()
    expect(page.get_by_role("link", name="Printer jammed")).to_be_visible()
    expect(page.get_by_text(re.compile(r"\d+ min left"))).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^Breached")).click()
    expect(page.get_by_role("link", name="Mail server down")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"desk-breached-{device}.png"), full_page=True)
    page.get_by_role("link", name="Mail server down").click()
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{late.number}$"))
    expect(page.get_by_role("heading", name=re.compile("Service level"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"Overdue by \d+ h"))).to_be_visible()

    # "Take next ticket" hands over the most urgent one: the breached ticket first.
    page.goto(f"{live_server}/desk/")
    page.get_by_role("button", name="Take next ticket").click()
    expect(page.get_by_text(f"#{late.number} is yours now.")).to_be_visible()
    expect(page.get_by_role("button", name="Assigned to you")).to_be_visible()
