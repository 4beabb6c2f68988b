"""The top bar on every page: at a desktop width an admin's whole bar (every section, the bell, their
account and sign-out) sits on one row, and the account pages are one menu away at both widths."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_flows import sign_in, sign_out
from tests.factories import make_admin

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [1280, 360])
def test_an_admins_top_bar_fits_and_leads_to_every_account_page(
    browser, live_server, session, screenshot_dir, width
):
    make_admin(session, email="ada@example.com", full_name="Ada Admin")
    device = "desktop" if width > 600 else "phone"
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    sign_in(page, live_server, "ada@example.com")
    page.locator("html[data-sd-ready]").wait_for(state="attached")
    bar = page.get_by_role("navigation", name="Main")
    page.screenshot(path=str(screenshot_dir / f"top-bar-{device}.png"))
    if device == "desktop":
        sections = ("Queue", "Reports", "Knowledge base", "My tickets", "New ticket", "Admin")
        for name in sections:
            expect(bar.get_by_role("link", name=name, exact=True)).to_be_visible()
        expect(bar.get_by_role("link", name="Notifications")).to_be_visible()
        height = bar.bounding_box()["height"]
        assert height < 90, f"the top bar wraps onto several rows ({height:.0f} px high)"

    for link, heading in (
        ("Two-factor sign-in", "Two-factor sign-in"),
        ("API tokens", "API tokens"),
        ("Change password", "Change your password"),
    ):
        if device == "phone":
            page.get_by_role("button", name="Toggle navigation").click()
            page.locator("#sd-nav.show").wait_for()
        page.get_by_role("button", name="Ada Admin").click()
        page.screenshot(path=str(screenshot_dir / f"top-bar-account-menu-{device}.png"))
        page.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", name=heading).first).to_be_visible()
    sign_out(page)
