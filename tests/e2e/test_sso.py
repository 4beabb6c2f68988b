"""An employee with no SupportDesk account yet signs in with the company's identity provider (a real
OpenID Connect provider started by the suite, through its own login page), raises a ticket, and signs
out of both; on a desktop and on a phone."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from supportdesk.accounts.models import User
from supportdesk.tickets.models import Ticket
from tests.oidc.fixtures import OidcProvider

pytestmark = pytest.mark.e2e


@pytest.fixture
def sso_desk(clean_app: Flask, live_server: str, oidc_provider: OidcProvider) -> Iterator[str]:
    """The live desk with SSO on, registered at the provider under its own address."""
    oidc_provider.configure([f"{live_server}/login/oidc/callback"], [f"{live_server}/login"])
    settings = clean_app.config["SUPPORTDESK"]
    clean_app.config["SUPPORTDESK"] = dataclasses.replace(
        settings, public_url=live_server, oidc=oidc_provider.settings()
    )
    yield live_server
    clean_app.config["SUPPORTDESK"] = settings


@pytest.mark.parametrize("width", [1280, 360])
def test_an_employee_signs_in_through_the_provider_and_raises_a_ticket(
    browser, sso_desk, session, screenshot_dir, width
):
    device = "desktop" if width > 600 else "phone"
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(f"{sso_desk}/portal/new")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.screenshot(path=str(screenshot_dir / f"sso-sign-in-page-{device}.png"), full_page=True)
    page.get_by_role("link", name="Sign in with Example IdP").click()

    # The provider's own login page.
    expect(page.get_by_role("heading", name="Example IdP")).to_be_visible()
    expect(page.get_by_text("Sign in to continue to SupportDesk")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"sso-provider-login-{device}.png"), full_page=True)
    page.get_by_label("Username").fill("erin")
    page.get_by_label("Password").fill("erin-password")
    page.get_by_role("button", name="Sign in").click()

    # Back at the desk, signed in, on the page first asked for.
    expect(page).to_have_url(re.compile(r"/portal/new$"))
    page.get_by_label("Subject").fill("The VPN drops every hour")
    page.get_by_label("Description").fill("Since Monday, on the office Wi-Fi and at home.")
    page.get_by_role("button", name="Raise ticket").click()
    expect(page.get_by_text(re.compile(r"Ticket #\d+ is raised"))).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"sso-ticket-raised-{device}.png"), full_page=True)
    erin = session.scalars(select(User).where(User.email == "erin@example.com")).one()
    assert erin.full_name == "Erin Employee"
    assert session.scalars(select(Ticket)).one().requester_id == erin.id

    # Signing out ends the desk's session and, after the provider's own question, the provider's.
    page.locator("html[data-sd-ready]").wait_for(state="attached")
    toggler = page.get_by_role("button", name="Toggle navigation")
    if toggler.is_visible():
        toggler.click()
        page.locator("#sd-nav.show").wait_for()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("Sign out of Example IdP?")).to_be_visible()
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login$"))
    # The next sign-in asks the provider for the password again.
    page.get_by_role("link", name="Sign in with Example IdP").click()
    expect(page.get_by_label("Password")).to_be_visible()


@pytest.mark.parametrize("width", [1280, 360])
def test_someone_the_provider_does_not_vouch_for_gets_a_clear_page(
    browser, sso_desk, session, screenshot_dir, width
):
    device = "desktop" if width > 600 else "phone"
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(f"{sso_desk}/login")
    page.get_by_role("link", name="Sign in with Example IdP").click()
    page.get_by_label("Username").fill("mallory")
    page.get_by_label("Password").fill("mallory-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="You are not signed in")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("does not confirm that your email address is yours")
    expect(page.get_by_role("link", name="Back to the sign-in page")).to_be_visible()
    # Trying again cannot help: the page does not offer it (it does when the provider failed).
    expect(page.get_by_role("link", name="Sign in with Example IdP again")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / f"sso-refused-{device}.png"), full_page=True)
    assert session.scalars(select(User)).all() == []
