"""An admin runs the people of a desk with thousands of users (issue 15): finds one by part of a name
or email, narrows by role, pages through, corrects a name, changes an address (confirmed from the new
address), deactivates after a confirmation; copies a new API token; finds the way back from the API
docs. Desktop and phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from supportdesk.accounts.models import User
from tests.e2e.test_flows import sign_in
from tests.e2e.test_technician_day import open_page
from tests.factories import make_admin, make_requester, make_technician

pytestmark = pytest.mark.e2e


@pytest.fixture
def people(session):
    make_admin(session, email="ada@example.com", full_name="Ada Admin")
    make_technician(session, email="sam@example.com", full_name="Sam Okafor")
    erin = make_requester(session, email="erin@example.com", full_name="Erin Employe")
    for n in range(120):
        make_requester(session, email=f"person{n:03}@example.com", full_name=f"Person {n:03}")
    session.commit()
    return {"erin": erin}


def user(session, user_id: int) -> User:
    session.expire_all()
    return session.scalars(select(User).where(User.id == user_id)).one()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_admin_finds_edits_and_deactivates_a_user(
    browser, live_server, people, session, device, screenshot_dir
):
    page = open_page(browser, device)
    sign_in(page, live_server, "ada@example.com")
    page.goto(f"{live_server}/admin/users")
    expect(page.get_by_text(re.compile(r"Showing 1 to 50 of 123"))).to_be_visible()
    page.get_by_role("link", name="Next page").click()
    expect(page.get_by_text(re.compile(r"Showing 51 to 100 of 123"))).to_be_visible()
    page.get_by_label("Role", exact=True).select_option("technician")  # applies on change
    expect(page.get_by_text(re.compile(r"Showing 1 to 1 of 1"))).to_be_visible()
    expect(page.get_by_role("cell", name="Sam Okafor", exact=True)).to_be_visible()
    page.get_by_label("Role", exact=True).select_option("")
    page.get_by_role("searchbox", name="Find users").fill("erin@")
    page.get_by_role("searchbox", name="Find users").press("Enter")
    expect(page.get_by_text(re.compile(r"Showing 1 to 1 of 1"))).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"admin-users-{device}.png"), full_page=True)

    # The name and the address, edited in place; the new address waits for its confirmation.
    page.get_by_role("button", name="Edit Erin Employe").click()
    edit = page.get_by_role("form", name="Edit Erin Employe")
    edit.get_by_label("Name").fill("Erin Employee")
    edit.get_by_label("Email").fill("erin.new@example.com")
    edit.get_by_role("button", name="Save").click()
    expect(page.get_by_text(re.compile("sent a confirmation link to erin.new@example.com"))).to_be_visible()
    erin = user(session, people["erin"].id)
    assert (erin.full_name, erin.email) == ("Erin Employee", "erin@example.com")

    # Deactivating asks first; "Cancel" changes nothing.
    row = page.get_by_role("row").filter(has_text="Erin Employee")
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_role("button", name="Deactivate").click()
    assert user(session, people["erin"].id).is_active
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_text(re.compile("deactivated"))).to_be_visible()
    assert not user(session, people["erin"].id).is_active
    page.context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_new_token_is_copied_and_revoking_asks_first(browser, live_server, people, session, device):
    page = open_page(browser, device, "dark")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    sign_in(page, live_server, "sam@example.com")
    page.goto(f"{live_server}/account/tokens")
    page.get_by_label("Token name").fill("monitoring bridge")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("[data-sd-new-token]").inner_text().strip()
    page.get_by_role("button", name="Copy token").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("cell", name="monitoring bridge")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("Token revoked")).to_be_visible()

    # The API docs lead back to the desk.
    page.goto(f"{live_server}/api/docs")
    page.get_by_role("link", name="Back to SupportDesk").click()
    expect(page).to_have_url(re.compile(r"/desk/"))
    page.context.close()
