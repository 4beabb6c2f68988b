"""Mail that a machine sent: auto-replies, bulk and list mail, bounces. Such mail is recorded but never
answered (RFC 3834), and a bounce says which of our messages failed and for whom."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from enum import StrEnum

from supportdesk.mail.addresses import header_text
from supportdesk.mail.charsets import Headers


class AutomatedKind(StrEnum):
    AUTO_REPLY = "auto-reply"
    BULK = "bulk"
    MAILING_LIST = "mailing-list"
    BOUNCE = "bounce"


@dataclass(frozen=True, slots=True)
class Automated:
    kind: AutomatedKind
    reason: str  # what gave it away, e.g. "Auto-Submitted: auto-replied"


@dataclass(frozen=True, slots=True)
class Bounce:
    original_message_id: str | None  # the Message-ID of the message that could not be delivered
    recipients: tuple[str, ...]
    status: str | None  # the RFC 3463 status code, e.g. "5.1.1"
    permanent: bool


_COMMENT = re.compile(r"\([^()]*\)")
_MAIL_SERVERS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
_AUTO_REPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")
_STATUS = re.compile(r"[245]\.\d{1,3}\.\d{1,3}")
_MESSAGE_ID_LINE = re.compile(r"^[ \t>]*Message-ID:[ \t]*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)


def _value(headers: Headers, name: str) -> str:
    return header_text(headers.first(name))[:200]


def classify(message: Message, headers: Headers, sender: str) -> Automated | None:
    """The first sign, most specific first, that no person wrote this message."""
    content_type = message.get_content_type()
    report_type = str(message.get_param("report-type", "") or "").lower()
    if content_type == "multipart/report" and report_type == "delivery-status":
        return Automated(AutomatedKind.BOUNCE, "delivery status notification (multipart/report)")
    if content_type == "multipart/report" and report_type == "disposition-notification":
        return Automated(AutomatedKind.AUTO_REPLY, "read receipt (multipart/report)")
    local_part = sender.partition("@")[0]
    if local_part in _MAIL_SERVERS:
        return Automated(AutomatedKind.BOUNCE, f"sent by {local_part}")
    submitted = _COMMENT.sub("", _value(headers, "Auto-Submitted")).split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return Automated(AutomatedKind.AUTO_REPLY, f"Auto-Submitted: {submitted}")
    for name in _AUTO_REPLY_HEADERS:
        if value := _value(headers, name):
            return Automated(AutomatedKind.AUTO_REPLY, f"{name}: {value}")
    precedence = _value(headers, "Precedence").lower()
    if precedence in ("bulk", "junk"):
        return Automated(AutomatedKind.BULK, f"Precedence: {precedence}")
    if precedence == "list":
        return Automated(AutomatedKind.MAILING_LIST, "Precedence: list")
    for name in ("List-Id", "List-Unsubscribe"):
        if _value(headers, name):
            return Automated(AutomatedKind.MAILING_LIST, name)
    return None


@dataclass
class BounceEvidence:
    """What the parts of a bounce said, gathered while the message is walked."""

    status_blocks: list[Message]
    original_headers: list[Message]
    text: list[str]


def _bracketed(value: str) -> str | None:
    found = re.search(r"<[^<>\s]{1,500}>", value)
    return found.group(0) if found else None


def describe(headers: Headers, evidence: BounceEvidence) -> Bounce:
    original: str | None = None
    for copy in evidence.original_headers:
        if original := _bracketed(_value(Headers(copy), "Message-ID")):
            break
    blocks = [Headers(block) for block in evidence.status_blocks]
    for block in blocks:
        original = original or _bracketed(_value(block, "X-Original-Message-ID"))
    if original is None:
        found = _MESSAGE_ID_LINE.search("\n".join(evidence.text))
        original = found.group(1) if found else _bracketed(_value(headers, "In-Reply-To"))
    recipients: list[str] = []
    status: str | None = None
    action = ""
    for block in blocks:
        if recipient := _value(block, "Final-Recipient").rpartition(";")[2].strip().lower():
            recipients.append(recipient)
            found = _STATUS.search(_value(block, "Status"))
            status = status or (found.group(0) if found else None)
            action = action or _value(block, "Action").lower()
    if not recipients:
        failed = _value(headers, "X-Failed-Recipients")
        recipients = [r.strip().lower() for r in failed.split(",") if "@" in r]
    permanent = status.startswith("5") if status else action in ("failed", "")
    return Bounce(original, tuple(recipients), status, permanent)
