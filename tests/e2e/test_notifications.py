"""A technician copies a colleague on a ticket and replies; the requester sees the unread count in the
top bar, opens the notification, turns reply emails off; the admin reads the mail in the catcher."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from supportdesk.tickets import service
from tests.e2e.test_flows import sign_in, sign_out
from tests.factories import make_admin, make_category, make_requester, make_team, make_technician

pytestmark = pytest.mark.e2e


def open_menu(page) -> None:
    toggler = page.get_by_role("button", name="Toggle navigation")
    if toggler.is_visible():
        toggler.click()
        page.locator("#sd-nav.show").wait_for()


@pytest.mark.parametrize("width", [1280, 360])
def test_watchers_notifications_and_the_mail_catcher(
    browser, live_server, clean_app, session, screenshot_dir, width
):
    team = make_team(session, "Service Desk")
    make_category(session, "Hardware", team=team)
    erin = make_requester(session, email="erin@example.com", full_name="Erin Employee")
    make_requester(session, email="boss@example.com", full_name="Bea Boss")
    make_technician(session, email="sam@example.com", full_name="Sam Okafor", teams=[team])
    make_admin(session, email="ada@example.com", full_name="Ada Admin")
    with clean_app.app_context():
        ticket = service.create_ticket(
            session, erin, subject="Laptop battery drains", description="In an hour."
        )
        session.commit()
    device = "desktop" if width > 600 else "phone"
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()

    sign_in(page, live_server, "sam@example.com")
    page.goto(f"{live_server}/desk/tickets/{ticket.number}")
    page.get_by_label("Email of someone to copy").fill("boss@example.com")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Bea Boss is copied on this ticket.")).to_be_visible()
    expect(page.get_by_text("boss@example.com")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"desk-watchers-{device}.png"), full_page=True)
    with clean_app.app_context():
        service.add_comment(session, _sam(session), ticket.number, "Please run the battery report.")
        session.commit()
    sign_out(page)

    sign_in(page, live_server, "erin@example.com")
    expect(page.locator(".sd-unread")).to_have_text("1 unread")  # loaded into the top bar after the page
    bell = page.get_by_role("link", name="Notifications")
    if not bell.is_visible():  # phone width: the top bar's links are behind the menu button
        open_menu(page)
    bell.click()
    expect(page.get_by_text("Sam Okafor replied on")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"notifications-{device}.png"), full_page=True)
    page.get_by_role("link", name=f"Sam Okafor replied on #{ticket.number}").click()
    expect(page.get_by_text("Please run the battery report.")).to_be_visible()
    page.goto(f"{live_server}/notifications/settings")
    page.get_by_label("A reply on a ticket I raised, work or watch").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your email choices are saved.")).to_be_visible()
    expect(page.get_by_label("A reply on a ticket I raised, work or watch")).not_to_be_checked()
    sign_out(page)

    sign_in(page, live_server, "ada@example.com")
    page.goto(f"{live_server}/admin/mail")
    expect(page.get_by_text("This page is the mail catcher")).to_be_visible()
    page.get_by_role("link", name=f"[#{ticket.number}] Laptop battery drains").first.click()
    expect(page.get_by_text("Please run the battery report.")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the mail page scrolls sideways at {width}px"
    page.screenshot(path=str(screenshot_dir / f"admin-mail-{device}.png"), full_page=True)


def _sam(session):
    from sqlalchemy import select

    from supportdesk.accounts.models import User

    return session.scalar(select(User).where(User.email == "sam@example.com"))
