"""Admins configure the desk's mailboxes: validate everything, then change, then flush (the caller
commits). The password is write-only: stored encrypted, never shown or returned."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from supportdesk.accounts import audit
from supportdesk.accounts.models import User
from supportdesk.accounts.policy import require_desk_manager
from supportdesk.core.config import current_config
from supportdesk.core.db import flush_unique, get_by_id
from supportdesk.core.errors import FieldError, NotFound, ValidationError
from supportdesk.core.origin import Origin
from supportdesk.inbound.models import AfterImport, Mailbox, UnknownSenders
from supportdesk.inbound.secrets import encrypt_password
from supportdesk.mail.addresses import is_plain_address

SECURITY = ("tls", "starttls")
DEFAULT_PORTS = {"tls": 993, "starttls": 143}
MAX_ALLOWED_DOMAINS = 100
_HOST = re.compile(
    r"(?=.{1,253}\Z)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
# IMAP folder names outside printable ASCII travel in modified UTF-7; quotes and backslashes need
# escaping. Neither is worth the risk for a folder an admin names: plain names only.
_FOLDER = re.compile(r"[A-Za-z0-9 ._/&+-]{1,200}")
# What the audit log records (the password only as changed, never its value).
AUDITED_FIELDS = (
    "name",
    "address",
    "host",
    "port",
    "security",
    "username",
    "folder",
    "after_import",
    "processed_folder",
    "unknown_senders",
    "allowed_domains",
    "per_sender_per_hour",
    "is_active",
)


@dataclass(frozen=True)
class MailboxFields:
    name: str
    address: str
    host: str
    port: int
    security: str
    username: str
    password: str | None  # None on an update: keep the stored one
    folder: str = "INBOX"
    after_import: AfterImport = AfterImport.MOVE
    processed_folder: str = "Processed"
    unknown_senders: UnknownSenders = UnknownSenders.CREATE
    allowed_domains: tuple[str, ...] = field(default_factory=tuple)
    per_sender_per_hour: int = 20
    is_active: bool = True


def list_mailboxes(session: Session, actor: User) -> list[Mailbox]:
    require_desk_manager(actor)
    return list(session.scalars(select(Mailbox).order_by(Mailbox.name, Mailbox.id)))


def get_mailbox(session: Session, actor: User, mailbox_id: int) -> Mailbox:
    require_desk_manager(actor)
    mailbox = get_by_id(session, Mailbox, mailbox_id)
    if mailbox is None:
        raise NotFound("No such mailbox.")
    return mailbox


def create_mailbox(
    session: Session, actor: User, fields: MailboxFields, *, origin: Origin | None = None
) -> Mailbox:
    require_desk_manager(actor)
    clean = _validated(fields, password_required=True)
    mailbox = Mailbox()
    _apply(mailbox, clean)
    session.add(mailbox)
    flush_unique(session, "name", "another mailbox has this name")
    audit.record(
        session,
        actor,
        origin,
        "mailbox.created",
        target_type="mailbox",
        target_id=mailbox.id,
        target_label=mailbox.name,
        after={**audit.snapshot(mailbox, AUDITED_FIELDS), "password": audit.CHANGED},
    )
    return mailbox


def update_mailbox(
    session: Session, actor: User, mailbox_id: int, fields: MailboxFields, *, origin: Origin | None = None
) -> Mailbox:
    mailbox = get_mailbox(session, actor, mailbox_id)
    clean = _validated(fields, password_required=False)
    was = {**audit.snapshot(mailbox, AUDITED_FIELDS), "password": None}
    _apply(mailbox, clean)
    mailbox.last_error = None  # the admin changed the settings: the old error may no longer hold
    flush_unique(session, "name", "another mailbox has this name")
    now = {
        **audit.snapshot(mailbox, AUDITED_FIELDS),
        "password": audit.CHANGED if clean.password is not None else None,
    }
    audit.record_changes(
        session,
        actor,
        origin,
        "mailbox.updated",
        target_type="mailbox",
        target_id=mailbox.id,
        target_label=mailbox.name,
        before=was,
        after=now,
    )
    return mailbox


def delete_mailbox(session: Session, actor: User, mailbox_id: int, *, origin: Origin | None = None) -> None:
    """The mailbox and its receipts go; tickets and comments it raised stay."""
    mailbox = get_mailbox(session, actor, mailbox_id)
    audit.record_deleted(session, actor, origin, "mailbox", mailbox, AUDITED_FIELDS)
    session.delete(mailbox)
    session.flush()


def _apply(mailbox: Mailbox, fields: MailboxFields) -> None:
    mailbox.name = fields.name
    mailbox.address = fields.address
    mailbox.host = fields.host
    mailbox.port = fields.port
    mailbox.security = fields.security
    mailbox.username = fields.username
    if fields.password is not None:
        mailbox.password_encrypted = encrypt_password(current_config(), fields.password)
    mailbox.folder = fields.folder
    mailbox.after_import = fields.after_import
    mailbox.processed_folder = fields.processed_folder
    mailbox.unknown_senders = fields.unknown_senders
    mailbox.allowed_domains = list(fields.allowed_domains)
    mailbox.per_sender_per_hour = fields.per_sender_per_hour
    mailbox.is_active = fields.is_active


def _validated(fields: MailboxFields, *, password_required: bool) -> MailboxFields:
    errors: list[FieldError] = []
    name = " ".join(fields.name.split())
    if not 1 <= len(name) <= 80:
        errors.append(FieldError("name", "must be 1 to 80 characters"))
    address = fields.address.strip().lower()
    if not is_plain_address(address):
        errors.append(FieldError("address", "must be a plain address such as support@example.com"))
    host = fields.host.strip().lower()
    if not _is_host(host):
        errors.append(FieldError("host", "must be a host name or an IP address"))
    if fields.security not in SECURITY:
        errors.append(FieldError("security", "must be tls (IMAPS, port 993) or starttls (port 143)"))
    if not 1 <= fields.port <= 65535:
        errors.append(FieldError("port", "must be 1 to 65535"))
    username = fields.username.strip()
    if not 1 <= len(username) <= 254 or any(ord(c) < 32 for c in username):
        errors.append(FieldError("username", "must be 1 to 254 characters"))
    password = fields.password
    if password is not None and (not 1 <= len(password) <= 500 or any(c in password for c in "\r\n\0")):
        errors.append(FieldError("password", "must be 1 to 500 characters on one line"))
    if password is None and password_required:
        errors.append(FieldError("password", "is required"))
    folder, processed = fields.folder.strip(), fields.processed_folder.strip()
    if not _FOLDER.fullmatch(folder):
        errors.append(FieldError("folder", "must be 1 to 200 letters, digits, spaces or . _ / & + -"))
    if fields.after_import is AfterImport.MOVE:
        if not _FOLDER.fullmatch(processed):
            errors.append(
                FieldError("processed_folder", "must be 1 to 200 letters, digits, spaces or . _ / & + -")
            )
        elif processed.lower() == folder.lower():
            errors.append(FieldError("processed_folder", "must differ from the folder that is read"))
    domains = tuple(dict.fromkeys(d.strip().lower().lstrip("@") for d in fields.allowed_domains if d.strip()))
    if len(domains) > MAX_ALLOWED_DOMAINS or not all(_HOST.fullmatch(d) and "." in d for d in domains):
        errors.append(FieldError("allowed_domains", f"must be at most {MAX_ALLOWED_DOMAINS} domain names"))
    if not 1 <= fields.per_sender_per_hour <= 10_000:
        errors.append(FieldError("per_sender_per_hour", "must be 1 to 10000"))
    if errors:
        raise ValidationError(errors)
    return MailboxFields(
        name=name,
        address=address,
        host=host,
        port=fields.port,
        security=fields.security,
        username=username,
        password=password,
        folder=folder,
        after_import=fields.after_import,
        processed_folder=processed or "Processed",
        unknown_senders=fields.unknown_senders,
        allowed_domains=domains,
        per_sender_per_hour=fields.per_sender_per_hour,
        is_active=fields.is_active,
    )


def _is_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return _HOST.fullmatch(host) is not None
    return True
