"""An admin gives someone locked out a temporary password (issue 15): it works once to sign in, and
nothing but choosing a new password is possible until they have. Desktop and phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from supportdesk.accounts.models import User
from tests.e2e.test_flows import sign_in
from tests.e2e.test_technician_day import open_page
from tests.factories import make_admin, make_requester

pytestmark = pytest.mark.e2e


@pytest.fixture
def people(session):
    make_admin(session, email="ada@example.com", full_name="Ada Admin")
    erin = make_requester(session, email="erin@example.com", full_name="Erin Employee")
    session.commit()
    return {"erin": erin}


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_temporary_password_must_be_changed_at_the_next_sign_in(
    browser, live_server, people, session, device, screenshot_dir
):
    admin = open_page(browser, device)
    sign_in(admin, live_server, "ada@example.com")
    admin.goto(f"{live_server}/admin/users?q=erin")
    admin.get_by_role("button", name="Edit Erin Employee").click()
    admin.on("dialog", lambda dialog: dialog.accept())  # setting one asks first: "they are signed out"
    form = admin.get_by_role("form", name="Temporary password for Erin Employee")
    form.get_by_label("Temporary password").fill("short")
    form.get_by_role("button", name="Set temporary password").click()
    expect(admin.get_by_text("must be at least 8 characters")).to_be_visible()
    admin.screenshot(path=str(screenshot_dir / f"admin-user-edit-{device}.png"), full_page=True)
    form = admin.get_by_role("form", name="Temporary password for Erin Employee")
    form.get_by_label("Temporary password").fill("Tmp-4821-desk")
    form.get_by_role("button", name="Set temporary password").click()
    expect(admin.get_by_text(re.compile("Erin Employee must choose a new password"))).to_be_visible()
    session.expire_all()
    assert session.scalars(select(User).where(User.email == "erin@example.com")).one().must_change_password
    admin.context.close()

    page = open_page(browser, device)
    sign_in(page, live_server, "erin@example.com", "Tmp-4821-desk")
    expect(page).to_have_url(re.compile(r"/account/password"))
    expect(page.get_by_text("An admin set a temporary password for you")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"account-temporary-password-{device}.png"))
    page.goto(f"{live_server}/portal/")  # nothing else until the password is changed
    expect(page).to_have_url(re.compile(r"/account/password"))
    page.get_by_label("Current password").fill("Tmp-4821-desk")
    page.get_by_label("New password", exact=True).fill("my own secret 77")
    page.get_by_label("Repeat the new password").fill("my own secret 77")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text(re.compile("Password changed"))).to_be_visible()
    page.goto(f"{live_server}/portal/")
    expect(page).to_have_url(re.compile(r"/portal/"))
    session.expire_all()
    assert (
        not session.scalars(select(User).where(User.email == "erin@example.com")).one().must_change_password
    )
    page.context.close()
