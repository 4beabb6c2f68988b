"""A technician's day in the desk (issue 15), walked in a real browser at desktop and phone widths."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from supportdesk.tickets import service
from supportdesk.tickets.lifecycle import Priority, Status
from supportdesk.tickets.models import Ticket
from tests.e2e.test_flows import sign_in
from tests.factories import make_requester, make_team, make_technician, make_ticket

pytestmark = pytest.mark.e2e
WIDTHS = {"desktop": 1280, "phone": 360}


@pytest.fixture
def day(session):
    team = make_team(session, "Service Desk")
    tech = make_technician(session, email="sam@example.com", full_name="Sam Okafor", teams=[team])
    other = make_technician(session, email="olly@example.com", full_name="Olly Other", teams=[team])
    erin = make_requester(session, email="erin@example.com", full_name="Erin Employee")
    ticket = make_ticket(session, erin, subject="Printer on floor 3 jams", description="Every second page.")
    service.add_comment(session, tech, ticket.number, "Which tray do you use?")
    session.commit()
    return {"tech": tech, "other": other, "erin": erin, "team": team, "number": ticket.number}


def open_page(browser, device: str, scheme: str = "light") -> Page:
    context = browser.new_context(viewport={"width": WIDTHS[device], "height": 900}, color_scheme=scheme)
    return context.new_page()


def current(session, number: int) -> Ticket:
    session.expire_all()
    return session.scalars(select(Ticket).where(Ticket.number == number)).one()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_sidebar_saves_only_the_field_that_changed(browser, live_server, day, session, device):
    number = day["number"]
    assert current(session, number).status is Status.OPEN
    page = open_page(browser, device)
    sign_in(page, live_server, "sam@example.com")
    page.goto(f"{live_server}/desk/tickets/{number}")

    # Only the priority: the status the form also shows (open) is no change and no refusal.
    page.get_by_label("Priority").select_option("high")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Ticket updated.")).to_be_visible()
    expect(page.get_by_label("Priority")).to_have_value("high")
    ticket = current(session, number)
    assert (ticket.priority, ticket.status, ticket.assignee_id) == (Priority.HIGH, Status.OPEN, None)

    # Only the assignee, picked by name.
    page.get_by_label("Assignee").select_option(label="Olly Other")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Ticket updated.")).to_be_visible()
    ticket = current(session, number)
    assert (ticket.assignee_id, ticket.priority) == (day["other"].id, Priority.HIGH)
    assert ticket.status is Status.OPEN

    # Someone else sets the status meanwhile; changing only the team keeps their status.
    service.transition(session, day["other"], number, Status.PENDING)
    session.commit()
    page.get_by_label("Team").select_option(label="Service Desk")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Ticket updated.")).to_be_visible()
    expect(page.get_by_label("Status")).to_have_value("pending")
    ticket = current(session, number)
    assert (ticket.team_id, ticket.status) == (day["team"].id, Status.PENDING)

    # Saving with nothing changed says so and changes nothing.
    version = ticket.version
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Nothing to save: no field was changed.")).to_be_visible()
    assert current(session, number).version == version
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{number}$"))
    page.context.close()


def search_box(page: Page):
    return page.get_by_role("searchbox", name="Search tickets")


def search_for(page: Page, words: str) -> None:
    box = search_box(page)
    box.fill(words)
    box.press("Enter")


def found(page: Page) -> list[str]:
    page.wait_for_load_state()
    return sorted(page.locator(".sd-row-link").all_inner_texts())


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_one_search_from_the_top_bar_finds_any_ticket(browser, live_server, day, session, device):
    bob = make_requester(session, email="bob@example.com", full_name="Bob Builder")
    old = make_ticket(session, day["erin"], subject="Laptop battery", description="Also the printer driver.")
    service.transition(session, day["tech"], old.number, Status.RESOLVED)
    session.commit()
    monitor = make_ticket(session, bob, subject="Monitor flickers", description="Since Monday.")
    service.add_comment(session, day["tech"], monitor.number, "Please try another cable.")
    session.commit()
    page = open_page(browser, device)
    sign_in(page, live_server, "sam@example.com")

    # From the Unassigned view, words search that view first; the view is a filter the user drops.
    page.goto(f"{live_server}/desk/?view=unassigned")
    search_for(page, "printer")
    assert found(page) == ["Printer on floor 3 jams"]
    filter_chip = page.get_by_role("link", name="Remove filter: Unassigned")
    expect(filter_chip).to_be_visible()
    filter_chip.click()
    assert found(page) == ["Laptop battery", "Printer on floor 3 jams"]
    expect(page.get_by_role("heading", name=re.compile("Search"))).to_contain_text("printer")

    # The requester's name or email, words in a reply: every status.
    search_for(page, "erin")
    assert found(page) == ["Laptop battery", "Printer on floor 3 jams"]
    search_for(page, "bob@example.com")
    assert found(page) == ["Monitor flickers"]
    search_for(page, "cable")
    assert found(page) == ["Monitor flickers"]
    search_for(page, "nothing-like-this")
    expect(page.get_by_text("No tickets match")).to_be_visible()

    # A ticket number jumps to the ticket, with or without #; `/` puts the cursor in the box.
    search_for(page, f"#{old.number}")
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{old.number}$"))
    script_ready(page)
    page.locator("body").press("/")
    expect(search_box(page)).to_be_focused()
    page.keyboard.type(str(day["number"]))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{day['number']}$"))
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    page.context.close()


@pytest.mark.parametrize(
    ("device", "scheme"), [("desktop", "light"), ("desktop", "dark"), ("phone", "light"), ("phone", "dark")]
)
def test_screenshots_of_the_technicians_pages(browser, live_server, day, screenshot_dir, device, scheme):
    """The pages this issue changes, both widths and themes: saved for review, none scrolls sideways."""
    page = open_page(browser, device, scheme)
    sign_in(page, live_server, "sam@example.com")
    pages = {
        "desk-search": "/desk/search?q=printer&view=unassigned",
        "desk-search-empty": "/desk/search?q=nothing-matches-this",
        "desk-ticket-sidebar": f"/desk/tickets/{day['number']}?from=unassigned",
    }
    for name, path in pages.items():
        page.goto(f"{live_server}{path}")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} scrolls sideways on a {device}"
        page.screenshot(path=str(screenshot_dir / f"{name}-{device}-{scheme}.png"), full_page=True)
    page.context.close()


def composer(page: Page):
    return page.get_by_role("textbox", name="Message")


def script_ready(page: Page) -> None:
    """The page's script is running (shortcuts, drafts): keys or text sent before it would be missed."""
    page.locator("html[data-sd-ready]").wait_for(state="attached")


