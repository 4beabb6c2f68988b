"""Raw RFC 5322 bytes to a typed, frozen `InboundMessage`. Pure: no I/O.

Anything that is not a message, or is built to hurt (too big, too deep, too many parts), raises
`UnparseableMessage` with the reason, and nothing else: the fetcher quarantines it and goes on. A lone
part that is too large is left out and named in `skipped`, so the desk can say what it did not keep.
"""

from __future__ import annotations

import email.utils
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesParser, HeaderParser
from email.policy import compat32

from supportdesk.mail import tnef
from supportdesk.mail.addresses import Address, header_text, is_plain_address
from supportdesk.mail.automation import Automated, AutomatedKind, Bounce, BounceEvidence, classify, describe
from supportdesk.mail.bodies import (
    MAX_TEXT_CHARS,
    html_to_text,
    reply_part,
    sanitise_html,
    unflow,
)
from supportdesk.mail.charsets import Headers, decode_text, decode_words, raw_header_text

__all__ = [
    "MAX_ADDRESSES",
    "MAX_ATTACHMENT_BYTES",
    "MAX_DEPTH",
    "MAX_HEADER_BYTES",
    "MAX_MESSAGE_BYTES",
    "MAX_PARTS",
    "MAX_REFERENCES",
    "MAX_SUBJECT_CHARS",
    "MAX_TEXT_CHARS",
    "Address",
    "Attachment",
    "Automated",
    "AutomatedKind",
    "Bounce",
    "InboundMessage",
    "SkippedPart",
    "UnparseableMessage",
    "parse_message",
]

MAX_MESSAGE_BYTES = 40 * 1024 * 1024  # base64 of a 25 MiB file plus the rest of the message
MAX_HEADER_BYTES = 256 * 1024
MAX_PARTS = 500
MAX_DEPTH = 20
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
MAX_SUBJECT_CHARS = 1000
MAX_ADDRESSES = 500
MAX_REFERENCES = 50
MAX_FILENAME_CHARS = 200

_MESSAGE_ID = re.compile(r"<([^<>\s]{1,500})>")
_BARE_MESSAGE_ID = re.compile(r"[^<>\s@]+@[^<>\s@]+")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NEWLINES = re.compile(r"\r\n?")
_FILENAME_JUNK = re.compile(r"[\x00-\x1f\x7f\"*:<>?|]")


