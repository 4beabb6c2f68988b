"""What a message read from a mailbox becomes, in the caller's unit of work (the poller commits it,
then moves the message on the server):

1. Its receipt first: the `(mailbox, Message-ID)` unique key makes a message read again (a fetch cut
   short, two workers, a server delivering twice) a duplicate that changes nothing.
2. Unreadable (`UnparseableMessage`): quarantined, the bytes kept for an admin.
3. Sent by the desk itself, or by a machine (auto-reply, bounce, list; `mail/automation.py`): recorded,
   never answered. A sender over the mailbox's hourly limit: recorded, nothing else (storms stop).
4. The sender: an account, or per the mailbox's policy a new requester, or a polite refusal by mail.
5. The ticket it answers: our signed Message-IDs in In-Reply-To/References, then an earlier message of
   this mailbox they name, then our signed reply address, then the `[#n]` subject token; never the
   subject's words. The sender must be allowed to see that ticket; else, or when it is closed, the
   message raises a new ticket. A reply keeps only its new text (quotes and signature stripped)."""

from __future__ import annotations

import hashlib
import io
import secrets
from dataclasses import dataclass
from datetime import timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parseaddr

from flask import render_template
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supportdesk.accounts import service as accounts
from supportdesk.accounts.models import Role, User
from supportdesk.accounts.policy import require_desk_manager
from supportdesk.attachments.models import Attachment
from supportdesk.attachments.service import MAX_FILES_PER_UPLOAD, Upload
from supportdesk.attachments.web import file_store
from supportdesk.core.clock import now
from supportdesk.core.config import Config, current_config
from supportdesk.core.db import get_by_id
from supportdesk.core.errors import Conflict, NotFound, ValidationError
from supportdesk.inbound.models import Mailbox, Outcome, Receipt, UnknownSenders
from supportdesk.mail.addresses import Address, header_text
from supportdesk.mail.charsets import decode_words
from supportdesk.mail.composing import (
    identity_from_message_id,
    reply_thread,
    strip_reply_prefixes,
    ticket_from_reply_address,
    ticket_number_in_subject,
)
from supportdesk.mail.parsing import InboundMessage, UnparseableMessage, parse_message
from supportdesk.notifications import outbox
from supportdesk.tickets import service as tickets
from supportdesk.tickets.lifecycle import Status
from supportdesk.tickets.models import COMMENT_MAX, DESCRIPTION_MAX, SUBJECT_MAX, Ticket

RATE_WINDOW = timedelta(hours=1)
MAX_SALVAGED_BYTES = 64 * 1024
NO_SUBJECT = "(no subject)"
_FORWARDED = ("fw:", "fwd:", "wg:", "tr:", "enc:", "rv:", "doorst:", "vl:", "i:")


@dataclass(frozen=True)
class Received:
    """What became of one message: its receipt's outcome, or None for one already received."""

    outcome: Outcome | None
    receipt_id: int | None = None
    ticket_id: int | None = None


def message_key(raw: bytes, message_id: str | None) -> str:
    return message_id if message_id else "sha256:" + hashlib.sha256(raw).hexdigest()


def receive(session: Session, mailbox: Mailbox, raw: bytes) -> Received:
    """Record and import one message (flushes; the caller commits, then moves the message)."""
    try:
        message: InboundMessage | None = parse_message(raw)
    except UnparseableMessage as error:
        message, reason = None, error.reason
    key = message_key(raw, message.message_id if message else None)
    if _received_before(session, mailbox.id, key):
        return Received(None)
    receipt = Receipt(mailbox_id=mailbox.id, message_key=key, outcome=Outcome.QUARANTINED, received_at=now())
    session.add(receipt)
    # The unique key decides here: a concurrent import of the same message waits for ours to commit,
    # then fails (and its poller counts a duplicate).
    session.flush()
    if message is None:
        receipt.sender, receipt.subject = _salvaged_headers(raw)
        _quarantine(receipt, raw, f"unreadable: {reason}")
        session.flush()
        return Received(Outcome.QUARANTINED, receipt.id)
    _import(session, mailbox, message, raw, receipt)
    session.flush()
    return Received(receipt.outcome, receipt.id, receipt.ticket_id)


