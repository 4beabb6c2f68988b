"""Invitations: a person an admin added (on the users page or from a CSV file) gets an email with a link
to choose their password. The link is signed like a password reset's (`recovery.py`: SECRET_KEY, a salt
of its own, a timestamp) and carries a fingerprint of the account's password hash, so it works once
(choosing a password changes the hash) and for INVITE_DAYS days. Nothing is stored.

Until then the account's password is unusable: no password, however guessed, signs in with it, and no
argon2 hash is computed for it (importing a thousand people would otherwise take minutes)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from supportdesk.accounts import audit, policy
from supportdesk.accounts.directory_models import DirectoryAccount
from supportdesk.accounts.models import User
from supportdesk.accounts.recovery import LinkNotValid, _fingerprint, _load, _mail, _serializer
from supportdesk.accounts.service import replace_password
from supportdesk.core.config import current_config
from supportdesk.core.db import get_by_id
from supportdesk.core.errors import NotFound, ValidationError
from supportdesk.core.origin import Origin
from supportdesk.mail.addresses import Address

INVITE_DAYS = 7
INVITE_SECONDS = INVITE_DAYS * 24 * 60 * 60
_PURPOSE = "invitation"


def invite(
    session: Session, actor: User, user: User, *, origin: Origin | None = None, audited: bool = True
) -> None:
    """Queue the invitation mail in the caller's unit of work (sent once it commits)."""
    policy.require_desk_manager(actor)
    if not user.is_active:
        raise ValidationError.single("user_id", "is deactivated: reactivate them first")
    if session.get(DirectoryAccount, user.id) is not None:
        raise ValidationError.single("user_id", "signs in with the company directory: no password to choose")
    token = _serializer(_PURPOSE).dumps({"u": user.id, "f": _fingerprint(user.password_hash)})
    _mail(
        session,
        "invitation",
        Address(user.email, user.full_name),
        "You are invited to SupportDesk",
        link=f"{current_config().public_url}/invitation/{token}",
        days=INVITE_DAYS,
        inviter=actor.full_name,
        email=user.email,
    )
    if audited:
        audit.record(
            session,
            actor,
            origin,
            "user.invited",
            target_type="user",
            target_id=user.id,
            target_label=user.email,
            after={"invitation_days": INVITE_DAYS},
        )


def reinvite(session: Session, actor: User, user_id: int, *, origin: Origin | None = None) -> User:
    """Send someone a new invitation (the first expired, or went astray). Their current password, if
    they chose one, stops working only once they use the link."""
    policy.require_desk_manager(actor)
    user = get_by_id(session, User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} was not found.")
    invite(session, actor, user, origin=origin)
    return user


def user_for_invitation(session: Session, token: str) -> User:
    data = _load(_PURPOSE, token, INVITE_SECONDS)
    user = get_by_id(session, User, int(data.get("u", 0))) if isinstance(data.get("u"), int) else None
    if user is None or not user.is_active or data.get("f") != _fingerprint(user.password_hash):
        raise LinkNotValid("This invitation is no longer valid: ask the desk for a new one.")
    return user


def accept(session: Session, token: str, new_password: str) -> User:
    """The invited person chooses their password; the link stops working."""
    return replace_password(session, user_for_invitation(session, token), new_password)
