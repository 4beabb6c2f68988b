"""Writing to the outbox. Services call `queue_message` inside their unit of work and never send: the
message exists exactly when the change that caused it committed, and a delivery job, asked for once the
commit happened, sends it (`delivery.py`)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.accounts.policy import require_desk_manager
from supportdesk.core.clock import now
from supportdesk.core.config import Config, current_config
from supportdesk.core.db import after_commit, get_by_id
from supportdesk.core.errors import Conflict, NotFound
from supportdesk.mail.addresses import Address
from supportdesk.mail.composing import Thread, compose_message, make_message_id
from supportdesk.notifications.models import OutboxMessage, OutboxStatus

log = structlog.get_logger("supportdesk.outbox")


def mail_secret(config: Config) -> bytes:
    """The key that signs our Message-IDs and reply addresses, derived from SECRET_KEY."""
    return hashlib.sha256(b"supportdesk mail ids\0" + config.secret_key.encode()).digest()


def mail_domain(config: Config) -> str:
    return config.mail_from.rpartition("@")[2]


def queue_message(
    session: Session,
    *,
    kind: str,
    to: Sequence[Address],
    subject: str,
    text: str,
    html: str | None,
    ticket_id: int | None = None,
    identity: Mapping[str, int | str] | None = None,
    thread: Thread | None = None,
    reply_to: Address | None = None,
) -> OutboxMessage:
    """Compose a message and write it to the outbox in the caller's unit of work. `identity` makes its
    Message-ID (`{"ticket": 1042, "comment": 77}`: stable, so a thread can refer to it); by default the
    outbox row's own id does."""
    config = current_config()
    moment = now()
    row = OutboxMessage(
        kind=kind,
        ticket_id=ticket_id,
        message_id="",
        sender=config.mail_from,
        recipients=",".join(a.address.strip().lower() for a in to),
        subject=subject[:300],
        raw="",
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=moment,
        created_at=moment,
    )
    session.add(row)
    session.flush()  # the id names the message when no identity does
    row.message_id = make_message_id(
        identity or {"mail": row.id}, domain=mail_domain(config), secret=mail_secret(config)
    )
    message = compose_message(
        sender=Address(config.mail_from, config.mail_from_name),
        to=to,
        subject=subject,
        text=text,
        html=html,
        message_id=row.message_id,
        date=moment,
        thread=thread,
        reply_to=reply_to,
        auto_submitted=True,
    )
    row.subject = str(message["Subject"])[:300]
    row.raw = message.as_string()
    session.flush()
    after_commit(session, _ask_for_delivery)
    return row


def retry_message(session: Session, actor: User, message_id: int) -> OutboxMessage:
    """Send a failed message again (an admin's decision: the relay or the address was fixed)."""
    require_desk_manager(actor)
    row = get_by_id(session, OutboxMessage, message_id)
    if row is None:
        raise NotFound("No such message.")
    if row.status != OutboxStatus.FAILED:
        raise Conflict("Only a message that failed can be sent again.")
    row.status = OutboxStatus.PENDING
    row.attempts = 0
    row.next_attempt_at = now()
    row.claim = None
    row.claimed_until = None
    session.flush()
    after_commit(session, _ask_for_delivery)
    return row


def _ask_for_delivery() -> None:
    from supportdesk.jobs import tasks  # the jobs know the domains, not the other way round

    try:
        tasks.deliver_outbox()
    except Exception:  # the queue being down must not fail a change that committed; the sweep sends it
        log.warning("could not enqueue the outbox delivery; the periodic sweep will send it", exc_info=True)


def outbox_counts(session: Session) -> dict[str, int]:
    """How many messages are in each state (plain numbers for the admins' page)."""
    rows = session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    counts = {status.value: 0 for status in OutboxStatus}
    counts.update({str(status): int(count) for status, count in rows})
    return counts


def failed_messages(session: Session, actor: User, limit: int = 100) -> list[OutboxMessage]:
    require_desk_manager(actor)
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def recent_messages(session: Session, actor: User, limit: int = 200) -> list[OutboxMessage]:
    require_desk_manager(actor)
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)))


def get_message(session: Session, actor: User, message_id: int) -> OutboxMessage:
    require_desk_manager(actor)
    row = get_by_id(session, OutboxMessage, message_id)
    if row is None:
        raise NotFound("No such message.")
    return row
