"""An app that reads a desk mailbox on the suite's Dovecot (IMAPS, its throwaway certificate trusted),
the mailbox's row, and messages written as mail clients write them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from supportdesk.core.db import unit_of_work
from supportdesk.inbound import mailboxes
from supportdesk.inbound.models import Mailbox as MailboxRow
from supportdesk.inbound.models import UnknownSenders
from tests.factories import make_admin
from tests.mail.servers import Dovecot, Mailbox


@pytest.fixture
def imap_app(clean_app: Flask, dovecot: Dovecot) -> Iterator[Flask]:
    """The app trusting the test server's certificate, as production trusts a private CA's."""
    settings = clean_app.config["SUPPORTDESK"]
    clean_app.config["SUPPORTDESK"] = dataclasses.replace(
        settings, imap_ca_file=str(dovecot.certificate.cert), imap_timeout_seconds=5
    )
    yield clean_app
    clean_app.config["SUPPORTDESK"] = settings


def add_desk_mailbox(app: Flask, session: Session, account: Mailbox, **fields: object) -> MailboxRow:
    admin = make_admin(session, email=f"admin-{account.user}@example.com")
    values = {
        "name": f"Support {account.user}",
        "address": "support@desk.example.com",
        "host": account.host,
        "port": account.port,
        "security": "tls",
        "username": account.user,
        "password": account.password,
        "folder": "INBOX",
        "after_import": "move",
        "processed_folder": "Processed",
        "unknown_senders": UnknownSenders.CREATE,
        "allowed_domains": (),
        "per_sender_per_hour": 20,
        "is_active": True,
        **fields,
    }
    with app.app_context(), unit_of_work(session):
        return mailboxes.create_mailbox(session, admin, mailboxes.MailboxFields(**values))  # type: ignore[arg-type]


@pytest.fixture
def desk_mailbox(imap_app: Flask, session: Session, mailbox: Mailbox) -> MailboxRow:
    return add_desk_mailbox(imap_app, session, mailbox)


def write_mail(
    sender: str,
    subject: str,
    body: str,
    *,
    to: str = "support@desk.example.com",
    html: str | None = None,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: tuple[tuple[str, str, bytes], ...] = (),
) -> bytes:
    """A message as a mail client sends it: text (and HTML) body, files, threading headers."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime(2026, 11, 29, 9, 30, tzinfo=UTC))
    message["Message-ID"] = message_id or make_msgid(domain="mail.example.com")
    for name, value in (headers or {}).items():
        message[name] = value
    if html is not None and not body:
        message.set_content(html, subtype="html")
    else:
        message.set_content(body)
        if html is not None:
            message.add_alternative(html, subtype="html")
    for filename, content_type, content in attachments:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes(policy=SMTP)