def already_received(session: Session, mailbox_id: int, raw: bytes) -> bool:
    """Whether this message has a receipt (after a failed import: was it a concurrent duplicate?)."""
    try:
        message_id = parse_message(raw).message_id
    except UnparseableMessage:
        message_id = None
    return _received_before(session, mailbox_id, message_key(raw, message_id))


def quarantine(session: Session, mailbox: Mailbox, raw: bytes, reason: str) -> Receipt:
    """Keep a message whose import failed unexpectedly (its own unit of work, after the failed one
    rolled back). A message already quarantined keeps its one receipt."""
    try:
        message_id = parse_message(raw).message_id
    except UnparseableMessage:
        message_id = None
    key = message_key(raw, message_id)
    receipt = session.scalars(
        select(Receipt).where(Receipt.mailbox_id == mailbox.id, Receipt.message_key == key)
    ).one_or_none()
    if receipt is None:
        receipt = Receipt(
            mailbox_id=mailbox.id, message_key=key, outcome=Outcome.QUARANTINED, received_at=now()
        )
        session.add(receipt)
    _quarantine(receipt, raw, reason)
    session.flush()
    return receipt


def retry_quarantined(session: Session, actor: User, receipt_id: int) -> Receipt:
    """An admin's second try at a quarantined message (after a fix, or a change to the mailbox)."""
    receipt = _open_quarantined(session, actor, receipt_id)
    raw = receipt.raw or b""
    try:
        message = parse_message(raw)
    except UnparseableMessage as error:
        raise Conflict(f"This message still cannot be read: {error.reason}") from None
    _import(session, receipt.mailbox, message, raw, receipt)
    receipt.handled_at, receipt.handled_by_id = now(), actor.id
    if receipt.outcome is not Outcome.QUARANTINED:
        receipt.raw = None
    session.flush()
    return receipt


def discard_quarantined(session: Session, actor: User, receipt_id: int) -> Receipt:
    """Throw a quarantined message away (its receipt stays, so it is not imported if read again)."""
    receipt = _open_quarantined(session, actor, receipt_id)
    receipt.outcome, receipt.raw = Outcome.DISCARDED, None
    receipt.handled_at, receipt.handled_by_id = now(), actor.id
    session.flush()
    return receipt


def _open_quarantined(session: Session, actor: User, receipt_id: int) -> Receipt:
    require_desk_manager(actor)
    receipt = get_by_id(session, Receipt, receipt_id)
    if receipt is None:
        raise NotFound("No such message.")
    if receipt.outcome is not Outcome.QUARANTINED:
        raise Conflict(f"This message is no longer in quarantine ({receipt.outcome.value}).")
    return receipt


def _received_before(session: Session, mailbox_id: int, key: str) -> bool:
    found = session.scalar(
        select(Receipt.id).where(Receipt.mailbox_id == mailbox_id, Receipt.message_key == key)
    )
    return found is not None


