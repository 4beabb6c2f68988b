"""Outgoing mail, pure: no I/O, no clock (the caller passes the date).

- `make_message_id` gives each message a stable, signed id (`<ticket-1042.comment-77.TAG@desk>`), so a
  retried send is the same message and a reply's `In-Reply-To` can be trusted to name our ticket.
- `make_reply_address` gives a ticket its own signed reply address (`support+1042-TAG@example.com`):
  answers route back to it, and nobody can make one for a ticket they were not sent.
- `subject_with_token` / `ticket_number_in_subject` put and find `[#1042]` in a subject.
- `compose_message` builds the `EmailMessage`; control characters in a subject or a display name are
  removed (never an exception), so no header can be injected.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from supportdesk.mail.addresses import Address, header_text, is_plain_address

MIN_SECRET_BYTES = 16
TAG_CHARS = 10  # base32: 50 bits; forging one means guessing, one delivered message per guess
MAX_THREAD_REFERENCES = 20
MAX_TICKET_NUMBER = 2**31 - 1

_KEY = re.compile(r"[a-z][a-z0-9]{0,30}")
_VALUE = re.compile(r"[A-Za-z0-9]{1,40}")
_DOMAIN = re.compile(
    r"(?=.{1,253}\Z)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_TOKEN = re.compile(r"\[#([1-9][0-9]{0,9})\]")
# Reply and forward prefixes in the languages mail clients use, with counts ("Re[2]:", "Re^2:") and
# full-width colons.
_PREFIX = re.compile(
    r"^\s*(?:re|aw|sv|vs|antw|antwort|r|rif|odp|ynt|atb|vá|fwd?|wg|tr|rv|enc|doorst|i|vl|"
    r"回复|回覆|答复|转发|轉寄)\s*(?:\[\d+\]|\^\d+)?\s*[:\uff1a]\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Thread:
    """Threading headers for a message: the message it answers and the thread's ids up to it."""

    in_reply_to: str | None
    references: tuple[str, ...]


def _check_secret(secret: bytes) -> None:
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the signing secret must have at least {MIN_SECRET_BYTES} bytes")


def _tag(secret: bytes, *parts: str) -> str:
    digest = hmac.new(secret, "\0".join(parts).encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:TAG_CHARS]


def make_message_id(identity: Mapping[str, int | str], *, domain: str, secret: bytes) -> str:
    """`<ticket-1042.comment-77.TAG@domain>` for {"ticket": 1042, "comment": 77}: the same for the same
    identity, different for anything else. Keys are lower-case words; values numbers or letters."""
    _check_secret(secret)
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"the Message-ID domain must be a host name, not {domain!r}")
    parts = []
    for key, value in identity.items():
        text = str(value)
        if not _KEY.fullmatch(key) or not _VALUE.fullmatch(text) or (isinstance(value, int) and value < 0):
            raise ValueError(f"a Message-ID identity takes plain words and numbers, not {key!r}: {value!r}")
        parts.append(f"{key}-{text}")
    if not parts:
        raise ValueError("a Message-ID identity needs at least one part")
    local = ".".join(parts)
    return f"<{local}.{_tag(secret, 'message-id', local, domain.lower())}@{domain.lower()}>"


def identity_from_message_id(message_id: str, *, domain: str, secret: bytes) -> dict[str, str] | None:
    """The identity of one of our Message-IDs, or None for anyone else's (or a forged one)."""
    found = re.fullmatch(r"<([^<>@\s]+)@([^<>@\s]+)>", message_id.strip())
    if not found or found.group(2) != domain.lower():
        return None
    local, _, tag = found.group(1).rpartition(".")
    if not local or not hmac.compare_digest(tag, _tag(secret, "message-id", local, domain.lower())):
        return None
    identity = {}
    for part in local.split("."):
        key, _, value = part.partition("-")
        identity[key] = value
    return identity


def _split_mailbox(mailbox: str, delimiter: str) -> tuple[str, str]:
    local, _, domain = mailbox.strip().lower().partition("@")
    if not is_plain_address(mailbox.strip()) or delimiter in local:
        raise ValueError(f"the desk's mailbox must be a plain address without {delimiter!r}: {mailbox!r}")
    return local, domain


