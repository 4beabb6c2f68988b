"""Duplicates and incidents (issue 21, US-91), walked at desktop and phone widths: a technician finds a
duplicate among the similar open tickets and merges it (its requester then finds their ticket closed,
pointing at where the desk carries on, and nothing of the other person's ticket); then links the
reports of an outage to one incident, answers everyone from the incident and resolves it, and each
requester finds the answer on their own ticket, solved."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from supportdesk.tickets.lifecycle import Status
from supportdesk.tickets.models import Ticket
from tests.e2e.test_flows import sign_in, sign_out
from tests.e2e.test_technician_day import open_page
from tests.factories import make_requester, make_technician, make_ticket

pytestmark = pytest.mark.e2e


@pytest.fixture
def desk(session):
    make_technician(session, email="sam@example.com", full_name="Sam Okafor")
    alice = make_requester(session, email="alice@example.com", full_name="Alice Able")
    bob = make_requester(session, email="bob@example.com", full_name="Bob Baker")
    carol = make_requester(session, email="carol@example.com", full_name="Carol Chen")
    survivor = make_ticket(
        session, alice, subject="VPN keeps disconnecting", description="The VPN drops every ten minutes."
    )
    duplicate = make_ticket(
        session, bob, subject="VPN disconnects all the time", description="My VPN drops, error 809."
    )
    make_ticket(session, carol, subject="Printer out of toner", description="Second floor printer.")
    outage = make_ticket(session, carol, subject="Email is down", description="Outlook cannot connect.")
    report = make_ticket(session, bob, subject="No email since 9", description="Outlook says disconnected.")
    return {
        "survivor": survivor.number,
        "duplicate": duplicate.number,
        "outage": outage.number,
        "report": report.number,
    }


def status_of(session, number: int) -> Status:
    session.expire_all()
    return session.scalars(select(Ticket.status).where(Ticket.number == number)).one()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_technician_merges_a_duplicate_and_its_requester_sees_where_it_went(
    browser, live_server, desk, session, device, screenshot_dir
):
    survivor, duplicate = desk["survivor"], desk["duplicate"]
    page = open_page(browser, device)
    sign_in(page, live_server, "sam@example.com")
    page.goto(f"{live_server}/desk/tickets/{duplicate}")

    # The similar open tickets, from every requester, come after the page: Alice's is the first.
    similar = page.locator(".sd-similar")
    expect(similar.get_by_role("link", name=f"#{survivor} VPN keeps disconnecting")).to_be_visible()
    expect(similar).to_contain_text("Alice Able")
    expect(similar).not_to_contain_text(f"#{duplicate}")
    expect(similar).not_to_contain_text("Printer")
    page.locator(".sd-links").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / f"desk-similar-tickets-{device}.png"), full_page=True)

    page.once("dialog", lambda dialog: dialog.accept())
    similar.get_by_role("button", name=f"Merge #{duplicate} into #{survivor}").click()
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{survivor}$"))
    expect(page.get_by_text(f"Ticket #{duplicate} was merged into #{survivor} and closed")).to_be_visible()
    merged = page.locator(".sd-merged-from")
    expect(merged.get_by_role("heading")).to_contain_text(f"Merged from #{duplicate}")
    expect(merged).to_contain_text("My VPN drops, error 809.")
    expect(page.locator(".sd-activity")).to_contain_text(f"merged #{duplicate} into this ticket")
    page.screenshot(path=str(screenshot_dir / f"desk-merged-survivor-{device}.png"), full_page=True)

    page.locator(".sd-merged-from").get_by_role("link", name=f"#{duplicate}").click()
    expect(page.locator(".sd-merged-banner")).to_contain_text(f"This ticket was merged into #{survivor}")
    assert status_of(session, duplicate) is Status.CLOSED
    sign_out(page)

    # Bob finds his ticket closed, pointing at the ticket the desk carries on in, and told why.
    sign_in(page, live_server, "bob@example.com")
    page.goto(f"{live_server}/portal/tickets/{duplicate}")
    banner = page.locator(".sd-merged-banner")
    expect(banner).to_contain_text(f"merged into ticket #{survivor}")
    expect(page.locator("#conversation")).to_contain_text("handling this together with the same request")
    expect(page.get_by_text("VPN keeps disconnecting")).to_have_count(0)
    expect(page.get_by_role("button", name="Reopen ticket")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / f"portal-merged-ticket-{device}.png"), full_page=True)
    page.goto(f"{live_server}/portal/tickets/{survivor}")
    expect(page.get_by_text("VPN keeps disconnecting")).to_have_count(0)  # Alice's ticket stays hers
    page.context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_technician_answers_and_resolves_an_incident_with_its_children(
    browser, live_server, desk, session, device, screenshot_dir
):
    outage, report, other = desk["outage"], desk["report"], desk["survivor"]
    page = open_page(browser, device)
    sign_in(page, live_server, "sam@example.com")
    for child in (report, other):
        page.goto(f"{live_server}/desk/tickets/{child}")
        page.get_by_label("Part of an incident (its ticket number)").fill(f"#{outage}")
        page.get_by_role("button", name="Link", exact=True).click()
        expect(page.get_by_text(f"Ticket #{child} is now part of incident #{outage}.")).to_be_visible()
    expect(page.locator(".sd-incident-line")).to_contain_text(f"Part of #{outage} Email is down")

    page.goto(f"{live_server}/desk/tickets/{outage}")
    children = page.locator(".sd-children")
    expect(page.locator(".sd-links")).to_contain_text("Incident: 2 linked tickets (2 open)")
    expect(children.get_by_role("link", name=f"#{report} No email since 9")).to_be_visible()
    page.get_by_text("Reply to requester", exact=True).click()
    page.get_by_label("Message").fill("Email is back: restart Outlook, please.")
    page.get_by_label(re.compile("Also send this reply to the requesters of the 2 linked tickets")).check()
    page.screenshot(path=str(screenshot_dir / f"desk-incident-reply-{device}.png"), full_page=True)
    page.get_by_role("button", name="Send and set Resolved").click()
    expect(page.get_by_text("and to the requesters of 2 linked ticket(s)")).to_be_visible()
    expect(children).to_contain_text("Resolved")
    page.screenshot(path=str(screenshot_dir / f"desk-incident-resolved-{device}.png"), full_page=True)
    assert [status_of(session, n) for n in (outage, report, other)] == [Status.RESOLVED] * 3
    sign_out(page)

    # Bob reads the answer on his own ticket, solved; nothing of the incident or of Carol's ticket.
    sign_in(page, live_server, "bob@example.com")
    page.goto(f"{live_server}/portal/tickets/{report}")
    expect(page.locator("#conversation")).to_contain_text("Email is back: restart Outlook, please.")
    expect(page.get_by_text("Solved").first).to_be_visible()
    expect(page.get_by_text("Email is down")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / f"portal-incident-child-{device}.png"), full_page=True)
    page.context.close()
