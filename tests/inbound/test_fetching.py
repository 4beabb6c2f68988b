"""Email to ticket through the real IMAP server: a known user's message raises a ticket, a reply lands
on the right ticket (our Message-IDs first, then the [#n] token, never the subject's words), the message
leaves the inbox only once its ticket is committed, a message read twice is imported once, and a message
that cannot be read is kept for an admin without holding up the ones behind it."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from supportdesk.accounts.models import Role, User
from supportdesk.attachments.models import Attachment
from supportdesk.core.db import unit_of_work
from supportdesk.inbound import polling, receiving
from supportdesk.inbound.models import Mailbox as MailboxRow
from supportdesk.inbound.models import Outcome, Receipt, UnknownSenders
from supportdesk.jobs import engine
from supportdesk.notifications.models import OutboxMessage
from supportdesk.tickets import service
from supportdesk.tickets.models import Comment, Ticket
from tests.factories import make_requester, make_technician, make_ticket
from tests.inbound.conftest import add_desk_mailbox, write_mail
from tests.mail.servers import Mailbox


def poll(app: Flask, row: MailboxRow) -> polling.PollResult:
    with app.app_context():
        return polling.poll_mailbox(row.id)


def tickets(session: Session) -> list[Ticket]:
    session.expire_all()
    return list(session.scalars(select(Ticket).order_by(Ticket.number)))


def comments(session: Session, ticket: Ticket) -> list[Comment]:
    session.expire_all()
    return list(session.scalars(select(Comment).where(Comment.ticket_id == ticket.id).order_by(Comment.id)))


def receipts(session: Session) -> list[Receipt]:
    session.expire_all()
    return list(session.scalars(select(Receipt).order_by(Receipt.id)))


def test_a_known_users_message_raises_a_ticket_and_then_leaves_the_inbox(
    imap_app, session, mailbox: Mailbox, desk_mailbox
):
    erin = make_requester(session, email="erin@example.com", full_name="Erin Employee")
    raw = write_mail(
        "Erin Employee <Erin@Example.com>",
        "Printer on floor 3 jams",
        "It jams on every second page.\n\n-- \nErin Employee\nAccounts\n",
        attachments=(("jam.pdf", "application/pdf", b"%PDF-1.4 a photo of the jam"),),
    )
    mailbox.deliver(raw)
    result = poll(imap_app, desk_mailbox)
    assert result.imported == 1
    [ticket] = tickets(session)
    assert ticket.requester_id == erin.id
    assert ticket.subject == "Printer on floor 3 jams"
    assert "It jams on every second page." in ticket.description
    [attachment] = session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id))
    assert (attachment.filename, attachment.size_bytes) == ("jam.pdf", len(b"%PDF-1.4 a photo of the jam"))
    assert mailbox.messages() == []  # gone from the inbox only now that the ticket is committed
    assert mailbox.messages("Processed") == [raw]
    [receipt] = receipts(session)
    assert (receipt.outcome, receipt.ticket_id, receipt.sender) == (
        Outcome.TICKET,
        ticket.id,
        "erin@example.com",
    )
    # The requester is acknowledged with the ticket's number, as for a ticket raised on the portal.
    [ack] = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "created"))
    assert ack.recipients == "erin@example.com" and f"[#{ticket.number}]" in ack.subject


def test_a_reply_to_our_mail_is_a_comment_on_its_ticket_without_the_quoted_history(
    imap_app, session, mailbox: Mailbox, desk_mailbox
):
    erin = make_requester(session, email="erin@example.com", full_name="Erin Employee")
    sam = make_technician(session, email="sam@example.com")
    with imap_app.app_context():
        ticket = make_ticket(session, erin, subject="VPN drops every hour")
        service.add_comment(session, sam, ticket.number, "Which VPN client version do you run?")
        session.commit()
    question = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "reply", OutboxMessage.recipients == erin.email)
    ).one()
    raw = write_mail(
        "erin@example.com",
        "Re: something my client made of the subject",
        "Version 5.2, on Windows 11.\n\n"
        "On Sun, 29 Nov 2026 at 09:15, SupportDesk <support@desk.example.com> wrote:\n"
        "> Which VPN client version do you run?\n",
        headers={"In-Reply-To": question.message_id, "References": question.message_id},
    )
    mailbox.deliver(raw)
    assert poll(imap_app, desk_mailbox).imported == 1
    assert len(tickets(session)) == 1
    reply = comments(session, ticket)[-1]
    assert reply.author_id == erin.id and not reply.internal
    assert reply.body == "Version 5.2, on Windows 11."
    assert receipts(session)[0].outcome is Outcome.COMMENT


def test_the_subject_token_threads_a_reply_without_headers_but_the_subject_text_alone_never_does(
    imap_app, session, mailbox: Mailbox, desk_mailbox
):
    erin = make_requester(session, email="erin@example.com")
    with imap_app.app_context():
        ticket = make_ticket(session, erin, subject="Laptop battery")
    mailbox.deliver(write_mail("erin@example.com", f"AW: [#{ticket.number}] Laptop battery", "Still at 40%."))
    mailbox.deliver(write_mail("erin@example.com", "Re: Laptop battery", "And it is hot."))
    assert poll(imap_app, desk_mailbox).imported == 2
    assert [c.body for c in comments(session, ticket)] == ["Still at 40%."]
    second = tickets(session)[-1]
    assert second.id != ticket.id and second.subject == "Laptop battery"


def test_a_token_for_someone_elses_ticket_raises_a_new_ticket_instead(
    imap_app, session, mailbox: Mailbox, desk_mailbox
):
    erin = make_requester(session, email="erin@example.com")
    make_requester(session, email="mallory@example.com")
    with imap_app.app_context():
        ticket = make_ticket(session, erin, subject="Salary question")
    mailbox.deliver(write_mail("mallory@example.com", f"Re: [#{ticket.number}] hello", "Let me in."))
    poll(imap_app, desk_mailbox)
    assert comments(session, ticket) == []
    assert [t.subject for t in tickets(session)] == ["Salary question", "hello"]


def test_a_message_read_twice_is_imported_once(imap_app, session, mailbox: Mailbox, desk_mailbox):
    make_requester(session, email="erin@example.com")
    raw = write_mail("erin@example.com", "Monitor flickers", "Since this morning.")
    # The worker committed the ticket and died before it could move the message: it is read again.
    with imap_app.app_context(), unit_of_work(session):
        receiving.receive(session, session.get(MailboxRow, desk_mailbox.id), raw)
    mailbox.deliver(raw)
    mailbox.deliver(raw)  # and the server handed the same message over twice
    result = poll(imap_app, desk_mailbox)
    assert (result.imported, result.duplicates) == (0, 2)
    assert len(tickets(session)) == 1
    assert mailbox.messages() == []


def test_an_unreadable_message_is_kept_for_an_admin_and_the_next_one_still_comes_in(
    imap_app, session, mailbox: Mailbox, desk_mailbox
):
    make_requester(session, email="erin@example.com")
    nested = b"Content-Type: multipart/mixed; boundary=b0\r\n\r\n"
    for depth in range(1, 30):
        nested += f"--b{depth - 1}\r\nContent-Type: multipart/mixed; boundary=b{depth}\r\n\r\n".encode()
    broken = b"From: erin@example.com\r\nSubject: deep\r\nMessage-ID: <deep@example.com>\r\n" + nested
    mailbox.deliver(broken)
    mailbox.deliver(write_mail("erin@example.com", "Keyboard missing keys", "The E key is gone."))
    result = poll(imap_app, desk_mailbox)
    assert (result.imported, result.quarantined) == (1, 1)
    assert [t.subject for t in tickets(session)] == ["Keyboard missing keys"]
    quarantined = [r for r in receipts(session) if r.outcome is Outcome.QUARANTINED]
    assert len(quarantined) == 1
    assert quarantined[0].raw == mailbox.messages("Processed")[0]  # every byte kept
    assert "nested deeper" in quarantined[0].detail
    assert (quarantined[0].sender, quarantined[0].subject) == ("erin@example.com", "deep")  # for the list
    assert mailbox.messages() == []


def test_unknown_senders_follow_the_mailboxs_policy(imap_app, session, dovecot):
    open_box, fenced, closed = dovecot.add_mailbox(), dovecot.add_mailbox(), dovecot.add_mailbox()
    rows = {
        "open": add_desk_mailbox(imap_app, session, open_box),
        "fenced": add_desk_mailbox(
            imap_app, session, fenced, allowed_domains=("example.com",), unknown_senders=UnknownSenders.CREATE
        ),
        "closed": add_desk_mailbox(imap_app, session, closed, unknown_senders=UnknownSenders.REJECT),
    }
    open_box.deliver(write_mail("Nina New <nina@partner.example.org>", "Access badge", "Mine broke."))
    fenced.deliver(write_mail("Olaf Out <olaf@elsewhere.example.net>", "Hello", "Let me in."))
    fenced.deliver(write_mail("Pia Inside <pia@example.com>", "Wifi", "No signal in room 4."))
    closed.deliver(write_mail("Quentin <quentin@example.com>", "Question", "Who are you?"))
    for row in rows.values():
        poll(imap_app, row)
    session.expire_all()
    nina = session.scalars(select(User).where(User.email == "nina@partner.example.org")).one()
    assert (nina.full_name, nina.role, nina.is_active) == ("Nina New", Role.REQUESTER, True)
    assert (
        session.scalars(
            select(User).where(User.email.in_(["olaf@elsewhere.example.net", "quentin@example.com"]))
        ).all()
        == []
    )
    assert sorted(t.subject for t in tickets(session)) == ["Access badge", "Wifi"]
    rejected = sorted(r.sender for r in receipts(session) if r.outcome is Outcome.REJECTED)
    assert rejected == ["olaf@elsewhere.example.net", "quentin@example.com"]
    assert all(box.messages() == [] for box in (open_box, fenced, closed))


def test_machine_sent_mail_is_recorded_and_never_answered(imap_app, session, mailbox: Mailbox, desk_mailbox):
    make_requester(session, email="erin@example.com")
    mailbox.deliver(
        write_mail(
            "erin@example.com",
            "Automatic reply: Printer",
            "I am out of the office until Monday.",
            headers={"Auto-Submitted": "auto-replied"},
        )
    )
    poll(imap_app, desk_mailbox)
    assert tickets(session) == []
    [receipt] = receipts(session)
    assert receipt.outcome is Outcome.AUTOMATED and "auto-replied" in receipt.detail
    assert session.scalars(select(OutboxMessage)).all() == []


def test_html_only_mail_becomes_safe_text(imap_app, session, mailbox: Mailbox, desk_mailbox):
    make_requester(session, email="erin@example.com")
    html = (
        "<html><body><p>The <b>scanner</b> says:</p><script>alert(1)</script>"
        '<p><img src="https://tracker.example.net/p.gif">Error 42</p></body></html>'
    )
    mailbox.deliver(write_mail("erin@example.com", "Scanner error", "", html=html))
    poll(imap_app, desk_mailbox)
    [ticket] = tickets(session)
    assert "scanner" in ticket.description and "Error 42" in ticket.description
    assert "<" not in ticket.description and "alert" not in ticket.description


def test_the_periodic_job_polls_every_active_mailbox(imap_app, session, mailbox: Mailbox, desk_mailbox):
    make_requester(session, email="erin@example.com")
    mailbox.deliver(write_mail("erin@example.com", "Phone headset", "Left ear silent."))
    assert "poll_mailboxes" in engine.run_periodic(imap_app)
    assert [t.subject for t in tickets(session)] == ["Phone headset"]