def _salvaged_headers(raw: bytes) -> tuple[str, str]:
    """From and Subject of a message the parser refused, read from its first bytes, for the admins'
    list (best effort: the whole message is kept either way)."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:MAX_SALVAGED_BYTES])
        sender = parseaddr(header_text(decode_words(str(headers.get("From", "")))))[1].lower()
        subject = header_text(decode_words(str(headers.get("Subject", ""))))
    except Exception:  # hostile bytes; the list shows "unknown"
        return "", ""
    return sender[:254], subject[:300]


def _quarantine(receipt: Receipt, raw: bytes, reason: str) -> None:
    receipt.outcome, receipt.raw, receipt.detail = Outcome.QUARANTINED, raw, reason[:500]


def _import(
    session: Session, mailbox: Mailbox, message: InboundMessage, raw: bytes, receipt: Receipt
) -> None:
    config = current_config()
    sender = message.sender.address
    receipt.sender, receipt.subject = sender[:254], message.subject[:300]
    if not sender:
        _quarantine(receipt, raw, "no sender address to answer or to raise a ticket for")
        return
    if sender in (config.mail_from.lower(), mailbox.address.lower()):
        receipt.outcome, receipt.detail = Outcome.AUTOMATED, "sent by the desk itself"
        return
    if message.automated is not None:
        kind, reason = message.automated.kind.value, message.automated.reason
        receipt.outcome, receipt.detail = Outcome.AUTOMATED, f"{kind}: {reason}"[:500]
        return
    if _over_rate_limit(session, mailbox, sender, receipt.id):
        receipt.outcome = Outcome.RATE_LIMITED
        receipt.detail = f"more than {mailbox.per_sender_per_hour} messages from this sender in an hour"
        return
    user, refusal, answer = _sender_account(session, mailbox, message)
    if user is None:
        receipt.outcome, receipt.detail = Outcome.REJECTED, refusal
        if answer:
            _politely_refuse(session, mailbox, message)
        return
    number = _answered_ticket(session, config, mailbox, message)
    ticket = _visible_ticket(session, user, number) if number is not None else None
    if ticket is not None and ticket.merged_into_id is not None:
        # Merged (issue 21): the answer belongs where the desk carries on, when the sender may see it.
        survivor = session.get(Ticket, ticket.merged_into_id)
        ticket = (survivor and _visible_ticket(session, user, survivor.number)) or ticket
    if ticket is not None and ticket.status is not Status.CLOSED:
        uploads, notes = _uploads(config, message, _bytes_stored(session, ticket))
        body = _bounded(message.reply or message.text or "(no text)", notes, COMMENT_MAX)
        comment = tickets.add_comment(session, user, ticket.number, body, uploads=uploads, files=file_store())
        receipt.outcome, receipt.ticket_id, receipt.comment_id = Outcome.COMMENT, ticket.id, comment.id
        receipt.detail = f"added to #{ticket.number}"
        return
    uploads, notes = _uploads(config, message, 0)
    follow_up = f"Follow-up to #{ticket.number}, which is closed.\n\n" if ticket is not None else ""
    forwarded = message.subject.strip().lower().startswith(_FORWARDED)
    text = message.text if forwarded or not message.reply else message.reply
    created = tickets.create_ticket(
        session,
        user,
        subject=_subject(message.subject),
        description=_bounded(follow_up + text, notes, DESCRIPTION_MAX),
        uploads=uploads,
        files=file_store(),
    )
    receipt.outcome, receipt.ticket_id = Outcome.TICKET, created.id
    receipt.detail = f"raised #{created.number}"


def _over_rate_limit(session: Session, mailbox: Mailbox, sender: str, own_id: int) -> bool:
    since = now() - RATE_WINDOW
    count = session.scalar(
        select(func.count())
        .select_from(Receipt)
        .where(
            Receipt.mailbox_id == mailbox.id,
            Receipt.sender == sender,
            Receipt.received_at >= since,
            Receipt.id != own_id,
        )
    )
    return int(count or 0) >= mailbox.per_sender_per_hour


def _sender_account(
    session: Session, mailbox: Mailbox, message: InboundMessage
) -> tuple[User | None, str, bool]:
    """The sender's account (a new requester's, when the mailbox makes them), or None, why not, and
    whether the sender is told so."""
    address = message.sender.address
    user = accounts.find_user_by_email(session, address)
    if user is not None:
        return (user, "", False) if user.is_active else (None, "the sender's account is deactivated", False)
    if mailbox.unknown_senders is UnknownSenders.REJECT:
        return None, "no account has this address; the mailbox takes mail from accounts only", True
    domain = address.rpartition("@")[2]
    if mailbox.allowed_domains and domain not in mailbox.allowed_domains:
        return None, f"not from an allowed domain ({', '.join(mailbox.allowed_domains)})"[:500], True
    name = " ".join(message.sender.name.split())[:120] or address.partition("@")[0][:120]
    try:
        # A random password nobody knows: the new requester signs in after "Forgot your password?".
        user = accounts.register_user(
            session, email=address, full_name=name, password=secrets.token_urlsafe(32), role=Role.REQUESTER
        )
    except ValidationError as error:
        return None, f"could not create an account: {error}"[:500], False
    return user, "", False


def _politely_refuse(session: Session, mailbox: Mailbox, message: InboundMessage) -> None:
    """One reply saying the desk could not take the message (the sender's hourly limit bounds them)."""
    context = {
        "name": message.sender.name or message.sender.address,
        "subject": message.subject,
        "mailbox": mailbox.address,
    }
    subject = strip_reply_prefixes(message.subject) or NO_SUBJECT
    outbox.queue_message(
        session,
        kind="rejected",
        to=[Address(message.sender.address, message.sender.name)],
        subject=f"Re: {subject}",
        text=render_template("mail/rejected.txt", **context),
        html=render_template("mail/rejected.html", **context),
        thread=reply_thread(message.message_id, message.references) if message.message_id else None,
    )


def _answered_ticket(
    session: Session, config: Config, mailbox: Mailbox, message: InboundMessage
) -> int | None:
    """The number of the ticket this message answers, by the strongest evidence it carries."""
    secret, domain = outbox.mail_secret(config), outbox.mail_domain(config)
    named = [i for i in (message.in_reply_to, *reversed(message.references)) if i]
    for message_id in named:
        identity = identity_from_message_id(message_id, domain=domain, secret=secret)
        if identity is not None and (
            identity.get("ticket", "").isascii() and identity.get("ticket", "").isdigit()
        ):
            return int(identity["ticket"])
    if named:
        earlier = session.scalar(
            select(Ticket.number)
            .join(Receipt, Receipt.ticket_id == Ticket.id)
            .where(Receipt.mailbox_id == mailbox.id, Receipt.message_key.in_(named[:50]))
            .order_by(Receipt.id.desc())
            .limit(1)
        )
        if earlier is not None:
            return int(earlier)
    for recipient in (*(a.address for a in message.to + message.cc), *message.delivered_to):
        try:
            number = ticket_from_reply_address(recipient, mailbox=mailbox.address, secret=secret)
        except ValueError:  # a mailbox address with a "+" in it has no reply addresses
            break
        if number is not None:
            return number
    return ticket_number_in_subject(message.subject)


def _visible_ticket(session: Session, user: User, number: int) -> Ticket | None:
    try:
        return tickets.get_ticket(session, user, number)
    except (NotFound, ValidationError):
        return None


def _subject(subject: str) -> str:
    cleaned = strip_reply_prefixes(subject)
    number = ticket_number_in_subject(cleaned)
    if number is not None:
        cleaned = cleaned.replace(f"[#{number}]", " ")
    cleaned = " ".join(cleaned.split())
    return cleaned[:SUBJECT_MAX] or NO_SUBJECT


def _bytes_stored(session: Session, ticket: Ticket) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(Attachment.size_bytes), 0)).where(Attachment.ticket_id == ticket.id)
    )
    return int(total or 0)


