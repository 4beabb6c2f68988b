"""Loops and noise: the polite refusal goes once to a person and never to a machine; a sender who
writes too much in an hour is recorded and nothing more; mail the desk sent itself is never imported."""

from __future__ import annotations

import email
from email import policy

from sqlalchemy import select

from supportdesk.inbound.models import Outcome, Receipt, UnknownSenders
from supportdesk.notifications.models import OutboxMessage
from supportdesk.tickets.models import Ticket
from tests.factories import make_requester
from tests.inbound.conftest import add_desk_mailbox, write_mail
from tests.inbound.test_fetching import poll


def test_an_unknown_sender_gets_one_polite_threaded_reply_and_a_machine_gets_none(imap_app, session, mailbox):
    row = add_desk_mailbox(imap_app, session, mailbox, unknown_senders=UnknownSenders.REJECT)
    mailbox.deliver(
        write_mail("Quentin <quentin@example.com>", "Question", "Who are you?", message_id="<q1@example.com>")
    )
    mailbox.deliver(
        write_mail("robot@example.com", "Out of office", "Away.", headers={"Auto-Submitted": "auto-replied"})
    )
    poll(imap_app, row)
    [reply] = session.scalars(select(OutboxMessage))
    assert (reply.kind, reply.recipients) == ("rejected", "quentin@example.com")
    sent = email.message_from_string(reply.raw, policy=policy.default)
    assert sent["Subject"] == "Re: Question"
    assert sent["In-Reply-To"] == "<q1@example.com>"
    assert sent["Auto-Submitted"] == "auto-generated"  # so their auto-responder does not answer it
    assert "account" in sent.get_body(("plain",)).get_content()
    outcomes = sorted(r.outcome.value for r in session.scalars(select(Receipt)))
    assert outcomes == ["automated", "rejected"]


def test_a_sender_over_the_hourly_limit_is_recorded_and_nothing_more(imap_app, session, mailbox):
    row = add_desk_mailbox(imap_app, session, mailbox, per_sender_per_hour=2)
    make_requester(session, email="erin@example.com")
    for n in range(4):
        mailbox.deliver(write_mail("erin@example.com", f"Storm {n}", "Again."))
    mailbox.deliver(write_mail("otto@example.com", "Unrelated", "Hello."))
    poll(imap_app, row)
    assert sorted(t.subject for t in session.scalars(select(Ticket))) == ["Storm 0", "Storm 1", "Unrelated"]
    limited = [r for r in session.scalars(select(Receipt)) if r.outcome is Outcome.RATE_LIMITED]
    assert len(limited) == 2 and all(r.raw is None for r in limited)
    assert mailbox.messages() == []


def test_mail_the_desk_sent_itself_is_never_imported(imap_app, session, mailbox):
    row = add_desk_mailbox(imap_app, session, mailbox)
    config = imap_app.config["SUPPORTDESK"]
    mailbox.deliver(write_mail(config.mail_from, "[#1001] Your ticket", "Looping?"))
    mailbox.deliver(write_mail("support@desk.example.com", "Forwarded to ourselves", "Looping?"))
    poll(imap_app, row)
    assert session.scalars(select(Ticket)).all() == []
    assert {r.outcome for r in session.scalars(select(Receipt))} == {Outcome.AUTOMATED}
