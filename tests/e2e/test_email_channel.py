"""US-75, the whole ticket by email through the real mail servers: the admin connects the desk's
mailbox; an employee raises a ticket by writing to it (and is acknowledged with its number); a
technician answers in the desk and the answer reaches the employee through the SMTP relay; the
employee replies from their mail client (In-Reply-To the desk's message, the quote below); the reply
lands on the ticket without the quote and the technician is told, by mail and in the app; the
technician resolves it and the employee is told. Desktop and phone."""

from __future__ import annotations

import dataclasses
import email
from collections.abc import Iterator
from email import policy

import pytest
from flask import Flask
from playwright.sync_api import expect

from supportdesk.jobs import engine
from tests.e2e.test_flows import sign_in, sign_out
from tests.factories import make_admin, make_requester, make_technician
from tests.inbound.conftest import write_mail
from tests.mail.servers import Dovecot, SmtpSink

pytestmark = pytest.mark.e2e


@pytest.fixture
def mail_app(relay_app: Flask, dovecot: Dovecot) -> Iterator[Flask]:
    """The app sending through the suite's relay and trusting the IMAP server's certificate."""
    settings = relay_app.config["SUPPORTDESK"]
    relay_app.config["SUPPORTDESK"] = dataclasses.replace(
        settings, imap_ca_file=str(dovecot.certificate.cert), imap_timeout_seconds=5
    )
    yield relay_app
    relay_app.config["SUPPORTDESK"] = settings


def mail_to(sink: SmtpSink, address: str) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(m.data, policy=policy.default)  # type: ignore[misc]
        for m in sink.received
        if address in m.recipients
    ]


@pytest.mark.parametrize("width", [1280, 390])
def test_an_employee_runs_a_ticket_by_email_and_the_technician_never_misses_an_answer(
    browser, mail_app, live_server, session, dovecot, smtp_sink, screenshot_dir, width
):
    make_requester(session, email="erin@example.com", full_name="Erin Employee")
    make_technician(session, email="sam@example.com", full_name="Sam Okafor")
    make_admin(session, email="ada@example.com", full_name="Ada Admin")
    account = dovecot.add_mailbox()
    device = "desktop" if width > 600 else "phone"
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()

    # The admin connects the desk's mailbox.
    sign_in(page, live_server, "ada@example.com")
    page.goto(f"{live_server}/admin/mailboxes")
    expect(page.get_by_text("No mailboxes yet")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("IT support")
    page.get_by_label("Address people write to", exact=True).fill("support@desk.example.com")
    page.get_by_label("Host", exact=True).fill(account.host)
    page.get_by_label("Port", exact=True).fill(str(account.port))
    page.get_by_label("User name", exact=True).fill(account.user)
    page.get_by_label("Password", exact=True).fill(account.password)
    page.get_by_role("button", name="Add mailbox").click()
    expect(page.get_by_text("Mailbox added")).to_be_visible()

    # The employee writes to the desk.
    account.deliver(
        write_mail(
            "Erin Employee <erin@example.com>",
            "Printer on floor 3 jams",
            "It jams on every second page since this morning.\n\n-- \nErin Employee\nAccounts\n",
            message_id="<erin-1@mail.example.com>",
        )
    )
    page.get_by_role("button", name="Check IT support now").click()
    expect(page.get_by_text("IT support will be read in a moment.")).to_be_visible()
    engine.run_queued(mail_app)  # the worker: the poll, then the acknowledgement's delivery
    page.reload()
    raised = page.get_by_role("link", name="raised #1001")
    expect(raised).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"admin-mailboxes-{device}.png"), full_page=True)
    [ack] = mail_to(smtp_sink, "erin@example.com")
    assert ack["Subject"] == "[#1001] Printer on floor 3 jams"
    sign_out(page)

    # The technician answers in the desk; the answer goes out through the relay.
    sign_in(page, live_server, "sam@example.com")
    page.goto(f"{live_server}/desk/tickets/1001")
    expect(page.get_by_text("It jams on every second page since this morning.")).to_be_visible()
    page.get_by_text("Reply to requester", exact=True).click()
    page.locator("[data-sd-reply]").fill("Which tray do you print from?")
    page.locator("[data-sd-send]").click()
    expect(page.get_by_text("Reply sent to the requester.")).to_be_visible()
    smtp_sink.reset()
    engine.run_queued(mail_app)
    [question] = mail_to(smtp_sink, "erin@example.com")
    assert question["Subject"] == "[#1001] Printer on floor 3 jams"
    assert "Which tray do you print from?" in question.get_body(("plain",)).get_content()

    # The employee replies from their mail client, quoting the question.
    account.deliver(
        write_mail(
            "Erin Employee <erin@example.com>",
            f"Re: {question['Subject']}",
            "Tray 2, the lower one.\n\n"
            "On Sun, 29 Nov 2026 at 10:02, SupportDesk <support@desk.example.com> wrote:\n"
            "> Which tray do you print from?\n",
            headers={
                "In-Reply-To": question["Message-ID"],
                "References": f"{question['References']} {question['Message-ID']}",
            },
        )
    )
    smtp_sink.reset()
    engine.run_periodic(mail_app)  # the minute's poll
    engine.run_queued(mail_app)
    [told] = mail_to(smtp_sink, "sam@example.com")
    assert "Tray 2, the lower one." in told.get_body(("plain",)).get_content()
    page.reload()
    expect(page.get_by_text("Tray 2, the lower one.")).to_be_visible()
    expect(page.get_by_text("Which tray do you print from?", exact=True)).to_have_count(1)  # no quote
    expect(page.locator(".sd-unread")).to_have_text("1 unread")
    page.screenshot(path=str(screenshot_dir / f"desk-reply-by-email-{device}.png"), full_page=True)

    # The technician fixes it and resolves the ticket; the employee hears of it.
    page.get_by_text("Reply to requester", exact=True).click()
    page.locator("[data-sd-reply]").fill("Fixed: the roller of tray 2 was worn and is replaced.")
    page.get_by_role("button", name="Send and set Resolved").click()
    expect(page.get_by_text("Reply sent to the requester; the ticket is now resolved.")).to_be_visible()
    smtp_sink.reset()
    engine.run_queued(mail_app)
    subjects = [m.get_body(("plain",)).get_content() for m in mail_to(smtp_sink, "erin@example.com")]
    assert any("roller of tray 2" in text for text in subjects)
    assert any("resolved" in text.lower() for text in subjects)
