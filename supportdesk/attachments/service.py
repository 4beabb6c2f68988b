"""Storing uploads with a ticket or a reply, and finding one for a reader through the ticket policy."""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import IO

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.attachments.models import INLINE_IMAGE_TYPES, Attachment
from supportdesk.attachments.storage import LocalStorage, StorageFailed, TooLarge
from supportdesk.core.errors import FieldError, NotFound, ValidationError
from supportdesk.tickets import policy
from supportdesk.tickets.models import Comment, Ticket

MAX_FILES_PER_UPLOAD = 10
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*;]')


class StorageFull(ValidationError):
    """The server could not keep a file (its disk is full): the whole change is refused, like any
    refusal, so the form keeps what was typed; 507 for API clients, which did nothing wrong."""

    status = HTTPStatus.INSUFFICIENT_STORAGE
    title = "Insufficient storage"

    def __init__(self, name: str) -> None:
        super().__init__(
            [
                FieldError(
                    "attachments",
                    f"{name} could not be stored: the desk's disk is full. Nothing was sent; try again "
                    "later, or send it without the file.",
                )
            ]
        )


@dataclass(frozen=True)
class Upload:
    filename: str
    stream: IO[bytes]


@dataclass(frozen=True)
class Limits:
    per_file: int
    per_ticket: int


@dataclass(frozen=True)
class FileStore:
    """Where uploads go and how big they may be (built from Config by the faces)."""

    storage: LocalStorage
    limits: Limits


def sanitise_filename(name: str) -> str:
    """The name to show and to offer on download: no path, no control or shell characters, no leading
    dots, at most 150 characters with the extension kept."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    if not name:
        return "attachment"
    if len(name) > 150:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem[: 149 - len(ext)]}.{ext}" if dot and len(ext) <= 10 else name[:150]
    return name


def sniff_image_type(head: bytes) -> str | None:
    """Recognise the raster formats that may be shown inline from their first bytes, whatever the
    browser claimed."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def store_uploads(
    session: Session,
    files: FileStore,
    actor: User,
    ticket: Ticket,
    uploads: Sequence[Upload],
    comment: Comment | None = None,
) -> list[Attachment]:
    """Save the files and add their rows to the session (the caller commits with the ticket change).
    Any file that is empty or over a limit refuses the whole upload and keeps nothing."""
    uploads = [u for u in uploads if u.filename]
    if len(uploads) > MAX_FILES_PER_UPLOAD:
        raise ValidationError.single("attachments", f"attach at most {MAX_FILES_PER_UPLOAD} files at a time")
    storage, limits = files.storage, files.limits
    used = 0
    if ticket.id is not None:
        used = (
            session.scalar(
                select(func.coalesce(func.sum(Attachment.size_bytes), 0)).where(
                    Attachment.ticket_id == ticket.id
                )
            )
            or 0
        )
    saved: list[tuple[str, int, bytes, str]] = []
    try:
        for upload in uploads:
            name = sanitise_filename(upload.filename)
            remaining = limits.per_ticket - used
            try:
                key, size, head = storage.save(upload.stream, min(limits.per_file, remaining))
            except TooLarge:
                raise _too_large(name, limits, remaining) from None
            except StorageFailed:
                raise StorageFull(name) from None
            saved.append((key, size, head, name))
            if size == 0:
                raise ValidationError.single("attachments", f"{name} is empty")
            used += size
    except ValidationError:
        for key, *_ in saved:
            storage.delete(key)
        raise
    attachments = [
        Attachment(
            ticket=ticket,
            comment=comment,
            uploader=actor,
            filename=name,
            size_bytes=size,
            storage_key=key,
            content_type=sniff_image_type(head) or _declared_type(name),
        )
        for key, size, head, name in saved
    ]
    session.add_all(attachments)
    return attachments


def attachments_for(session: Session, actor: User, ticket_id: int) -> list[Attachment]:
    """The ticket's files that `actor` may read (the caller has already read the ticket through the
    policy)."""
    statement = _LISTED[policy.sees_internal_notes(actor)]
    return list(session.scalars(statement, {"ticket_id": ticket_id}))


def attachments_of_tickets(session: Session, actor: User, ticket_ids: list[int]) -> list[Attachment]:
    """`attachments_for` several tickets at once (the tickets merged into one, shown on it)."""
    statement = _OF_TICKETS[policy.sees_internal_notes(actor)]
    return list(session.scalars(statement, {"ticket_ids": ticket_ids}))


def get_attachment(session: Session, actor: User, ticket_id: int, attachment_id: int) -> Attachment:
    """One file, found through its ticket (never by id alone; the caller has read the ticket through the
    policy)."""
    statement = _ONE[policy.sees_internal_notes(actor)]
    attachment = session.scalars(
        statement, {"ticket_id": ticket_id, "attachment_id": attachment_id}
    ).one_or_none()
    if attachment is None:
        raise NotFound("This attachment was not found.")
    return attachment


def _readable(with_notes: bool, *, several: bool = False) -> Select[Attachment]:
    """A ticket's files; those of internal notes only `with_notes`. Built once per kind of reader and
    run with the ticket bound (building a statement costs SQLAlchemy about as much as running it)."""
    query = select(Attachment).where(
        Attachment.ticket_id.in_(bindparam("ticket_ids", expanding=True))
        if several
        else Attachment.ticket_id == bindparam("ticket_id")
    )
    if not with_notes:
        query = query.outerjoin(Comment, Attachment.comment_id == Comment.id).where(
            Attachment.comment_id.is_(None) | Comment.internal.is_(False)
        )
    return query


_LISTED = {with_notes: _readable(with_notes).order_by(Attachment.id) for with_notes in (True, False)}
_OF_TICKETS = {
    with_notes: _readable(with_notes, several=True).order_by(Attachment.id) for with_notes in (True, False)
}
_ONE = {
    with_notes: _readable(with_notes).where(Attachment.id == bindparam("attachment_id"))
    for with_notes in (True, False)
}


def _declared_type(name: str) -> str:
    """The type the name suggests, for display only; a name that claims an image whose bytes were not
    recognised as one is just bytes (so it is never shown inline)."""
    guessed, _ = mimetypes.guess_type(name)
    if guessed is None or guessed in INLINE_IMAGE_TYPES:
        return "application/octet-stream"
    return guessed


def _too_large(name: str, limits: Limits, remaining: int) -> ValidationError:
    if remaining < limits.per_file:
        return ValidationError(
            [
                FieldError(
                    "attachments",
                    f"{name} would take this ticket over its {_mb(limits.per_ticket)} limit for attachments",
                )
            ]
        )
    return ValidationError([FieldError("attachments", f"{name} is larger than {_mb(limits.per_file)}")])


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"
