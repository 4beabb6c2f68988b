"""Delivering the outbox: claim due messages (a lease, committed before anything is sent), hand each to
the relay, record the outcome at once. A message is claimed by one worker at a time; a worker that dies
leaves its claim to expire, and the message is due again.

What "sent once" rests on: a message is marked sent in its own commit right after the relay accepted
it. A worker killed before the relay's acceptance (while connecting, or mid-DATA, when the relay drops
the half-sent message) sends nothing, and the message goes out once after the lease. Only a death in
the instant between the relay's "250" and that commit would send it again, with the same Message-ID,
which mail clients show once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from supportdesk.core.clock import now
from supportdesk.core.config import Config, current_config
from supportdesk.core.db import db
from supportdesk.mail.sending import PermanentFailure, Relay, RelaySettings, TemporaryFailure
from supportdesk.notifications.models import OutboxMessage, OutboxStatus

log = structlog.get_logger("supportdesk.delivery")

MAX_ATTEMPTS = 8  # 30 s, 1, 2, 4, 8, 16, 32 min between them: a relay may be down for about an hour
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
LEASE = timedelta(minutes=5)
BATCH = 100
CATCHER = "catcher"
# Mail that holds a sign-in link: once a relay has it, the copy kept here loses its body, so nobody
# who can read the outbox (admins, backups) can use the link.
# Messages holding a link that acts for their one recipient: a sign-in link, or the resolution mail's
# rating links (which record a rating without signing in).
SENSITIVE_KINDS = frozenset({"password_reset", "email_confirm", "resolved_rating"})
REDACTED = "(removed once sent: this message held a link that acts for its recipient)"


@dataclass
class DeliveryReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Claimed:
    id: int
    claim: str
    sender: str
    recipients: list[str]
    raw: str
    attempts: int
    kind: str


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt."""
    delay: timedelta = FIRST_DELAY * 2 ** max(attempts - 1, 0)
    return min(delay, MAX_DELAY)


def relay_settings(config: Config) -> RelaySettings | None:
    if config.smtp_host is None:
        return None
    return RelaySettings(
        host=config.smtp_host,
        port=config.smtp_port,
        security=config.smtp_security,
        username=config.smtp_username,
        password=config.smtp_password,
        ca_file=config.smtp_ca_file,
        timeout_seconds=config.smtp_timeout_seconds,
    )


def _due(moment: datetime) -> ColumnElement[bool]:
    return or_(
        and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= moment),
        and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_until < moment),
    )


def claim_due(session: Session, moment: datetime, limit: int = BATCH) -> list[OutboxMessage]:
    """Claim up to `limit` due messages for this worker (the caller commits the claim before sending).
    The condition is checked again by the UPDATE itself, so two workers never claim the same row."""
    token = secrets.token_hex(16)
    due_ids = select(OutboxMessage.id).where(_due(moment)).order_by(OutboxMessage.id).limit(limit)
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due_ids.scalar_subquery()), _due(moment))
        .values(
            status=OutboxStatus.SENDING,
            claim=token,
            claimed_until=moment + LEASE,
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    claimed = select(OutboxMessage).where(OutboxMessage.claim == token).order_by(OutboxMessage.id)
    return list(session.scalars(claimed.execution_options(populate_existing=True)))


def deliver_due(batch: int = BATCH) -> DeliveryReport:
    """Send every due message (in an app context); what happened."""
    config = current_config()
    report = DeliveryReport()
    while True:
        with db.transaction() as session:
            claimed = [
                _Claimed(m.id, m.claim or "", m.sender, m.recipient_list, m.raw, m.attempts, m.kind)
                for m in claim_due(session, now(), batch)
            ]
        if not claimed:
            return report
        settings = relay_settings(config)
        if settings is None:
            for message in claimed:
                _record_sent(message, CATCHER, None)
            report.sent += len(claimed)
        else:
            _send(settings, claimed, report)
        if len(claimed) < batch:
            return report


def _send(settings: RelaySettings, claimed: list[_Claimed], report: DeliveryReport) -> None:
    waiting = list(claimed)
    try:
        with Relay(settings) as relay:
            while waiting:
                message = waiting[0]
                try:
                    refused = relay.send(message.sender, message.recipients, message.raw)
                except PermanentFailure as error:
                    _record_failure(message, str(error), permanent=True, report=report)
                except TemporaryFailure as error:
                    _record_failure(message, str(error), permanent=False, report=report)
                    if not relay.connected:
                        waiting.pop(0)
                        raise
                else:
                    _record_sent(message, settings.name, _refusals(refused))
                    report.sent += 1
                waiting.pop(0)
    except TemporaryFailure as error:  # the relay is down or went away: the rest wait for the next try
        for message in waiting:
            _record_failure(message, str(error), permanent=False, report=report)


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str | None:
    if not refused:
        return None
    return "; ".join(
        f"{address}: {code} {reply.decode(errors='replace')}" for address, (code, reply) in refused.items()
    )


def _record_sent(message: _Claimed, relay: str, partial: str | None) -> None:
    redact = relay != CATCHER and message.kind in SENSITIVE_KINDS
    with db.transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.claim == message.claim)
            .values(
                status=OutboxStatus.SENT,
                sent_at=now(),
                relay=relay,
                claim=None,
                claimed_until=None,
                last_error=partial,
                **({"raw": REDACTED} if redact else {}),
            )
            .execution_options(synchronize_session=False)
        )
    log.info("mail sent", outbox_id=message.id, relay=relay)


def _record_failure(message: _Claimed, error: str, *, permanent: bool, report: DeliveryReport) -> None:
    give_up = permanent or message.attempts >= MAX_ATTEMPTS
    moment = now()
    with db.transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.claim == message.claim)
            .values(
                status=OutboxStatus.FAILED if give_up else OutboxStatus.PENDING,
                next_attempt_at=moment if give_up else moment + backoff(message.attempts),
                claim=None,
                claimed_until=None,
                last_error=error[:2000],
            )
            .execution_options(synchronize_session=False)
        )
    if give_up:
        report.failed += 1
        log.warning("mail failed for good", outbox_id=message.id, attempts=message.attempts, error=error)
    else:
        report.deferred += 1
        log.info("mail deferred", outbox_id=message.id, attempts=message.attempts, error=error)
