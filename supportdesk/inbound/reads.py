"""What the admins read about incoming mail: receipts as plain rows, the quarantine's size, and a
quarantined message's bytes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.accounts.policy import require_desk_manager
from supportdesk.core.db import get_by_id
from supportdesk.core.errors import NotFound
from supportdesk.inbound.models import Mailbox, Outcome, Receipt
from supportdesk.tickets.models import Ticket

LISTED = 100


@dataclass(frozen=True)
class ReceiptRow:
    id: int
    mailbox_id: int
    mailbox_name: str
    message_key: str
    sender: str
    subject: str
    outcome: Outcome
    detail: str
    ticket_number: int | None
    received_at: datetime
    size: int | None  # of the kept bytes (quarantined only)


def list_receipts(
    session: Session,
    actor: User,
    *,
    outcome: Outcome | None = None,
    mailbox_id: int | None = None,
    limit: int = LISTED,
) -> list[ReceiptRow]:
    """The newest receipts first, filtered by outcome and mailbox."""
    require_desk_manager(actor)
    query = (
        select(
            Receipt.id,
            Receipt.mailbox_id,
            Mailbox.name,
            Receipt.message_key,
            Receipt.sender,
            Receipt.subject,
            Receipt.outcome,
            Receipt.detail,
            Ticket.number,
            Receipt.received_at,
            func.length(Receipt.raw),
        )
        .join(Mailbox, Mailbox.id == Receipt.mailbox_id)
        .outerjoin(Ticket, Ticket.id == Receipt.ticket_id)
        .order_by(Receipt.id.desc())
        .limit(min(max(limit, 1), 500))
    )
    if outcome is not None:
        query = query.where(Receipt.outcome == outcome)
    if mailbox_id is not None:
        query = query.where(Receipt.mailbox_id == mailbox_id)
    return [ReceiptRow(*row) for row in session.execute(query)]


def quarantined_count(session: Session, actor: User) -> int:
    require_desk_manager(actor)
    count = session.scalar(
        select(func.count()).select_from(Receipt).where(Receipt.outcome == Outcome.QUARANTINED)
    )
    return int(count or 0)


def quarantined_bytes(session: Session, actor: User, receipt_id: int) -> tuple[bytes, str]:
    """A quarantined message as it came from the server, and a file name for it."""
    require_desk_manager(actor)
    receipt = get_by_id(session, Receipt, receipt_id)
    if receipt is None or receipt.raw is None:
        raise NotFound("No such message, or its bytes are no longer kept.")
    return receipt.raw, f"message-{receipt.id}.eml"
