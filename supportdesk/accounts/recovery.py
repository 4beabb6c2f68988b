"""Getting back in and moving house: a password reset by email, and a change of email address
confirmed from the new address.

Links carry a signed token (itsdangerous, the desk's SECRET_KEY, a salt per purpose) holding the user's
id and a fingerprint of what the link may change: the password hash for a reset, the current address
and hash for an email change. Using the link changes that, so every link works once; the signature's
timestamp makes it expire (an hour for a reset, a day for an address). Nothing is stored."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app, render_template
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from supportdesk.accounts import audit, policy
from supportdesk.accounts.models import User
from supportdesk.accounts.passwords import verify_password
from supportdesk.accounts.service import (
    find_user_by_email,
    free_email,
    is_directory_account,
    replace_password,
)
from supportdesk.core import clock
from supportdesk.core.config import current_config
from supportdesk.core.db import get_by_id
from supportdesk.core.errors import DomainError, NotFound, ValidationError
from supportdesk.core.origin import Origin
from supportdesk.mail.addresses import Address
from supportdesk.notifications import outbox

RESET_SECONDS = 60 * 60
EMAIL_CHANGE_SECONDS = 24 * 60 * 60
MAX_TOKEN_CHARS = 400


class LinkNotValid(DomainError):
    status = 400
    title = "Link no longer valid"


class _ClockSigner(TimestampSigner):
    """Timestamps from the desk's clock, so tests can move time."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=f"supportdesk {purpose}", signer=_ClockSigner
    )


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


def _load(purpose: str, token: str, max_age: int) -> dict[str, Any]:
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise LinkNotValid("This link is no longer valid. Ask for a new one.")
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except BadData:
        raise LinkNotValid("This link is no longer valid. Ask for a new one.") from None
    if not isinstance(data, dict):
        raise LinkNotValid("This link is no longer valid. Ask for a new one.")
    return data


def _mail(session: Session, kind: str, to: Address, subject: str, **context: Any) -> None:
    context = {"kind": kind, "name": to.name, **context}
    outbox.queue_message(
        session,
        kind=kind,
        to=[to],
        subject=subject,
        text=render_template("mail/account.txt", **context),
        html=render_template("mail/account.html", **context),
    )


# --- password reset -------------------------------------------------------------------------------


def request_password_reset(session: Session, email: str) -> None:
    """Send a reset link if an active account uses this address; the same (silent) result otherwise,
    so the answer says nothing about which addresses have accounts."""
    user = find_user_by_email(session, email) if email else None
    if user is None or not user.is_active or is_directory_account(session, user):
        return  # a directory account's password is the directory's to reset
    token = _serializer("password reset").dumps({"u": user.id, "f": _fingerprint(user.password_hash)})
    _mail(
        session,
        "password_reset",
        Address(user.email, user.full_name),
        "Choose a new password for SupportDesk",
        link=f"{current_config().public_url}/password/reset/{token}",
        minutes=RESET_SECONDS // 60,
    )


def user_for_reset(session: Session, token: str) -> User:
    data = _load("password reset", token, RESET_SECONDS)
    user = get_by_id(session, User, int(data.get("u", 0))) if isinstance(data.get("u"), int) else None
    if user is None or not user.is_active or data.get("f") != _fingerprint(user.password_hash):
        raise LinkNotValid("This link is no longer valid. Ask for a new one.")
    return user


def reset_password(session: Session, token: str, new_password: str) -> User:
    """Set the password the link was sent for; every session and API token of the user ends."""
    return replace_password(session, user_for_reset(session, token), new_password)


# --- email address change -------------------------------------------------------------------------


def request_email_change(session: Session, actor: User, new_email: str, password: str) -> str:
    """Mail a confirmation link to the new address and a notice to the current one; nothing changes
    until the link is used. The new address, normalised."""
    if is_directory_account(session, actor):
        raise ValidationError.single("email", "comes from the company directory: change it there")
    if not verify_password(actor.password_hash, password):
        raise ValidationError.single("password", "is not your current password")
    email = free_email(session, new_email, current=actor.email)
    _ask_to_confirm(session, actor, email)
    return email


def request_email_change_for(
    session: Session, admin: User, user_id: int, new_email: str, *, origin: Origin | None = None
) -> str:
    """An admin correcting someone's address: the same rule as for their own change (the link goes to
    the new address, the current one is told, nothing changes until the link is used), without their
    password. The new address, normalised."""
    policy.require_desk_manager(admin)
    user = get_by_id(session, User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} was not found.")
    if is_directory_account(session, user):
        raise ValidationError.single("email", "comes from the company directory: change it there")
    email = free_email(session, new_email, current=user.email)
    _ask_to_confirm(session, user, email)
    audit.record(
        session,
        admin,
        origin,
        "user.email_change_requested",
        target_type="user",
        target_id=user.id,
        target_label=user.email,
        before={"email": user.email},
        after={"email": email},
    )
    return email


def _ask_to_confirm(session: Session, user: User, email: str) -> None:
    token = _serializer("email change").dumps(
        {"u": user.id, "e": email, "f": _fingerprint(user.email, user.password_hash)}
    )
    _mail(
        session,
        "email_confirm",
        Address(email, user.full_name),
        "Confirm your new SupportDesk address",
        link=f"{current_config().public_url}/account/email/confirm/{token}",
        old_email=user.email,
        new_email=email,
    )
    _mail(
        session,
        "email_change_notice",
        Address(user.email, user.full_name),
        "Your SupportDesk address is about to change",
        old_email=user.email,
        new_email=email,
    )


def confirm_email_change(session: Session, token: str) -> User:
    data = _load("email change", token, EMAIL_CHANGE_SECONDS)
    user = get_by_id(session, User, int(data.get("u", 0))) if isinstance(data.get("u"), int) else None
    email = data.get("e")
    if (
        user is None
        or not user.is_active
        or not isinstance(email, str)
        or data.get("f") != _fingerprint(user.email, user.password_hash)
    ):
        raise LinkNotValid("This link is no longer valid. Ask for a new one.")
    user.email = free_email(session, email, current=user.email)
    session.flush()
    return user
