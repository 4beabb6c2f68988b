"""Rating the answer (US-93), in a real browser, desktop and phone: a technician resolves a ticket; the
employee rates it bad with a comment in one click from the portal, then changes it to good; the
technician sees the rating, the comment and the history on the ticket. The resolution email's link
shows its confirmation page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from supportdesk.satisfaction import links
from supportdesk.tickets import service
from supportdesk.tickets.models import EventKind, TicketEvent
from tests.e2e.test_flows import sign_in, sign_out
from tests.factories import make_requester, make_team, make_technician

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [1280, 360])
def test_an_employee_rates_the_answer_and_the_technician_sees_it(
    browser, clean_app, live_server, session, screenshot_dir, width
):
    sam = make_technician(session, email="sam@example.com", full_name="Sam Okafor")
    make_team(session, "Network", members=[sam])
    erin = make_requester(session, email="erin@example.com", full_name="Erin Employee")
    ticket = service.create_ticket(session, erin, subject="The VPN drops every hour")
    session.commit()
    device = "desktop" if width > 600 else "phone"
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()

    # The technician resolves it from the sidebar.
    sign_in(page, live_server, "sam@example.com")
    page.goto(f"{live_server}/desk/tickets/{ticket.number}")
    page.get_by_label("Status").select_option("resolved")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Ticket updated.")).to_be_visible()
    sign_out(page)

    # The employee rates it bad, with a comment, in one click.
    sign_in(page, live_server, "erin@example.com")
    page.goto(f"{live_server}/portal/tickets/{ticket.number}")
    expect(page.get_by_role("heading", name="How did we do?")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"portal-rating-ask-{device}.png"), full_page=True)
    page.get_by_label("Comment (optional)").fill("It took three days & the VPN <still> drops.")
    page.get_by_role("button", name=re.compile("Bad, I'm not satisfied")).click()
    expect(page.get_by_text("Thank you: your rating (bad) is recorded.")).to_be_visible()
    expect(page.get_by_role("heading", name="Your rating")).to_be_visible()
    expect(page.locator("[data-sd-rating]")).to_contain_text("Bad")
    expect(page.locator(".sd-rating-comment")).to_have_text("It took three days & the VPN <still> drops.")

    # Then, the VPN holding after all, changes it to good, keeping a shorter comment.
    page.get_by_label("Your comment").fill("Holding since this morning, thanks!")
    page.get_by_role("button", name=re.compile("Good, I'm satisfied")).click()
    expect(page.get_by_text("Thank you: your rating (good) is recorded.")).to_be_visible()
    expect(page.locator("[data-sd-rating]")).to_contain_text("Good")
    expect(page.get_by_text(re.compile("You can change your rating or comment; that closes"))).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the portal ticket scrolls sideways at {width}px"
    page.screenshot(path=str(screenshot_dir / f"portal-rating-given-{device}.png"), full_page=True)
    sign_out(page)

    # The technician sees the rating, the comment and both steps in the activity log.
    sign_in(page, live_server, "sam@example.com")
    page.goto(f"{live_server}/desk/tickets/{ticket.number}")
    panel = page.get_by_role("region", name="Satisfaction")
    expect(panel).to_contain_text("Good")
    expect(panel).to_contain_text("Holding since this morning, thanks!")
    expect(panel).to_contain_text("from Erin Employee")
    activity = page.locator(".sd-activity")
    expect(activity).to_contain_text("rated the answer Bad")
    expect(activity).to_contain_text("changed their rating from Bad to Good")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the desk ticket scrolls sideways at {width}px"
    page.screenshot(path=str(screenshot_dir / f"desk-rating-{device}.png"), full_page=True)
    sign_out(page)
    context.close()

    # The resolution email's link, opened in a browser that is not signed in: a confirmation page.
    resolution = session.scalars(
        select(TicketEvent.id).where(
            TicketEvent.ticket_id == ticket.id,
            TicketEvent.kind == EventKind.STATUS,
            TicketEvent.new_value == "resolved",
        )
    ).one()
    with clean_app.test_request_context():
        token = links.token_for(ticket.id, resolution, erin.id)
    mail_page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    mail_page.goto(f"{live_server}/rate/{token}?score=good")
    expect(mail_page.get_by_role("heading", name="How did we do?")).to_be_visible()
    expect(mail_page.get_by_label("Good, I'm satisfied")).to_be_checked()
    mail_page.screenshot(path=str(screenshot_dir / f"rating-link-{device}.png"), full_page=True)
