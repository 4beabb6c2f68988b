"""The flows people use every day, in a real browser, asserting on what each person sees."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from supportdesk.tickets.models import Ticket
from tests.factories import PASSWORD, make_admin, make_category, make_requester, make_team, make_technician

pytestmark = pytest.mark.e2e
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def sign_in(page: Page, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def shortcut(page: Page, key: str) -> None:
    """Press a keyboard shortcut as a user would once the page has finished loading its script.

    A key pressed before the deferred script runs does nothing, and the letters typed after it would
    land in the page instead of the composer."""
    page.locator("html[data-sd-ready]").wait_for(state="attached")
    page.locator("body").press(key)


def sign_out(page: Page) -> None:
    # The page must have loaded first: right after a redirect the toggler is not there yet, so a phone
    # would skip opening the menu and wait for a Sign out button that stays folded away.
    page.locator("html[data-sd-ready]").wait_for(state="attached")
    toggler = page.get_by_role("button", name="Toggle navigation")
    if toggler.is_visible():  # phone width: open the collapsed menu and let it finish opening
        toggler.click()
        page.locator("#sd-nav.show").wait_for()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()


@pytest.fixture
def people(session):
    team = make_team(session, "Service Desk")
    make_category(session, "Accounts & passwords", team=team)
    return {
        "employee": make_requester(session, email="erin@example.com", full_name="Erin Employee"),
        "tech": make_technician(session, email="sam@example.com", full_name="Sam Okafor", teams=[team]),
        "admin": make_admin(session, email="ada@example.com", full_name="Ada Admin"),
    }


def test_a_ticket_from_raised_to_reopened(browser, live_server, people, session, tmp_path, screenshot_dir):
    shot = tmp_path / "screen.png"
    shot.write_bytes(PNG)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    # The employee raises a ticket with an attachment.
    sign_in(page, live_server, "erin@example.com")
    page.get_by_role("link", name="New ticket").first.click()
    page.get_by_label("Subject").fill("Outlook keeps asking for my password")
    page.get_by_label("Category").select_option(label="Accounts & passwords")
    page.get_by_label("Description").fill("It started **this morning** after the update.")
    expect(page.locator("#description-preview strong")).to_have_text("this morning")
    page.get_by_label("Attachments").set_input_files(str(shot))
    page.get_by_role("button", name="Raise ticket").click()
    expect(page.get_by_text(re.compile(r"Ticket #\d+ is raised"))).to_be_visible()
    expect(page.get_by_text("screen.png")).to_be_visible()
    number = session.query(Ticket).one().number
    sign_out(page)

    # The technician finds it in Unassigned and assigns it to themself with the keyboard.
    sign_in(page, live_server, "sam@example.com")
    page.goto(f"{live_server}/desk/?view=unassigned")
    expect(page.get_by_role("link", name="Outlook keeps asking for my password")).to_be_visible()
    shortcut(page, "j")
    page.keyboard.press("a")
    expect(page.get_by_text("Updated 1 ticket(s).")).to_be_visible()
    page.goto(f"{live_server}/desk/?view=mine")
    shortcut(page, "j")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{number}$"))
    expect(page.get_by_role("button", name="Assigned to you")).to_be_visible()

    # Replies publicly, then adds an internal note, both from the keyboard.
    shortcut(page, "r")
    expect(page.locator("[data-sd-reply]")).to_be_focused()
    page.keyboard.type("Please sign out of Office and back in; that refreshes the token.")
    expect(page.locator("[data-sd-send]")).to_have_text("Send reply to requester")
    page.locator("[data-sd-send]").click()
    expect(page.get_by_text("Reply sent to the requester.")).to_be_visible()
    shortcut(page, "n")
    expect(page.locator("[data-sd-reply]")).to_be_focused()
    page.keyboard.type("Token cache corrupted; known issue with build 2411.")
    expect(page.locator("[data-sd-send]")).to_have_text("Add internal note")
    page.locator("[data-sd-send]").click()
    expect(page.get_by_text("Internal note added.")).to_be_visible()
    expect(page.locator(".sd-entry-internal")).to_contain_text("Token cache corrupted")

    # Resolves it from the sidebar.
    page.get_by_label("Status").select_option("resolved")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Ticket updated.")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "desk-ticket-desktop-light.png"), full_page=True)
    sign_out(page)

    # The employee sees the reply but not the note, and reopens the ticket.
    sign_in(page, live_server, "erin@example.com")
    page.goto(f"{live_server}/portal/tickets/{number}")
    expect(page.get_by_text("Please sign out of Office")).to_be_visible()
    expect(page.get_by_text("Token cache corrupted")).to_have_count(0)
    expect(page.get_by_text("Internal note")).to_have_count(0)
    page.get_by_role("button", name="Reopen ticket").click()
    expect(page.get_by_text("The ticket is open again.")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "portal-ticket-desktop-light.png"), full_page=True)
    context.close()


def test_a_deactivated_user_cannot_sign_in(browser, live_server, people):
    page = browser.new_context().new_page()
    sign_in(page, live_server, "ada@example.com")
    page.get_by_role("link", name="Admin").click()
    page.once("dialog", lambda dialog: dialog.accept())  # deactivating asks first
    page.locator('[data-sd-user-toggle="erin@example.com"]').click()
    expect(page.get_by_text("Erin Employee is now a requester, deactivated")).to_be_visible()
    sign_out(page)
    sign_in(page, live_server, "erin@example.com")
    expect(page.get_by_text("That email and password do not match an active account.")).to_be_visible()


@pytest.mark.parametrize(
    ("width", "scheme"), [(1280, "light"), (1280, "dark"), (360, "light"), (360, "dark")]
)
def test_screenshots_of_the_main_pages(browser, live_server, people, session, screenshot_dir, width, scheme):
    """Desktop and phone widths, light and dark: saved for review, and checked for horizontal overflow."""
    from supportdesk.tickets import service

    ticket = service.create_ticket(
        session,
        people["employee"],
        subject="Laptop battery drains in an hour",
        description="Since the last update.\n\n- Tried a new charger\n- Still drains",
    )
    session.commit()
    service.add_comment(session, people["tech"], ticket.number, "Could you run the battery report?")
    session.commit()
    service.add_comment(
        session, people["tech"], ticket.number, "Battery health 61%; order one.", internal=True
    )
    session.commit()
    device = "desktop" if width > 600 else "phone"
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.screenshot(path=str(screenshot_dir / f"login-{device}-{scheme}.png"))
    for email, pages in (
        (
            "erin@example.com",
            {
                "portal": "/portal/",
                "new-ticket": "/portal/new",
                "portal-ticket": f"/portal/tickets/{ticket.number}",
            },
        ),
        ("sam@example.com", {"queue": "/desk/?view=open", "desk-ticket": f"/desk/tickets/{ticket.number}"}),
        ("ada@example.com", {"admin-users": "/admin/users"}),
    ):
        sign_in(page, live_server, email)
        for name, path in pages.items():
            page.goto(f"{live_server}{path}")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} scrolls sideways at {width}px"
            page.screenshot(path=str(screenshot_dir / f"{name}-{device}-{scheme}.png"), full_page=True)
        sign_out(page)
    context.close()
