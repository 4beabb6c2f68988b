"""What arrives is what the desk keeps: the corpus of real clients' messages through Dovecot (replies
keep only their new text, files and winmail.dat's contents kept, machine mail recorded only); files
over the desk's limits named instead of dropped silently; a reply to a closed ticket is a follow-up; our
signed reply address threads without headers or token; a deactivated account is refused quietly; a
technician may answer by email."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

from sqlalchemy import select

from supportdesk.attachments.models import Attachment
from supportdesk.attachments.service import sanitise_filename
from supportdesk.inbound.models import Outcome, Receipt
from supportdesk.mail.composing import make_reply_address
from supportdesk.notifications import outbox
from supportdesk.notifications.models import OutboxMessage
from supportdesk.tickets.lifecycle import Status
from supportdesk.tickets.models import Ticket
from tests.factories import make_requester, make_technician, make_ticket
from tests.inbound.conftest import write_mail
from tests.inbound.test_fetching import comments, poll, tickets

CORPUS = Path(__file__).resolve().parents[1] / "mail" / "corpus"


def test_the_corpus_of_real_clients_becomes_tickets_with_their_files(
    imap_app, session, mailbox, desk_mailbox
):
    expected: dict[str, dict] = {}
    for path in sorted(CORPUS.glob("*.eml")):
        mailbox.deliver(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        expected[path.stem] = json.loads(path.with_suffix(".json").read_text())
    result = poll(imap_app, desk_mailbox)
    people = [e for e in expected.values() if e["automated"] is None]
    assert (result.imported, result.recorded, result.quarantined) == (
        len(people),
        len(expected) - len(people),
        0,
    )
    assert mailbox.messages() == []
    session.expire_all()
    by_message = {r.message_key: r for r in session.scalars(select(Receipt))}
    for name, sidecar in expected.items():
        receipt = by_message[sidecar["message_id"]]
        if sidecar["automated"] is not None:
            assert receipt.outcome is Outcome.AUTOMATED, name
            continue
        assert receipt.outcome is Outcome.TICKET, (name, receipt.detail)
        ticket = session.get(Ticket, receipt.ticket_id)
        assert ticket.requester.email == sidecar["from"]["address"], name
        if sidecar.get("reply") and not sidecar["subject"].lower().startswith("fwd"):
            assert sidecar["reply"].strip()[:200] in ticket.description, name
        assert not re.search(r"<(script|style|img|a|div|p|table)\b", ticket.description, re.I), name  # text
        files = session.scalars(
            select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)
        )
        assert sorted((f.filename, f.size_bytes) for f in files) == sorted(
            (sanitise_filename(a["filename"]), a["size"]) for a in sidecar["attachments"]
        ), name


def test_files_over_the_desks_limits_are_named_in_the_ticket_not_dropped_silently(
    imap_app, session, mailbox, desk_mailbox
):
    settings = imap_app.config["SUPPORTDESK"]
    imap_app.config["SUPPORTDESK"] = dataclasses.replace(settings, max_file_bytes=1000)
    try:
        make_requester(session, email="erin@example.com")
        mailbox.deliver(
            write_mail(
                "erin@example.com",
                "Crash dump",
                "Both files attached.",
                attachments=(
                    ("small.txt", "text/plain", b"x" * 500),
                    ("dump.bin", "application/octet-stream", b"y" * 5000),
                ),
            )
        )
        poll(imap_app, desk_mailbox)
    finally:
        imap_app.config["SUPPORTDESK"] = settings
    [ticket] = tickets(session)
    assert [a.filename for a in session.scalars(select(Attachment))] == ["small.txt"]
    assert "Not kept from the email: dump.bin (larger than the desk takes)" in ticket.description


def test_a_reply_to_a_closed_ticket_raises_a_follow_up(imap_app, session, mailbox, desk_mailbox):
    erin = make_requester(session, email="erin@example.com")
    with imap_app.app_context():
        ticket = make_ticket(session, erin, subject="Old laptop")
    ticket.status = Status.CLOSED
    session.commit()
    mailbox.deliver(write_mail("erin@example.com", f"Re: [#{ticket.number}] Old laptop", "It broke again."))
    poll(imap_app, desk_mailbox)
    follow_up = tickets(session)[-1]
    assert follow_up.id != ticket.id and follow_up.subject == "Old laptop"
    assert follow_up.description.startswith(f"Follow-up to #{ticket.number}, which is closed.")
    assert "It broke again." in follow_up.description


def test_our_signed_reply_address_threads_without_headers_or_token(imap_app, session, mailbox, desk_mailbox):
    erin = make_requester(session, email="erin@example.com")
    with imap_app.app_context():
        ticket = make_ticket(session, erin, subject="Badge")
    config = imap_app.config["SUPPORTDESK"]
    address = make_reply_address(
        ticket.number, mailbox="support@desk.example.com", secret=outbox.mail_secret(config)
    )
    forged = address.replace("support+", "support+9").replace(f"+9{ticket.number}", f"+{ticket.number + 1}")
    mailbox.deliver(
        write_mail("erin@example.com", "still broken", "The badge does not open door 4.", to=address)
    )
    mailbox.deliver(write_mail("erin@example.com", "forged", "Someone else's?", to=forged))
    poll(imap_app, desk_mailbox)
    assert [c.body for c in comments(session, ticket)] == ["The badge does not open door 4."]
    assert [t.subject for t in tickets(session)] == ["Badge", "forged"]


def test_a_deactivated_account_is_refused_quietly_and_a_technician_may_answer_by_email(
    imap_app, session, mailbox, desk_mailbox
):
    erin = make_requester(session, email="erin@example.com")
    make_requester(session, email="gone@example.com", is_active=False)
    sam = make_technician(session, email="sam@example.com")
    with imap_app.app_context():
        ticket = make_ticket(session, erin, subject="Monitor")
        session.commit()
    mailbox.deliver(write_mail("gone@example.com", "Hello", "I left last month."))
    mailbox.deliver(
        write_mail("sam@example.com", f"Re: [#{ticket.number}] Monitor", "A new one is on its way.")
    )
    poll(imap_app, desk_mailbox)
    session.expire_all()
    [refused] = [r for r in session.scalars(select(Receipt)) if r.sender == "gone@example.com"]
    assert refused.outcome is Outcome.REJECTED and "deactivated" in refused.detail
    assert session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "rejected")).all() == []
    [answer] = comments(session, ticket)
    assert (answer.author_id, answer.internal, answer.body) == (sam.id, False, "A new one is on its way.")
    assert session.get(Ticket, ticket.id).first_response_at is not None
