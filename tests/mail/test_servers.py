"""The mail servers the suite starts really work: what a test delivers can be fetched over IMAPS, what
is sent over SMTP (STARTTLS + AUTH) arrives in the sink, and an outage looks like one."""

from __future__ import annotations

import imaplib
import smtplib
import socket
import ssl
import time
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from supportdesk.mail.addresses import Address
from supportdesk.mail.composing import (
    compose_message,
    identity_from_message_id,
    make_message_id,
    make_reply_address,
    subject_with_token,
    ticket_from_reply_address,
    ticket_number_in_subject,
)
from supportdesk.mail.parsing import parse_message
from tests.mail.servers import Dovecot, Mailbox, SmtpSink

RAW = (
    b"From: Paul Meyer <paul@example.com>\r\nTo: support@desk.example.com\r\nSubject: Printer jams\r\n"
    b"Message-ID: <fixture-1@example.com>\r\n\r\nThe printer on floor 3 jams.\r\n"
)


def test_a_delivered_message_is_fetched_over_imaps(mailbox: Mailbox) -> None:
    uid = mailbox.deliver(RAW)
    assert uid >= 1
    client = mailbox.connect()
    try:
        assert "IDLE" in client.capabilities
        assert client.sock.version() in {"TLSv1.2", "TLSv1.3"}  # type: ignore[attr-defined]
        client.select("INBOX")
        status, data = client.uid("FETCH", str(uid), "(BODY.PEEK[])")
        assert status == "OK"
        first = data[0]
        assert isinstance(first, tuple)
        assert parse_message(first[1]).subject == "Printer jams"
    finally:
        client.logout()
    assert mailbox.messages() == [RAW]


def test_mailboxes_are_separate(dovecot: Dovecot) -> None:
    first, second = dovecot.add_mailbox(), dovecot.add_mailbox()
    first.deliver(RAW)
    assert second.messages() == []


def test_a_wrong_password_or_plain_connection_is_refused(mailbox: Mailbox) -> None:
    client = imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=mailbox.ssl_context, timeout=10)
    try:
        with pytest.raises(imaplib.IMAP4.error):
            client.login(mailbox.user, "wrong")
    finally:
        client.shutdown()
    with pytest.raises(ssl.SSLError):
        # The certificate is checked: a client that trusts nothing but the system's CAs refuses it.
        imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=ssl.create_default_context(), timeout=10)


def test_idle_hears_a_new_message(mailbox: Mailbox) -> None:
    client = mailbox.connect()
    try:
        client.select("INBOX")
        tag = client._new_tag()
        client.send(tag + b" IDLE\r\n")
        assert client.readline().startswith(b"+")
        mailbox.deliver(RAW)
        client.sock.settimeout(10)
        deadline = time.monotonic() + 10
        line = b""
        while b"EXISTS" not in line and time.monotonic() < deadline:
            line = client.readline()
        assert line.strip() == b"* 1 EXISTS"
        client.send(b"DONE\r\n")
        while not (line := client.readline()).startswith(tag):
            assert line.startswith(b"* "), line  # untagged updates (RECENT) may come first
        assert line.startswith(tag + b" OK")
    finally:
        client.logout()


def _send(sink: SmtpSink, message: EmailMessage, *, login: bool = True) -> None:
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
        client.starttls(context=sink.ssl_context)
        if login:
            client.login(sink.user, sink.password)
        client.send_message(message)


def _message(number: int = 1) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "SupportDesk <support@desk.example.com>"
    message["To"] = "Paul Meyer <paul@example.com>"
    message["Subject"] = f"[#1042] Message {number}"
    message["Message-ID"] = f"<ticket-1042.n{number}@desk.example.com>"
    message.set_content("Hello Paul\n")
    return message


def test_mail_sent_with_starttls_and_auth_arrives(smtp_sink: SmtpSink) -> None:
    _send(smtp_sink, _message())
    [received] = smtp_sink.wait_for(1)
    assert received.mail_from == "support@desk.example.com"
    assert received.recipients == ("paul@example.com",)
    assert received.login == smtp_sink.user
    assert parse_message(received.data).subject == "[#1042] Message 1"


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_both_auth_mechanisms_work(smtp_sink: SmtpSink, mechanism: str) -> None:
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as client:
        client.starttls(context=smtp_sink.ssl_context)
        client.ehlo()
        client.user, client.password = smtp_sink.user, smtp_sink.password
        code, _ = client.auth(
            mechanism, getattr(client, f"auth_{mechanism.lower()}"), initial_response_ok=False
        )
        assert code == 235
        client.send_message(_message())
    assert len(smtp_sink.wait_for(1)) == 1


