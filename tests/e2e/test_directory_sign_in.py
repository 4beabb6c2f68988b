"""An employee signs in with the company directory and sees the portal; once the directory removes them
and the next sync has run, they cannot sign in (desktop and phone)."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import expect

from supportdesk.accounts import directory_sync

pytestmark = pytest.mark.e2e

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def sign_in(page, base: str, login: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.get_by_label("Email or user name").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sync(app: Flask) -> None:
    with app.app_context():
        directory_sync.run_sync()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_directory_user_signs_in_then_the_directory_removes_them(
    browser, directory_app, live_server, ldap_tree, screenshot_dir, viewport
):
    ldap_tree.add_user("gwen", "Gwen-Password-5", name="Gwen Harper", mail="gwen.harper@example.org")
    ldap_tree.add_user("hank", "Hank-Password-5")  # someone stays, as in any real directory
    context = browser.new_context(viewport=VIEWPORTS[viewport])
    page = context.new_page()
    try:
        sign_in(page, live_server, "gwen", "Gwen-Password-5")
        expect(page.get_by_role("heading", name="My tickets")).to_be_visible()
        assert page.url.startswith(f"{live_server}/portal/")
        assert "Gwen Harper" in page.content()
        page.screenshot(path=str(screenshot_dir / f"directory-sign-in-{viewport}.png"), full_page=True)
        context.clear_cookies()

        ldap_tree.remove_user("gwen")
        sync(directory_app)

        for login in ("gwen", "gwen.harper@example.org"):
            sign_in(page, live_server, login, "Gwen-Password-5")
            expect(page.get_by_text("do not match an active account")).to_be_visible()
            assert page.url.startswith(f"{live_server}/login")
        page.screenshot(path=str(screenshot_dir / f"directory-removed-{viewport}.png"), full_page=True)
    finally:
        context.close()