class UnparseableMessage(ValueError):
    """The bytes are not a message this desk can read; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str  # decoded and made safe: no folders, no control characters, never empty
    content_type: str
    content: bytes
    content_id: str | None  # without angle brackets; `<img src="cid:...">` in `html` points here
    inline: bool  # shown in the body (an inline image) rather than attached

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True, slots=True)
class SkippedPart:
    """A part that was left out, and why (too large, say)."""

    filename: str
    content_type: str
    size: int
    reason: str


@dataclass(frozen=True, slots=True)
class InboundMessage:
    message_id: str | None  # with angle brackets
    in_reply_to: str | None
    references: tuple[str, ...]
    sender: Address  # From (or Sender when From has no usable address); address lower-cased
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    delivered_to: tuple[str, ...]  # Delivered-To and X-Original-To: the mailbox it really reached
    subject: str
    date: datetime | None  # in UTC
    text: str  # the plain text (from text/plain, else the HTML made readable); "\n" line ends
    html: str | None  # the HTML, sanitised; None when the message has none
    reply: str  # the text without quoted history and signature
    attachments: tuple[Attachment, ...]
    skipped: tuple[SkippedPart, ...]
    automated: Automated | None
    bounce: Bounce | None

    @property
    def is_automated(self) -> bool:
        return self.automated is not None


def parse_message(raw: bytes) -> InboundMessage:
    """Parse one message. Raises `UnparseableMessage`, and nothing else, when it cannot be read."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise UnparseableMessage(f"the message is larger than {MAX_MESSAGE_BYTES // 2**20} MiB")
    end = _HEADER_END.search(raw)
    if (end.start() if end else len(raw)) > MAX_HEADER_BYTES:
        raise UnparseableMessage(f"the header section is larger than {MAX_HEADER_BYTES // 1024} KiB")
    try:
        message = BytesParser(policy=compat32).parsebytes(raw)
    except RecursionError:
        raise UnparseableMessage(f"MIME parts nested deeper than {MAX_DEPTH} levels") from None
    _check_structure(message)
    headers = Headers(message)
    sender = _sender(headers)
    body = _Body()
    body.visit(message, 0)
    raw_html = "\n".join(body.html)
    html = sanitise_html(raw_html) if raw_html else None
    text = _bounded_text(body.text) if body.text else (html_to_text(raw_html) if raw_html else "")
    automated = classify(message, headers, sender.address)
    is_bounce = automated is not None and automated.kind is AutomatedKind.BOUNCE
    body.evidence.text.append(text)
    return InboundMessage(
        message_id=_message_id(headers.first("Message-ID")),
        in_reply_to=_message_id(headers.first("In-Reply-To")),
        references=_references(headers.first("References")),
        sender=sender,
        reply_to=_addresses(headers, "Reply-To"),
        to=_addresses(headers, "To"),
        cc=_addresses(headers, "Cc"),
        delivered_to=_delivered_to(headers),
        subject=header_text(decode_words(headers.first("Subject")))[:MAX_SUBJECT_CHARS],
        date=_date(headers.first("Date")),
        text=text,
        html=html or None,
        reply=reply_part(text),
        attachments=tuple(body.attachments),
        skipped=tuple(body.skipped),
        automated=automated,
        bounce=describe(headers, body.evidence) if is_bounce else None,
    )


def _check_structure(message: Message) -> None:
    """Count parts and depth without recursion, before anything walks the tree recursively."""
    stack: list[tuple[Message, int]] = [(message, 0)]
    parts = 0
    while stack:
        part, depth = stack.pop()
        parts += 1
        if parts > MAX_PARTS:
            raise UnparseableMessage(f"the message has more than {MAX_PARTS} MIME parts")
        if depth > MAX_DEPTH:
            raise UnparseableMessage(f"MIME parts nested deeper than {MAX_DEPTH} levels")
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend((child, depth + 1) for child in payload if isinstance(child, Message))


def _addresses(headers: Headers, name: str) -> tuple[Address, ...]:
    """Addresses are split before names are decoded, so an encoded-word cannot add an address."""
    values = headers.all(name)
    if not values:
        return ()
    found: list[Address] = []
    for display_name, address in email.utils.getaddresses(values):
        address = address.strip().lower()
        if is_plain_address(address):
            found.append(Address(address, header_text(decode_words(display_name))))
            if len(found) == MAX_ADDRESSES:
                break
    return tuple(found)


def _delivered_to(headers: Headers) -> tuple[str, ...]:
    found = (a.address for name in ("Delivered-To", "X-Original-To") for a in _addresses(headers, name))
    return tuple(dict.fromkeys(found))


def _sender(headers: Headers) -> Address:
    for name in ("From", "Sender"):
        if found := _addresses(headers, name):
            return found[0]
    raise UnparseableMessage("no sender address (From or Sender)")


def _message_id(value: str) -> str | None:
    if found := _MESSAGE_ID.search(value):
        return found.group(0)
    bare = value.strip()
    return f"<{bare}>" if _BARE_MESSAGE_ID.fullmatch(bare) else None


def _references(value: str) -> tuple[str, ...]:
    ids = list(dict.fromkeys(m.group(0) for m in _MESSAGE_ID.finditer(value)))
    # RFC 5322 lets a long thread drop its middle; the root and the most recent ones say the most.
    return tuple(ids if len(ids) <= MAX_REFERENCES else [ids[0], *ids[-(MAX_REFERENCES - 1) :]])


def _date(value: str) -> datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # "-0000" or no zone: the sender did not know; UTC is the norm
    try:
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _bounded_text(pieces: list[str]) -> str:
    return "\n".join(pieces)[:MAX_TEXT_CHARS]


def _decoded(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _text_of(part: Message) -> str:
    text = decode_text(_decoded(part), part.get_content_charset())
    text = _CONTROLS.sub("", _NEWLINES.sub("\n", text[:MAX_TEXT_CHARS])).lstrip("\ufeff")
    if str(part.get_param("format", "") or "").lower() == "flowed":
        text = unflow(text, delsp=str(part.get_param("delsp", "") or "").lower() == "yes")
    return text


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or part.get_param("name") or ""
    except (LookupError, ValueError, UnicodeError):
        name = ""
    if isinstance(name, tuple):  # an RFC 2231 value the library left undecoded
        name = str(name[2])
    return _safe_filename(decode_words(raw_header_text(str(name))))


def _safe_filename(name: str) -> str:
    name = _FILENAME_JUNK.sub("", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" .")
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        name = stem[: MAX_FILENAME_CHARS - len(extension) - 1] + dot + extension if dot else name
        name = name[:MAX_FILENAME_CHARS]
    return name


@dataclass
class _Body:
    """Walks the MIME tree (its depth is checked first), gathering bodies, files and bounce evidence."""

    text: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    skipped: list[SkippedPart] = field(default_factory=list)
    evidence: BounceEvidence = field(default_factory=lambda: BounceEvidence([], [], []))

    def visit(self, part: Message, depth: int) -> None:
        content_type = part.get_content_type()
        if content_type == "multipart/alternative":
            self._alternative(part, depth)
        elif content_type == "multipart/report":
            self._report(part, depth)
        elif content_type == "message/rfc822":
            self._attach_message(part)
        elif content_type in ("message/delivery-status", "text/rfc822-headers"):
            self._report_part(part)
        elif part.is_multipart():
            for child in _children(part):
                self.visit(child, depth + 1)
        elif (name := _filename(part)) or _is_attachment(part, content_type):
            self._attach(part, content_type, name)
        elif content_type == "text/html":
            self.html.append(_text_of(part))
        else:
            self.text.append(_text_of(part))

    def _alternative(self, part: Message, depth: int) -> None:
        """Clients put the plainest first: text from the first part that has it, HTML from the last."""
        views = []
        for child in _children(part):
            view = _Body()
            view.visit(child, depth + 1)
            views.append(view)
            self.attachments.extend(view.attachments)
            self.skipped.extend(view.skipped)
            self.evidence.status_blocks.extend(view.evidence.status_blocks)
            self.evidence.original_headers.extend(view.evidence.original_headers)
        self.text.extend(next((v.text for v in views if v.text), []))
        self.html.extend(next((v.html for v in reversed(views) if v.html), []))

    def _report(self, part: Message, depth: int) -> None:
        children = _children(part)
        if children:
            self.visit(children[0], depth + 1)  # the human-readable explanation
        for child in children[1:]:
            if child.get_content_type() == "message/rfc822":
                self.evidence.original_headers.extend(_children(child)[:1])
            else:
                self._report_part(child)

    def _report_part(self, part: Message) -> None:
        if part.get_content_type() == "message/delivery-status":
            self.evidence.status_blocks.extend(_children(part))
        elif part.get_content_type() == "text/rfc822-headers":
            headers = HeaderParser(policy=compat32).parsestr(_text_of(part))
            self.evidence.original_headers.append(headers)

    def _attach_message(self, part: Message) -> None:
        inner = _children(part)
        if not inner:
            return
        content = inner[0].as_bytes(policy=compat32)
        subject = header_text(decode_words(Headers(inner[0]).first("Subject")))
        name = _filename(part) or (_safe_filename(f"{subject[:100]}.eml") if subject else "")
        self._keep(name or "message.eml", "message/rfc822", content, None, False)

    def _attach(self, part: Message, content_type: str, name: str) -> None:
        content = _decoded(part)
        if content_type == "application/ms-tnef" or name.lower() == "winmail.dat":
            files = tnef.unpack(content)
            if files:  # else keep the blob: it may be unreadable, or hold only a rich-text body
                for file in files:
                    self._keep(_safe_filename(file.filename), file.content_type, file.content, None, False)
                return
        content_id = _message_id(Headers(part).first("Content-ID"))
        disposition = part.get_content_disposition()
        inline = disposition == "inline" or (disposition is None and content_id is not None)
        self._keep(name, content_type, content, content_id[1:-1] if content_id else None, inline)

    def _keep(
        self, name: str, content_type: str, content: bytes, content_id: str | None, inline: bool
    ) -> None:
        if not name:
            extension = mimetypes.guess_extension(content_type) or ".bin"
            name = f"attachment-{len(self.attachments) + len(self.skipped) + 1}{extension}"
        if len(content) > MAX_ATTACHMENT_BYTES:
            reason = f"too large: over {MAX_ATTACHMENT_BYTES // 2**20} MiB"
            self.skipped.append(SkippedPart(name, content_type, len(content), reason))
            return
        self.attachments.append(Attachment(name, content_type, content, content_id, inline))


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [child for child in payload if isinstance(child, Message)] if isinstance(payload, list) else []


def _is_attachment(part: Message, content_type: str) -> bool:
    """A file rather than a body (when it has no name): said to be one, or not text to read."""
    if content_type not in ("text/plain", "text/html"):
        return not content_type.startswith("multipart/")
    return part.get_content_disposition() == "attachment"
