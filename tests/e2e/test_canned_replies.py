"""Canned replies (issue 15): a technician keeps their own, an admin keeps the shared ones, and either
kind goes into the composer by keyboard ("::" then a few letters, arrows, Enter) or by mouse, with the
requester's name, the ticket's number and subject and the technician's name filled in. Walked at
desktop and phone widths."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from supportdesk.replies.models import CannedReply
from supportdesk.tickets.models import Comment
from tests.e2e.test_flows import sign_in
from tests.e2e.test_technician_day import open_page
from tests.factories import make_admin, make_requester, make_technician, make_ticket

pytestmark = pytest.mark.e2e


@pytest.fixture
def desk(session):
    make_technician(session, email="sam@example.com", full_name="Sam Okafor")
    make_admin(session, email="ada@example.com", full_name="Ada Admin")
    erin = make_requester(session, email="erin@example.com", full_name="Erin Employee")
    ticket = make_ticket(session, erin, subject="Printer on floor 3 jams")
    session.commit()
    return {"number": ticket.number}


def ready(page: Page) -> None:
    page.locator("html[data-sd-ready]").wait_for(state="attached")


def replies_in_db(session) -> list[tuple[str, bool]]:
    session.expire_all()
    return sorted((r.title, r.owner_id is None) for r in session.scalars(select(CannedReply)))


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_admin_keeps_the_shared_replies(browser, live_server, desk, session, device, screenshot_dir):
    page = open_page(browser, device, "dark")
    sign_in(page, live_server, "ada@example.com")
    page.goto(f"{live_server}/admin/users")
    page.get_by_role("link", name="Canned replies").click()
    expect(page.get_by_role("heading", name="Shared canned replies")).to_be_visible()

    # An unknown placeholder is refused beside the field, with the ones that exist; the text is kept.
    page.get_by_label("Title").fill("Password reset")
    page.get_by_label("Text").fill("Hello {{ requester.nickname }}")
    page.get_by_role("button", name="Add shared reply").click()
    expect(page.get_by_text(re.compile(r"unknown placeholder.*requester\.nickname"))).to_be_visible()
    expect(page.get_by_label("Text")).to_have_value("Hello {{ requester.nickname }}")
    page.get_by_label("Text").fill(
        "Hello {{ requester.first_name }}, about {{ ticket.number }}: use the self-service page. "
        "{{ technician.name }}"
    )
    page.get_by_role("button", name="Add shared reply").click()
    expect(page.get_by_text("Shared reply “Password reset” added.")).to_be_visible()
    page.get_by_role("button", name="Add shared reply").wait_for()
    page.get_by_label("Title").fill("Obsolete")
    page.get_by_label("Text").fill("Goes away.")
    page.get_by_role("button", name="Add shared reply").click()
    assert replies_in_db(session) == [("Obsolete", True), ("Password reset", True)]
    page.screenshot(path=str(screenshot_dir / f"admin-canned-replies-dark-{device}.png"), full_page=True)

    # Renamed in place; deleting asks first, and "Cancel" keeps it.
    row = page.get_by_role("listitem").filter(has_text="Obsolete")
    row.get_by_role("button", name="Edit").click()
    row.get_by_label("Title").fill("Obsolete (old)")
    row.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Reply “Obsolete (old)” saved.")).to_be_visible()
    row = page.get_by_role("listitem").filter(has_text="Obsolete (old)")
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_role("button", name="Delete").click()
    assert replies_in_db(session) == [("Obsolete (old)", True), ("Password reset", True)]
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Reply “Obsolete (old)” deleted.")).to_be_visible()
    assert replies_in_db(session) == [("Password reset", True)]
    page.context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_technician_inserts_canned_replies_by_keyboard_and_mouse(
    browser, live_server, desk, session, device, screenshot_dir
):
    shared = CannedReply(
        title="Password reset", body="Use the self-service page, {{ requester.first_name }}.", owner_id=None
    )
    session.add(shared)
    session.commit()
    number = desk["number"]
    page = open_page(browser, device)
    sign_in(page, live_server, "sam@example.com")

    # Their own reply, from the queue's "Canned replies" page; the shared ones are listed, not editable.
    page.goto(f"{live_server}/desk/")
    page.get_by_role("link", name="Canned replies").click()
    expect(page.get_by_role("heading", name="My canned replies")).to_be_visible()
    expect(page.get_by_text("Password reset")).to_be_visible()
    page.get_by_label("Title").fill("Printer tray")
    page.get_by_label("Text").fill(
        "Hi {{ requester.first_name }}, for {{ ticket.number }} ({{ ticket.subject }}) please try tray 2. "
        "{{ technician.first_name }}"
    )
    page.get_by_role("button", name="Add reply").click()
    expect(page.get_by_text("Reply “Printer tray” added.")).to_be_visible()
    assert replies_in_db(session) == [("Password reset", True), ("Printer tray", False)]

    # By keyboard: "::" in the composer opens the picker, a few letters narrow it, Enter inserts.
    page.goto(f"{live_server}/desk/tickets/{number}")
    ready(page)
    composer = page.get_by_label("Message")
    composer.click()
    composer.type("Thanks for calling. ::")
    picker = page.get_by_role("combobox", name="Find a canned reply")
    expect(picker).to_be_focused()
    picker.type("tray")
    options = page.get_by_role("listbox", name="Canned replies").get_by_role("option")
    expect(options).to_have_count(1)
    page.screenshot(path=str(screenshot_dir / f"desk-canned-picker-{device}.png"))
    picker.press("Enter")
    filled = f"Hi Erin, for #{number} (Printer on floor 3 jams) please try tray 2. Sam"
    expect(composer).to_have_value(f"Thanks for calling. {filled}")
    expect(composer).to_be_focused()

    # By mouse: the button, then a click; Escape closes without inserting anything.
    page.get_by_role("button", name="Canned replies").click()
    expect(picker).to_be_focused()
    picker.press("Escape")
    expect(picker).to_be_hidden()
    expect(composer).to_have_value(f"Thanks for calling. {filled}")
    composer.press("End")
    composer.type(" ")
    page.get_by_role("button", name="Canned replies").click()
    page.get_by_role("option", name=re.compile("Password reset")).click()
    expect(composer).to_have_value(f"Thanks for calling. {filled} Use the self-service page, Erin.")

    page.get_by_text("Reply to requester").click()
    page.get_by_role("button", name="Send reply to requester").click()
    expect(page.get_by_text("Use the self-service page, Erin.").first).to_be_visible()
    session.expire_all()
    sent = session.scalars(select(Comment).order_by(Comment.id.desc()).limit(1)).one()
    assert sent.body == f"Thanks for calling. {filled} Use the self-service page, Erin."
    page.context.close()
