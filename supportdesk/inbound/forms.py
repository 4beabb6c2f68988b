"""The mailbox form's fields parsed into `MailboxFields` (shared by the admin page's create and edit)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TypeVar

from werkzeug.datastructures import MultiDict

from supportdesk.core.errors import FieldError, ValidationError
from supportdesk.inbound.mailboxes import DEFAULT_PORTS, MailboxFields
from supportdesk.inbound.models import AfterImport, Mailbox, UnknownSenders

_SEPARATORS = re.compile(r"[\s,;]+")
E = TypeVar("E", bound=StrEnum)


def _choice(form: MultiDict[str, str], name: str, kind: type[E], errors: list[FieldError]) -> E:
    value = form.get(name, "")
    try:
        return kind(value)
    except ValueError:
        errors.append(FieldError(name, f"must be one of {', '.join(m.value for m in kind)}"))
        return next(iter(kind))


def _number(form: MultiDict[str, str], name: str, default: int, errors: list[FieldError]) -> int:
    value = form.get(name, "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit()) or len(value) > 6:  # "²" is a digit int() refuses
        errors.append(FieldError(name, "must be a whole number"))
        return default
    return int(value)


def mailbox_fields(form: MultiDict[str, str], *, creating: bool) -> MailboxFields:
    """Raises ValidationError for what the service cannot even be asked (a port that is no number)."""
    errors: list[FieldError] = []
    security = form.get("security", "tls")
    fields = MailboxFields(
        name=form.get("name", ""),
        address=form.get("address", ""),
        host=form.get("host", ""),
        port=_number(form, "port", DEFAULT_PORTS.get(security, 993), errors),
        security=security,
        username=form.get("username", ""),
        password=form.get("password", "") if creating else (form.get("password") or None),
        folder=form.get("folder", "") or "INBOX",
        after_import=_choice(form, "after_import", AfterImport, errors),
        processed_folder=form.get("processed_folder", "") or "Processed",
        unknown_senders=_choice(form, "unknown_senders", UnknownSenders, errors),
        allowed_domains=tuple(d for d in _SEPARATORS.split(form.get("allowed_domains", "")) if d),
        per_sender_per_hour=_number(form, "per_sender_per_hour", 20, errors),
        is_active=bool(form.get("is_active")),
    )
    if errors:
        raise ValidationError(errors)
    return fields


def form_values(mailbox: Mailbox | None) -> dict[str, str]:
    """What the form shows: a mailbox's settings (never its password), or a new mailbox's defaults."""
    if mailbox is None:
        return {
            "port": "993",
            "security": "tls",
            "folder": "INBOX",
            "after_import": "move",
            "processed_folder": "Processed",
            "unknown_senders": "create",
            "per_sender_per_hour": "20",
            "is_active": "y",
        }
    return {
        "name": mailbox.name,
        "address": mailbox.address,
        "host": mailbox.host,
        "port": str(mailbox.port),
        "security": mailbox.security,
        "username": mailbox.username,
        "folder": mailbox.folder,
        "after_import": mailbox.after_import.value,
        "processed_folder": mailbox.processed_folder,
        "unknown_senders": mailbox.unknown_senders.value,
        "allowed_domains": "\n".join(mailbox.allowed_domains),
        "per_sender_per_hour": str(mailbox.per_sender_per_hour),
        "is_active": "y" if mailbox.is_active else "",
    }
