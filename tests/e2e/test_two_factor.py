"""A technician turns on two-factor sign-in with an authenticator app (here pyotp reading the secret from
the page), signs out, signs back in with password and code, and later with a recovery code, once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from tests.e2e.test_flows import sign_in, sign_out
from tests.factories import PASSWORD, make_technician

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [1280, 360])
def test_technician_turns_on_two_factor_and_signs_in_with_it(
    browser, live_server, session, screenshot_dir, width
):
    make_technician(session, email="tess@example.com", full_name="Tess Technician")
    device = "desktop" if width > 600 else "phone"
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    sign_in(page, live_server, "tess@example.com")
    page.goto(f"{live_server}/account/two-factor")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    expect(page.get_by_role("img", name="QR code")).to_be_visible()
    secret = page.locator("[data-secret]").get_attribute("data-secret")
    assert secret
    page.screenshot(path=str(screenshot_dir / f"two-factor-setup-{device}.png"), full_page=True)
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code from your app").fill(totp.now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_text("Two-factor sign-in is on")).to_be_visible()
    codes = page.locator("[data-recovery-code]").all_inner_texts()
    assert len(codes) == 10
    page.screenshot(path=str(screenshot_dir / f"two-factor-codes-{device}.png"), full_page=True)

    page.goto(f"{live_server}/desk/")
    sign_out(page)
    sign_in(page, live_server, "tess@example.com")
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"two-factor-sign-in-{device}.png"), full_page=True)
    # The code used to turn it on cannot be replayed; the next step's code is within the window.
    page.get_by_label("Code").fill(totp.at(datetime.now(UTC) + timedelta(seconds=totp.interval)))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/desk/"))

    sign_out(page)
    sign_in(page, live_server, "tess@example.com")
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/desk/"))
    sign_out(page)
    sign_in(page, live_server, "tess@example.com")
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code is not valid")).to_be_visible()
    page.get_by_label("Code").fill(codes[1])
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/desk/"))
