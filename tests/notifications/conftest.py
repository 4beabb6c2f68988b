"""The app pointed at the real SMTP relay of the suite (aiosmtpd: STARTTLS, then AUTH), and helpers to
put messages in the outbox the way a service does."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supportdesk.core.db import unit_of_work
from supportdesk.mail.addresses import Address
from supportdesk.notifications import outbox
from supportdesk.notifications.models import OutboxMessage
from tests.mail.servers import SmtpSink


@pytest.fixture
def relay_app(clean_app: Flask, smtp_sink: SmtpSink) -> Iterator[Flask]:
    """The app sending through the suite's relay, as production sends through its smarthost."""
    settings = clean_app.config["SUPPORTDESK"]
    clean_app.config["SUPPORTDESK"] = dataclasses.replace(
        settings,
        smtp_host="localhost",
        smtp_port=smtp_sink.port,
        smtp_security="starttls",
        smtp_username=smtp_sink.user,
        smtp_password=smtp_sink.password,
        smtp_ca_file=str(smtp_sink.certificate.cert),
        smtp_timeout_seconds=5,
    )
    yield clean_app
    clean_app.config["SUPPORTDESK"] = settings


def queue_messages(app: Flask, session: Session, count: int = 1, to: str = "alice@example.com") -> list[int]:
    """`count` messages written to the outbox in one committed unit of work; their ids."""
    with app.app_context(), unit_of_work(session):
        rows = [
            outbox.queue_message(
                session,
                kind="test",
                to=[Address(to, "Alice Example")],
                subject=f"Message {n}",
                text=f"Plain body {n}",
                html=f"<p>HTML body {n}</p>",
            )
            for n in range(count)
        ]
    return [row.id for row in rows]


def outbox_count(session: Session, status: str | None = None) -> int:
    query = select(func.count()).select_from(OutboxMessage)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    session.expire_all()
    return int(session.scalar(query) or 0)
