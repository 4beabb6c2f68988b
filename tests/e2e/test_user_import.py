"""An admin brings people in from a CSV file: the preview shows a bad line, the admin fixes the file,
uploads it again and applies; an invited person opens the link in their mail, chooses a password and
signs in. Desktop and phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from supportdesk.accounts.models import User
from supportdesk.notifications.models import OutboxMessage
from tests.e2e.test_flows import sign_in, sign_out
from tests.e2e.test_technician_day import open_page
from tests.factories import make_admin, make_team

pytestmark = pytest.mark.e2e

BAD = (
    "email;full_name;role;teams\n"
    "nina@example.com;Nina Novak;;\n"
    "sam.at.example.com;Sam Okafor;technician;Network\n"
    "olaf@example.com;Olaf Berg;technician;Network\n"
)


def invitation_link(session, address: str) -> str:
    session.expire_all()
    raw = session.scalars(
        select(OutboxMessage.raw).where(
            OutboxMessage.kind == "invitation", OutboxMessage.recipients == address
        )
    ).one()
    found = re.search(
        r"http://127\.0\.0\.1:5000(/invitation/[^\s]+)", raw.replace("=\r\n", "").replace("=3D", "=")
    )
    assert found, raw
    return found.group(1)


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_admin_imports_people_and_one_sets_a_password(
    browser, live_server, session, device, screenshot_dir, tmp_path
):
    make_admin(session, email="ada@example.com", full_name="Ada Admin")
    make_team(session, "Network")
    bad, good = tmp_path / "people.csv", tmp_path / "people-fixed.csv"
    bad.write_text(BAD, encoding="utf-8-sig")
    good.write_text(BAD.replace("sam.at.example.com", "sam@example.com"), encoding="utf-8-sig")
    page = open_page(browser, device)
    sign_in(page, live_server, "ada@example.com")
    page.goto(f"{live_server}/admin/users")
    page.get_by_role("link", name="Import from CSV").click()
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.get_by_text("1 line cannot be imported")).to_be_visible()
    bad_line = page.get_by_role("row").filter(has_text="sam.at.example.com")
    expect(bad_line).to_contain_text("email is not a valid email address")
    expect(page.get_by_role("button", name=re.compile(r"^Import \d"))).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / f"import-preview-errors-{device}.png"), full_page=True)

    page.get_by_label("CSV file").set_input_files(str(good))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_text("3 to create")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"import-preview-{device}.png"), full_page=True)
    page.get_by_role("button", name="Import 3 people").click()
    expect(page.get_by_text("Imported: 3 created, 0 updated; 3 invited by email.")).to_be_visible()
    session.expire_all()
    olaf = session.scalars(select(User).where(User.email == "olaf@example.com")).one()
    assert olaf.role.value == "technician" and [t.name for t in olaf.teams] == ["Network"]
    sign_out(page)

    page.goto(live_server + invitation_link(session, "olaf@example.com"))
    expect(page.get_by_role("heading", name="Welcome to SupportDesk")).to_be_visible()
    page.get_by_label("Choose a password").fill("olaf's own password")
    page.get_by_label("Repeat it").fill("olaf's own password")
    page.screenshot(path=str(screenshot_dir / f"invitation-{device}.png"), full_page=True)
    page.get_by_role("button", name="Save my password").click()
    expect(page.get_by_text(re.compile("Welcome! Sign in as"))).to_be_visible()
    sign_in(page, live_server, "olaf@example.com", "olaf's own password")
    expect(page.get_by_role("heading", name="Unassigned")).to_be_visible()  # a technician: the queue
    page.context.close()
