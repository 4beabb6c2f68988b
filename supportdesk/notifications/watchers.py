"""Watchers (CC) on a ticket: the desk adds and removes them; they are told what the requester is told,
and staff watchers also of internal notes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.accounts.policy import require_desk_member
from supportdesk.core.clock import now
from supportdesk.core.errors import ValidationError
from supportdesk.notifications.models import TicketWatcher
from supportdesk.tickets import service as tickets


@dataclass(frozen=True)
class WatcherRow:
    user_id: int
    full_name: str
    email: str
    is_staff: bool


def list_watchers(session: Session, actor: User, number: int) -> list[WatcherRow]:
    require_desk_member(actor)
    ticket = tickets.get_ticket(session, actor, number)
    rows = session.execute(
        select(User.id, User.full_name, User.email, User.role)
        .join(TicketWatcher, TicketWatcher.user_id == User.id)
        .where(TicketWatcher.ticket_id == ticket.id)
        .order_by(User.full_name)
    )
    return [WatcherRow(uid, name, email, role.value != "requester") for uid, name, email, role in rows]


def add_watcher(session: Session, actor: User, number: int, email: str) -> User:
    require_desk_member(actor)
    ticket = tickets.get_ticket(session, actor, number)
    address = (email or "").strip().lower()
    user = (
        session.scalar(select(User).where(User.email == address, User.is_active.is_(True)))
        if address
        else None
    )
    if user is None:
        raise ValidationError.single("email", "No active user has that email.")
    if user.id == ticket.requester_id:
        raise ValidationError.single("email", "The requester hears of everything already.")
    if session.get(TicketWatcher, (ticket.id, user.id)) is None:
        session.add(
            TicketWatcher(ticket_id=ticket.id, user_id=user.id, added_by_id=actor.id, created_at=now())
        )
        session.flush()
    return user


def remove_watcher(session: Session, actor: User, number: int, user_id: int) -> None:
    require_desk_member(actor)
    ticket = tickets.get_ticket(session, actor, number)
    session.execute(
        delete(TicketWatcher).where(TicketWatcher.ticket_id == ticket.id, TicketWatcher.user_id == user_id)
    )
    session.flush()


def watcher_ids(session: Session, ticket_id: int) -> list[int]:
    return list(session.scalars(select(TicketWatcher.user_id).where(TicketWatcher.ticket_id == ticket_id)))