def test_the_sink_insists_on_tls_and_a_password(smtp_sink: SmtpSink) -> None:
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPException):
            client.login(smtp_sink.user, smtp_sink.password)  # no AUTH before STARTTLS
        code, _ = client.mail("support@desk.example.com")
        assert code == 530
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as client:
        client.starttls(context=smtp_sink.ssl_context)
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login(smtp_sink.user, "wrong")
    with pytest.raises(smtplib.SMTPSenderRefused):
        _send(smtp_sink, _message(), login=False)
    assert smtp_sink.received == []


def test_a_refusing_sink_answers_4xx_then_accepts(smtp_sink: SmtpSink) -> None:
    with smtp_sink.refusing():
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            _send(smtp_sink, _message(1))
        assert refused.value.smtp_code == 451
    assert smtp_sink.refused == 1
    _send(smtp_sink, _message(2))
    assert [parse_message(m.data).subject for m in smtp_sink.wait_for(1)] == ["[#1042] Message 2"]


def test_a_sink_that_is_down_refuses_connections_and_comes_back(smtp_sink: SmtpSink) -> None:
    with smtp_sink.down(), pytest.raises(ConnectionRefusedError):
        socket.create_connection((smtp_sink.host, smtp_sink.port), timeout=5).close()
    _send(smtp_sink, _message())
    assert len(smtp_sink.wait_for(1)) == 1


def test_a_composed_message_and_its_reply_make_the_round_trip(smtp_sink: SmtpSink, mailbox: Mailbox) -> None:
    """The desk's message goes out through the relay; the requester's reply (as Gmail writes it) comes
    back into the desk's mailbox and leads to the same ticket by its signed ids."""
    secret, domain = b"round-trip-secret-of-enough-bytes", "desk.example.com"
    message_id = make_message_id({"ticket": 1042, "comment": 77}, domain=domain, secret=secret)
    reply_address = make_reply_address(1042, mailbox="support@desk.example.com", secret=secret)
    outgoing = compose_message(
        sender=Address("support@desk.example.com", "Service Desk – IT"),
        to=[Address("paul@example.com", "Paul Meyer")],
        reply_to=Address(reply_address, "Service Desk – IT"),
        subject=subject_with_token("Printer on floor 3 jams", 1042),
        text="Could you restart the printer?\n",
        html="<p>Could you restart the printer?</p>",
        message_id=message_id,
        date=datetime(2024, 3, 12, 9, 15, tzinfo=UTC),
        auto_submitted=True,
    )
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as client:
        client.starttls(context=smtp_sink.ssl_context)
        client.login(smtp_sink.user, smtp_sink.password)
        client.send_message(outgoing)
    [sent] = smtp_sink.wait_for(1)
    received = parse_message(sent.data)
    assert received.sender.name == "Service Desk – IT"
    assert received.reply_to[0].address == reply_address
    assert received.automated is not None  # an auto-responder must not answer it

    reply = (
        f"From: Paul Meyer <paul@example.com>\r\nTo: {reply_address}\r\n"
        f"Subject: Re: {received.subject}\r\nMessage-ID: <reply-1@example.com>\r\n"
        f"In-Reply-To: {received.message_id}\r\nReferences: {received.message_id}\r\n\r\n"
        "Done, it works again.\r\n\r\n"
        f"On Tue, 12 Mar 2024 at 09:15, Service Desk <{reply_address}> wrote:\r\n"
        "> Could you restart the printer?\r\n"
    ).encode()
    mailbox.deliver(reply)
    [fetched] = mailbox.messages()
    answer = parse_message(fetched)
    assert answer.reply == "Done, it works again."
    assert answer.in_reply_to is not None
    assert identity_from_message_id(answer.in_reply_to, domain=domain, secret=secret) == {
        "ticket": "1042",
        "comment": "77",
    }
    assert (
        ticket_from_reply_address(answer.to[0].address, mailbox="support@desk.example.com", secret=secret)
        == 1042
    )
    assert ticket_number_in_subject(answer.subject) == 1042
