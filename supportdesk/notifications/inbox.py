"""A user's in-app notifications: the list, the unread count, marking them read. Only ever the
signed-in user's own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.core.clock import now
from supportdesk.core.db import ID_MAX, read_rows
from supportdesk.core.errors import NotFound
from supportdesk.notifications.models import Notification
from supportdesk.tickets.models import Ticket

LISTED = 100


@dataclass(frozen=True)
class NotificationRow:
    id: int
    kind: str
    title: str
    excerpt: str
    created_at: datetime
    read_at: datetime | None
    ticket_number: int | None


def list_notifications(session: Session, user: User) -> list[NotificationRow]:
    query = (
        select(
            Notification.id,
            Notification.kind,
            Notification.title,
            Notification.excerpt,
            Notification.created_at,
            Notification.read_at,
            Ticket.number,
        )
        .outerjoin(Ticket, Ticket.id == Notification.ticket_id)
        .where(Notification.user_id == user.id)
        .order_by(Notification.id.desc())
        .limit(LISTED)
    )
    return [NotificationRow(*tuple(row)) for row in read_rows(session, query).all()]


def unread_count(session: Session, user: User) -> int:
    query = select(func.count()).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    return int(read_rows(session, query).scalar_one())


@dataclass(frozen=True)
class Opened:
    ticket_number: int | None
    export_id: int | None  # a ticket list prepared in the background (reports/background.py)


def open_notification(session: Session, user: User, notification_id: int) -> Opened:
    """Mark one of the user's notifications read; what it is about."""
    if not 1 <= notification_id <= ID_MAX:
        raise NotFound("No such notification.")
    row = session.execute(
        select(Notification.id, Notification.export_id, Ticket.number)
        .outerjoin(Ticket, Ticket.id == Notification.ticket_id)
        .where(Notification.id == notification_id, Notification.user_id == user.id)
    ).first()
    if row is None:
        raise NotFound("No such notification.")
    session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.read_at.is_(None))
        .values(read_at=now())
        .execution_options(synchronize_session=False)
    )
    return Opened(row.number, row.export_id)


def mark_all_read(session: Session, user: User) -> None:
    session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now())
        .execution_options(synchronize_session=False)
    )