def make_reply_address(ticket: int, *, mailbox: str, secret: bytes, delimiter: str = "+") -> str:
    """`support+1042-TAG@example.com` for ticket 1042 and mailbox `support@example.com`. Lower-case, so
    servers that change the case of what they deliver do not break it."""
    _check_secret(secret)
    if not 1 <= ticket <= MAX_TICKET_NUMBER:
        raise ValueError(f"a ticket number is 1..{MAX_TICKET_NUMBER}, not {ticket}")
    local, domain = _split_mailbox(mailbox, delimiter)
    return f"{local}{delimiter}{ticket}-{_tag(secret, 'reply', local, domain, str(ticket))}@{domain}"


def ticket_from_reply_address(
    address: str, *, mailbox: str, secret: bytes, delimiter: str = "+"
) -> int | None:
    """The ticket a reply address was made for, or None when it is not one of ours or was tampered with."""
    local, domain = _split_mailbox(mailbox, delimiter)
    number, tag = r"([1-9][0-9]{0,9})", rf"([a-z2-7]{{{TAG_CHARS}}})"
    pattern = rf"<?{re.escape(local)}{re.escape(delimiter)}{number}-{tag}@{re.escape(domain)}>?"
    found = re.fullmatch(pattern, address.strip().lower())
    if not found or int(found.group(1)) > MAX_TICKET_NUMBER:
        return None
    expected = _tag(secret, "reply", local, domain, found.group(1))
    return int(found.group(1)) if hmac.compare_digest(found.group(2), expected) else None


def subject_with_token(subject: str, ticket: int) -> str:
    """The subject with `[#1042]` in front, unless it already carries this ticket's token."""
    token = f"[#{ticket}]"
    subject = header_text(subject)
    return subject if token in subject else f"{token} {subject}".strip()


def ticket_number_in_subject(subject: str) -> int | None:
    """The ticket number of the first `[#NNNN]` token in a subject, whatever prefixes came before it."""
    found = _TOKEN.search(subject)
    if not found or int(found.group(1)) > MAX_TICKET_NUMBER:
        return None
    return int(found.group(1))


def strip_reply_prefixes(subject: str) -> str:
    """`Re: AW: Fwd: Printer` -> `Printer`: the subject of a ticket raised by a forwarded message."""
    subject = header_text(subject)
    while found := _PREFIX.match(subject):
        subject = subject[found.end() :]
    return subject


def reply_thread(parent_id: str, parent_references: Sequence[str] = ()) -> Thread:
    """The threading headers of a reply to `parent_id` (RFC 5322 3.6.4), keeping the thread's root and its
    most recent ids when it grows long."""
    references = [*parent_references, parent_id]
    if len(references) > MAX_THREAD_REFERENCES:
        references = [references[0], *references[-(MAX_THREAD_REFERENCES - 1) :]]
    return Thread(parent_id, tuple(references))


def _header_address(address: Address) -> HeaderAddress:
    addr_spec = address.address.strip()
    if not is_plain_address(addr_spec):
        raise ValueError(f"not a plain mail address: {address.address!r}")
    return HeaderAddress(display_name=header_text(address.name), addr_spec=addr_spec)


def _safe_body(text: str) -> str:
    # A lone surrogate cannot be encoded; a body is the caller's text, so it is mended, not refused.
    return text.encode("utf-8", "replace").decode("utf-8")


def compose_message(
    *,
    sender: Address,
    to: Sequence[Address],
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    date: datetime,
    thread: Thread | None = None,
    reply_to: Address | None = None,
    cc: Sequence[Address] = (),
    auto_submitted: bool = False,
) -> EmailMessage:
    """A message ready for SMTP: text and (when given) HTML alternatives in UTF-8, threading headers,
    `Auto-Submitted: auto-generated` for notifications so auto-responders stay quiet (RFC 3834)."""
    if not to:
        raise ValueError("a message needs at least one recipient")
    message = EmailMessage(policy=SMTP)
    message["From"] = _header_address(sender)
    message["To"] = [_header_address(a) for a in to]
    if cc:
        message["Cc"] = [_header_address(a) for a in cc]
    if reply_to is not None:
        message["Reply-To"] = _header_address(reply_to)
    message["Subject"] = header_text(subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = header_text(message_id)
    if thread is not None and thread.in_reply_to:
        message["In-Reply-To"] = header_text(thread.in_reply_to)
    if thread is not None and thread.references:
        message["References"] = header_text(" ".join(thread.references))
    if auto_submitted:
        message["Auto-Submitted"] = "auto-generated"
        message["X-Auto-Response-Suppress"] = "All"  # Exchange's own switch for out-of-office replies
    message.set_content(_safe_body(text), cte="quoted-printable")
    if html is not None:
        message.add_alternative(_safe_body(html), subtype="html", cte="quoted-printable")
    return message