def type_into(page: Page, box, text: str) -> None:
    """Click into a field and wait for the focus before typing (keys sent before it lands are lost)."""
    script_ready(page)
    box.click()
    expect(box).to_be_focused()
    page.keyboard.type(text)


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_half_typed_reply_is_never_lost(browser, live_server, day, session, device):
    number = day["number"]
    url = f"{live_server}/desk/tickets/{number}"
    page = open_page(browser, device)
    sign_in(page, live_server, "sam@example.com")
    page.goto(url)
    page.get_by_text("Internal note", exact=True).click()
    type_into(page, composer(page), "Checked tray 2: the rollers are worn")
    expect(page.get_by_text("Draft saved")).to_be_visible()

    # Saving the sidebar keeps the half-typed note and its choice of audience.
    page.get_by_label("Priority").select_option("high")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Ticket updated.")).to_be_visible()
    expect(composer(page)).to_have_value("Checked tray 2: the rollers are worn")
    expect(page.locator("#visibility-internal")).to_be_checked()

    # Another device of the same technician sees the draft; a colleague does not.
    laptop = open_page(browser, "desktop")
    sign_in(laptop, live_server, "sam@example.com")
    laptop.goto(url)
    expect(composer(laptop)).to_have_value("Checked tray 2: the rollers are worn")
    colleague = open_page(browser, device)
    sign_in(colleague, live_server, "olly@example.com")
    colleague.goto(url)
    expect(composer(colleague)).to_have_value("")
    colleague.context.close()

    # Leaving the page with unsent text asks first; staying keeps the text.
    asked: list[str] = []

    def stay(dialog) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    type_into(page, composer(page), " and need replacing.")
    page.locator(".breadcrumb").get_by_role("link", name="Queue").click()
    page.wait_for_timeout(300)
    assert asked == ["beforeunload"]
    expect(page).to_have_url(url)
    expect(composer(page)).to_have_value("Checked tray 2: the rollers are worn and need replacing.")
    page.remove_listener("dialog", stay)

    # Sending it clears the draft everywhere.
    page.locator("[data-sd-send]").click()
    expect(page.get_by_text("Internal note added.")).to_be_visible()
    expect(composer(page)).to_have_value("")
    laptop.reload()
    expect(composer(laptop)).to_have_value("")
    laptop.context.close()
    page.context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_form_refused_as_stale_keeps_the_text_and_says_what_to_do(
    browser, live_server, day, session, screenshot_dir, device
):
    number = day["number"]
    url = f"{live_server}/desk/tickets/{number}"
    page = open_page(browser, device)
    sign_in(page, live_server, "sam@example.com")
    page.goto(url)

    # The page's token no longer matches (a page from before the server's key changed, say).
    page.get_by_text("Reply to requester", exact=True).click()
    type_into(page, composer(page), "Tray 2 rollers are on order.")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(i => i.value = 'stale')")
    page.locator("[data-sd-send]").click()
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{number}(#reply)?$"))
    expect(page.get_by_text("was not sent")).to_be_visible()
    expect(composer(page)).to_have_value("Tray 2 rollers are on order.")
    expect(page.locator("#visibility-public")).to_be_checked()
    page.locator("[data-sd-send]").click()
    expect(page.get_by_text("Reply sent to the requester.")).to_be_visible()

    # The session ended meanwhile (signed out elsewhere): the text is shown, and back after signing in.
    type_into(page, composer(page), "Swapped the rollers; please test.")
    page.context.clear_cookies()
    page.locator("[data-sd-send]").click()
    expect(page.get_by_role("heading", name="Your session has ended")).to_be_visible()
    expect(page.get_by_role("textbox", name="What you typed")).to_have_value(
        "Swapped the rollers; please test."
    )
    assert "400 Bad Request" not in page.content() and "CSRF" not in page.inner_text("body")
    page.screenshot(path=str(screenshot_dir / f"stale-form-{device}-light.png"), full_page=True)
    page.get_by_role("link", name="Sign in again").click()
    page.get_by_label("Email").fill("sam@example.com")
    page.get_by_label("Password").fill("password123")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{number}(#reply)?$"))
    expect(composer(page)).to_have_value("Swapped the rollers; please test.")
    page.get_by_text("Reply to requester", exact=True).click()
    page.locator("[data-sd-send]").click()
    expect(page.get_by_text("Reply sent to the requester.")).to_be_visible()
    session.expire_all()
    assert [c.body for c in service.get_ticket(session, day["tech"], number).comments][-2:] == [
        "Tray 2 rollers are on order.",
        "Swapped the rollers; please test.",
    ]
    page.context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_news_since_the_page_opened_is_shown_before_a_reply_goes_out(
    browser, live_server, day, session, device
):
    number = day["number"]
    url = f"{live_server}/desk/tickets/{number}"
    page = open_page(browser, device)
    sign_in(page, live_server, "sam@example.com")
    page.goto(url)
    page.get_by_text("Reply to requester", exact=True).click()
    type_into(page, composer(page), "Please restart the printer.")

    # Olly answers the requester and moves the ticket on while Sam is still writing.
    service.add_comment(session, day["other"], number, "I have sent a technician to floor 3.")
    session.commit()
    service.transition(session, day["other"], number, Status.PENDING)
    session.commit()
    page.locator("[data-sd-send]").click()
    notice = page.get_by_role("region", name="While you were writing")
    expect(notice).to_contain_text("Olly Other replied")
    expect(notice).to_contain_text("I have sent a technician to floor 3.")
    expect(notice).to_contain_text("changed the status from Open to Pending")
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{number}\?since=\d+(#reply)?$"))
    expect(composer(page)).to_have_value("Please restart the printer.")
    assert [c.body for c in current(session, number).comments][-1] == "I have sent a technician to floor 3."

    # Revise puts the cursor back in the text; sending anyway sends it as it is.
    notice.get_by_role("button", name="Revise").click()
    expect(composer(page)).to_be_focused()
    page.keyboard.press("End")
    page.keyboard.type(" Olly's technician is on the way.")
    notice.get_by_role("button", name="Send anyway").click()
    expect(page.get_by_text("Reply sent to the requester.")).to_be_visible()
    assert [c.body for c in current(session, number).comments][-1] == (
        "Please restart the printer. Olly's technician is on the way."
    )
    page.context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_stale_sidebar_says_who_changed_what_and_keeps_my_choices(
    browser, live_server, day, session, device
):
    number = day["number"]
    page = open_page(browser, device)
    sign_in(page, live_server, "sam@example.com")
    page.goto(f"{live_server}/desk/tickets/{number}")
    page.get_by_label("Priority").select_option("high")
    page.get_by_label("Assignee").select_option(label="Sam Okafor")
    service.update_ticket(session, day["other"], number, service.TicketChanges(priority=Priority.URGENT))
    session.commit()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Olly Other changed the priority from Normal to Urgent")).to_be_visible()
    expect(page).not_to_have_url(re.compile(r"/update"))
    expect(page.get_by_label("Priority")).to_have_value("high")  # my choices are kept
    expect(page.get_by_label("Assignee")).to_have_value(str(day["tech"].id))
    assert current(session, number).assignee_id is None  # nothing of mine was applied
    version = current(session, number).version
    page.reload()  # F5 does not send the form again
    assert current(session, number).version == version
    page.get_by_label("Priority").select_option("high")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Ticket updated.")).to_be_visible()
    assert current(session, number).priority is Priority.HIGH
    page.context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_send_and_set_the_status_then_open_the_next_ticket(browser, live_server, day, session, device):
    first = day["number"]
    newer = make_ticket(session, day["erin"], subject="Badge does not open door 4").number
    page = open_page(browser, device)
    sign_in(page, live_server, "sam@example.com")
    page.goto(f"{live_server}/desk/?view=unassigned")
    page.get_by_role("link", name="Badge does not open door 4").click()
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{newer}$"))

    # A public reply that sets Pending, and straight on to the next ticket of the view.
    page.get_by_text("Reply to requester", exact=True).click()
    type_into(page, composer(page), "Could you hold the badge flat against the reader?")
    page.get_by_label("Then open the next ticket in Unassigned").check()
    page.get_by_role("button", name="Send and set Pending").click()
    expect(page.get_by_text("Reply sent to the requester; the ticket is now pending.")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{first}\?from=unassigned$"))
    badge = current(session, newer)
    assert badge.status is Status.PENDING
    assert [c.body for c in badge.comments] == ["Could you hold the badge flat against the reader?"]

    # An internal note that resolves; without "next" the page stays on the ticket.
    page.get_by_text("Internal note", exact=True).click()
    type_into(page, composer(page), "Paper jam cleared on site.")
    page.get_by_role("button", name="Send and set Resolved").click()
    expect(page.get_by_text("Internal note added; the ticket is now resolved.")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{first}(\?from=unassigned)?(#conversation)?$"))
    printer = current(session, first)
    assert printer.status is Status.RESOLVED and printer.comments[-1].internal
    page.context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_who_else_is_viewing_or_typing_shows_on_the_ticket(browser, live_server, day, device):
    url = f"{live_server}/desk/tickets/{day['number']}"
    sam = open_page(browser, device)
    sign_in(sam, live_server, "sam@example.com")
    sam.goto(url)
    olly = open_page(browser, "desktop")
    sign_in(olly, live_server, "olly@example.com")
    olly.goto(url)
    others = sam.get_by_role("status", name="Who else is here")
    expect(others).to_contain_text("Olly Other is viewing", timeout=15_000)
    type_into(olly, composer(olly), "Let me take this one")
    expect(others).to_contain_text("Olly Other is typing", timeout=15_000)
    olly.context.close()
    # Closing the page says goodbye: gone at Sam's next beat (the box hides when nobody else is here).
    expect(sam.locator("[data-sd-presence-url]")).not_to_contain_text("Olly Other", timeout=15_000)
    sam.context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_requesters_read_statuses_in_their_own_words(browser, live_server, day, session, device):
    service.transition(session, day["tech"], day["number"], Status.PENDING)
    session.commit()
    page = open_page(browser, device)
    sign_in(page, live_server, "erin@example.com")
    page.goto(f"{live_server}/portal/")
    row = page.locator("tr", has_text="Printer on floor 3 jams")
    expect(row).to_contain_text("Awaiting your reply")
    expect(row).not_to_contain_text("Pending")
    row.get_by_role("link", name="Printer on floor 3 jams").click()
    expect(page.get_by_text("Awaiting your reply").first).to_be_visible()
    expect(page.get_by_text("The desk is waiting for your answer")).to_be_visible()
    page.context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_queue_filters_apply_on_change_show_that_the_list_is_filtered_and_rows_open(
    browser, live_server, day, session, device
):
    urgent = make_ticket(session, day["erin"], subject="Server room too hot").number
    service.update_ticket(session, day["tech"], urgent, service.TicketChanges(priority=Priority.URGENT))
    session.commit()
    page = open_page(browser, device)
    sign_in(page, live_server, "sam@example.com")
    page.goto(f"{live_server}/desk/?view=open")
    script_ready(page)
    expect(page.get_by_text("Filtered by")).to_have_count(0)
    page.get_by_label("Priority").select_option("urgent")  # no Apply button to press
    expect(page).to_have_url(re.compile(r"priority=urgent"))
    assert found(page) == ["Server room too hot"]
    expect(page.get_by_text("Filtered by")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Filtered by")).to_contain_text("Priority: Urgent")

    # The whole row opens the ticket, not only its subject.
    script_ready(page)
    page.locator("tr[data-sd-row]").first.locator("td.sd-ref").click()
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{urgent}$"))
    page.go_back()
    page.get_by_role("link", name="Clear filters").click()
    expect(page).not_to_have_url(re.compile(r"priority="))
    assert found(page) == ["Printer on floor 3 jams", "Server room too hot"]
    page.context.close()
