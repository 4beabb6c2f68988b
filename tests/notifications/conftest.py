"""Helpers to put messages in the outbox the way a service does (the app sending through the suite's
relay is `relay_app`, in tests/mail/fixtures.py)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supportdesk.core.db import unit_of_work
from supportdesk.mail.addresses import Address
from supportdesk.notifications import outbox
from supportdesk.notifications.models import OutboxMessage


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
