"""An employee who forgot their password gets back in through the link in their mail, then moves to a
new address, confirmed from that address."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from supportdesk.notifications.models import OutboxMessage
from tests.e2e.test_flows import sign_in, sign_out
from tests.factories import make_requester

pytestmark = pytest.mark.e2e


def link_in_mail(session, kind: str) -> str:
    session.expire_all()
    raw = session.scalars(select(OutboxMessage.raw).where(OutboxMessage.kind == kind)).all()[-1]
    found = re.search(r"http://127\.0\.0\.1:5000(/[^\s]+)", raw.replace("=\r\n", "").replace("=3D", "="))
    assert found, raw
    return found.group(1)


@pytest.mark.parametrize("width", [1280, 360])
def test_forgotten_password_then_a_new_address(browser, live_server, session, screenshot_dir, width):
    make_requester(session, email="erin@example.com", full_name="Erin Employee")
    device = "desktop" if width > 600 else "phone"
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(f"{live_server}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("erin@example.com")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_text("If an account uses that address")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"forgot-password-{device}.png"), full_page=True)

    page.goto(live_server + link_in_mail(session, "password_reset"))
    page.get_by_label("New password").fill("correct horse battery")
    page.get_by_label("Repeat it").fill("correct horse battery")
    page.screenshot(path=str(screenshot_dir / f"reset-password-{device}.png"), full_page=True)
    page.get_by_role("button", name="Save my new password").click()
    expect(page.get_by_text("Your password is changed.")).to_be_visible()
    sign_in(page, live_server, "erin@example.com", "correct horse battery")
    expect(page.get_by_role("heading", name="My tickets")).to_be_visible()

    page.goto(f"{live_server}/account/email")
    page.get_by_label("New email address").fill("erin.new@example.com")
    page.get_by_label("Your password").fill("correct horse battery")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_text("We have sent a link to erin.new@example.com")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"change-email-{device}.png"), full_page=True)
    page.goto(live_server + link_in_mail(session, "email_confirm"))
    expect(page.get_by_text("Your address is now erin.new@example.com.")).to_be_visible()
    sign_out(page)
    sign_in(page, live_server, "erin.new@example.com", "correct horse battery")
    expect(page.get_by_role("heading", name="My tickets")).to_be_visible()
