"""The fetcher: read each active mailbox, import one message per unit of work, and only after that
commits take the message out of the folder. A message whose import fails unexpectedly is quarantined
in a unit of work of its own; a database that is down stops the poll, leaving the message where it
is for the next one. A mailbox is claimed for the poll (a lease on its row, as the outbox claims
messages), so two workers' schedulers never read it at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from supportdesk.core.clock import now
from supportdesk.core.config import Config, current_config
from supportdesk.core.db import db
from supportdesk.inbound import receiving
from supportdesk.inbound.imap import ImapFolder, ImapSettings, MailboxUnavailable
from supportdesk.inbound.models import Mailbox, Outcome
from supportdesk.inbound.secrets import UnreadablePassword, decrypt_password

log = structlog.get_logger("supportdesk.inbound")

BATCH = 200  # messages per mailbox per poll: a flood is read over several polls, others go on meanwhile
LEASE = timedelta(minutes=10)
# Imported messages are moved together, this many at a time (a move costs the server a disk sync): a
# poll cut short leaves at most these committed but unmoved, and the next poll finds their receipts.
MOVE_BATCH = 50


@dataclass
class PollResult:
    imported: int = 0  # tickets and comments
    duplicates: int = 0
    quarantined: int = 0
    recorded: int = 0  # automated, refused, rate-limited: recorded only
    skipped: bool = False  # another worker holds the mailbox, or it is inactive
    error: str | None = None
    outcomes: list[Outcome] = field(default_factory=list)


def poll_all() -> dict[int, PollResult]:
    """Every active mailbox once (in an app context); one failing does not stop the others."""
    ids = list(
        db.session().scalars(select(Mailbox.id).where(Mailbox.is_active.is_(True)).order_by(Mailbox.id))
    )
    return {mailbox_id: poll_mailbox(mailbox_id) for mailbox_id in ids}


def poll_mailbox(mailbox_id: int) -> PollResult:
    """Read one mailbox now (in an app context)."""
    result = PollResult()
    settings = _claim(mailbox_id)
    if settings is None:
        result.skipped = True
        return result
    try:
        with ImapFolder(settings) as folder:
            committed: list[int] = []
            for uid in folder.waiting(BATCH):
                raw = folder.fetch(uid)
                if raw is not None:
                    _tally(result, _import(mailbox_id, raw))
                committed.append(uid)
                if len(committed) == MOVE_BATCH:
                    folder.done(committed)  # only now: their tickets and comments are committed
                    committed = []
            folder.done(committed)
    except MailboxUnavailable as error:
        result.error = str(error)
        log.warning("mailbox unavailable", mailbox=mailbox_id, error=result.error)
    finally:
        _release(mailbox_id, result.error)
    return result


def _claim(mailbox_id: int) -> ImapSettings | None:
    config, moment = current_config(), now()
    with db.transaction() as session:
        claimed = session.execute(
            update(Mailbox)
            .where(
                Mailbox.id == mailbox_id,
                Mailbox.is_active.is_(True),
                or_(Mailbox.polling_until.is_(None), Mailbox.polling_until < moment),
            )
            .values(polling_until=moment + LEASE)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        mailbox = session.get(Mailbox, mailbox_id)
        assert mailbox is not None
        try:
            return imap_settings(config, mailbox)
        except UnreadablePassword as error:
            mailbox.polling_until, mailbox.last_error = None, str(error)
            return None


def imap_settings(config: Config, mailbox: Mailbox) -> ImapSettings:
    """How to reach the mailbox's folder; UnreadablePassword when SECRET_KEY changed since."""
    return ImapSettings(
        host=mailbox.host,
        port=mailbox.port,
        security=mailbox.security,
        username=mailbox.username,
        password=decrypt_password(config, mailbox.password_encrypted),
        folder=mailbox.folder,
        after_import=mailbox.after_import,
        processed_folder=mailbox.processed_folder,
        ca_file=config.imap_ca_file,
        timeout_seconds=config.imap_timeout_seconds,
    )


def _release(mailbox_id: int, error: str | None) -> None:
    try:
        with db.transaction() as session:
            session.execute(
                update(Mailbox)
                .where(Mailbox.id == mailbox_id)
                .values(polling_until=None, last_polled_at=now(), last_error=error[:500] if error else None)
                .execution_options(synchronize_session=False)
            )
    except DBAPIError:  # the lease runs out by itself
        log.warning("could not release the mailbox", mailbox=mailbox_id, exc_info=True)


def _import(mailbox_id: int, raw: bytes) -> Outcome | None:
    """One message in one unit of work; what became of it (None: received before)."""
    try:
        with db.transaction() as session:
            mailbox = session.get(Mailbox, mailbox_id)
            assert mailbox is not None
            return receiving.receive(session, mailbox, raw).outcome
    except IntegrityError:
        # Another worker imported it first (the receipt's unique key), or something else is wrong.
        with db.transaction() as session:
            if receiving.already_received(session, mailbox_id, raw):
                return None
        error_text = "the database refused the import (a constraint)"
    except DBAPIError:
        raise  # the database is down or busy: stop; the message stays on the server for the next poll
    except Exception as error:  # a bug or a refusal: keep the message for an admin, go on with the rest
        log.exception("import failed; message quarantined", mailbox=mailbox_id)
        error_text = f"import failed: {type(error).__name__}: {error}"
    with db.transaction() as session:
        mailbox = session.get(Mailbox, mailbox_id)
        assert mailbox is not None
        receiving.quarantine(session, mailbox, raw, error_text)
    return Outcome.QUARANTINED


def _tally(result: PollResult, outcome: Outcome | None) -> None:
    if outcome is None:
        result.duplicates += 1
        return
    result.outcomes.append(outcome)
    if outcome in (Outcome.TICKET, Outcome.COMMENT):
        result.imported += 1
    elif outcome is Outcome.QUARANTINED:
        result.quarantined += 1
    else:
        result.recorded += 1