def _uploads(config: Config, message: InboundMessage, stored: int) -> tuple[list[Upload], list[str]]:
    """The message's files the attachment rules let in, and a line for each left out."""
    notes = [f"{part.filename} ({part.reason})" for part in message.skipped]
    uploads: list[Upload] = []
    budget = config.max_ticket_bytes - stored
    for attachment in message.attachments:
        if attachment.size == 0:
            continue
        if attachment.size > config.max_file_bytes:
            notes.append(f"{attachment.filename} (larger than the desk takes)")
        elif attachment.size > budget:
            notes.append(f"{attachment.filename} (over the ticket's limit for files)")
        elif len(uploads) == MAX_FILES_PER_UPLOAD:
            notes.append(f"{attachment.filename} (more than {MAX_FILES_PER_UPLOAD} files)")
        else:
            uploads.append(Upload(attachment.filename, io.BytesIO(attachment.content)))
            budget -= attachment.size
    return uploads, notes


def _bounded(text: str, notes: list[str], limit: int) -> str:
    suffix = ("\n\nNot kept from the email: " + "; ".join(notes)) if notes else ""
    suffix = suffix[:2000]
    text = text.strip()
    if len(text) + len(suffix) > limit:
        marker = "\n\n[The rest of the email was cut: it was too long.]"
        text = text[: limit - len(suffix) - len(marker)] + marker
    return text + suffix
