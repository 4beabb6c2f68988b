"""Two-factor sign-in: a TOTP authenticator (RFC 6238, through pyotp) plus ten one-time recovery codes.

The secret is stored encrypted under a key derived from SECRET_KEY (a database dump alone does not hand
out second factors) and shown only while the user sets it up. A code is accepted one step either side of
the server's clock (phones drift) and only once: the step of the last accepted code is kept, and a code
from that step or an earlier one is a replay. Services flush; the caller commits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from supportdesk.accounts import audit, directory_accounts, policy
from supportdesk.accounts import service as accounts
from supportdesk.accounts.models import RecoveryCode, TwoFactor, User
from supportdesk.core import clock
from supportdesk.core.db import get_by_id
from supportdesk.core.errors import NotFound, ValidationError
from supportdesk.core.origin import Origin

ISSUER = "SupportDesk"
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: a code read off paper is typed back right.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_TOTP = re.compile(r"^\d{6}$")
_RECOVERY = re.compile(r"^[a-z0-9]{10}$")


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(b"supportdesk two-factor secrets\0" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _decrypt(secret_key: str, encrypted: str) -> str | None:
    """The TOTP secret, or None when it was encrypted under another SECRET_KEY (recovery codes still work)."""
    try:
        return _fernet(secret_key).decrypt(encrypted.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def _record(session: Session, user: User) -> TwoFactor | None:
    return session.get(TwoFactor, user.id)


def is_enabled(session: Session, user: User) -> bool:
    record = _record(session, user)
    return record is not None and record.enabled_at is not None


def start(session: Session, secret_key: str, user: User, password: str) -> None:
    """A fresh secret, pending until confirmed with a code. Asks for the password again: a browser left
    signed in must not be enough to bind someone else's phone to the account."""
    if not directory_accounts.own_password_matches(session, user, password):
        raise ValidationError.single("password", "is not your password")
    record = _record(session, user)
    if record is not None and record.enabled_at is not None:
        raise ValidationError.single("password", "two-factor sign-in is already on")
    encrypted = _fernet(secret_key).encrypt(pyotp.random_base32().encode()).decode()
    if record is None:
        session.add(TwoFactor(user_id=user.id, secret_encrypted=encrypted, last_used_step=0))
    else:
        record.secret_encrypted = encrypted
    session.flush()


def pending_secret(session: Session, secret_key: str, user: User) -> str | None:
    """The secret being set up, to show with its QR code; never once two-factor is on."""
    record = _record(session, user)
    if record is None or record.enabled_at is not None:
        return None
    return _decrypt(secret_key, record.secret_encrypted)


def provisioning_uri(secret: str, user: User) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def confirm(
    session: Session, secret_key: str, user: User, code: str, *, origin: Origin | None = None
) -> list[str]:
    """Turn two-factor on with a current code from the app: the recovery codes, to show once."""
    record = _record(session, user)
    if record is None or record.enabled_at is not None:
        raise ValidationError.single("code", "start setting up two-factor sign-in first")
    step = _matching_step(secret_key, record, _normalise(code))
    if step is None:
        raise ValidationError.single("code", "is not the current code from your app")
    record.enabled_at = clock.now()
    record.last_used_step = step
    _record_sign_in_change(session, user, user, origin, "sign_in.two_factor_enabled", enabled=True)
    return _new_recovery_codes(session, user)


def _record_sign_in_change(
    session: Session, actor: User, user: User, origin: Origin | None, action: str, *, enabled: bool
) -> None:
    audit.record(
        session,
        actor,
        origin,
        action,
        target_type="user",
        target_id=user.id,
        target_label=user.email,
        before={"two_factor": not enabled},
        after={"two_factor": enabled},
    )


def complete_sign_in(session: Session, secret_key: str, user_id: int, epoch: int, code: str) -> User | None:
    """The second step: the user whose password was just checked, if `code` is a current authenticator
    code or an unused recovery code; None otherwise (and nothing changes). A session that ended in the
    meantime (sign-out everywhere, password change, deactivation) is not completed."""
    user = accounts.find_user(session, user_id)
    if user is None or not user.is_active or user.session_epoch != epoch:
        return None
    if not check_code(session, secret_key, user, code):
        return None
    accounts.record_sign_in(session, user)
    return user


def check_code(session: Session, secret_key: str, user: User, code: str) -> bool:
    """Whether `code` proves the second factor, spending it: an authenticator code's step, or the
    recovery code."""
    record = _record(session, user)
    if record is None or record.enabled_at is None:
        return False
    code = _normalise(code)
    if _TOTP.match(code):
        step = _matching_step(secret_key, record, code)
        if step is None:
            return False
        record.last_used_step = step
        session.flush()
        return True
    if _RECOVERY.match(code):
        found = session.scalars(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == _hash(code),
                RecoveryCode.used_at.is_(None),
            )
        ).first()
        if found is None:
            return False
        found.used_at = clock.now()
        session.flush()
        return True
    return False


def disable(
    session: Session,
    secret_key: str,
    user: User,
    password: str,
    code: str,
    required: tuple[str, ...] = (),
    *,
    origin: Origin | None = None,
) -> None:
    """Turn two-factor off: the password and a code (or recovery code), both checked before anything;
    not for a user the desk requires it of (`required`: the roles of REQUIRE_TWO_FACTOR)."""
    if not is_enabled(session, user):
        raise ValidationError.single("code", "two-factor sign-in is not on")
    if policy.two_factor_required(user, required):
        raise ValidationError.single("code", "the desk requires two-factor sign-in for your role")
    if not directory_accounts.own_password_matches(session, user, password):
        raise ValidationError.single("password", "is not your password")
    if not check_code(session, secret_key, user, code):
        raise ValidationError.single("code", "is not a valid code")
    _remove(session, user)
    _record_sign_in_change(session, user, user, origin, "sign_in.two_factor_disabled", enabled=False)


def regenerate_recovery_codes(session: Session, secret_key: str, user: User, code: str) -> list[str]:
    """Ten new recovery codes replace the old ones (used or not), on a current code."""
    if not is_enabled(session, user):
        raise ValidationError.single("code", "two-factor sign-in is not on")
    if not check_code(session, secret_key, user, code):
        raise ValidationError.single("code", "is not a valid code")
    return _new_recovery_codes(session, user)


def reset_for(session: Session, actor: User, user_id: int, *, origin: Origin | None = None) -> User:
    """An admin turns off someone's second factor (a lost phone and lost recovery codes): they sign in
    with their password and set it up again. Their sessions end, a half sign-in included."""
    policy.require_desk_manager(actor)
    user = get_by_id(session, User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} was not found.")
    if user.id == actor.id:
        raise ValidationError.single("user_id", "is you: turn yours off on your Two-factor page")
    if _record(session, user) is None:
        raise ValidationError.single("user_id", "has no two-factor sign-in to reset")
    _remove(session, user)
    user.session_epoch += 1
    session.flush()
    _record_sign_in_change(session, actor, user, origin, "user.two_factor_reset", enabled=False)
    return user


def recovery_codes_left(session: Session, user: User) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def _remove(session: Session, user: User) -> None:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.execute(delete(TwoFactor).where(TwoFactor.user_id == user.id))
    session.expire_all()
    session.flush()


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODE_COUNT)
    ]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(code)) for code in codes)
    session.flush()
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def _matching_step(secret_key: str, record: TwoFactor, code: str) -> int | None:
    """The time step `code` belongs to, within one step of now and after the last one used; or None."""
    secret = _decrypt(secret_key, record.secret_encrypted)
    if secret is None or not _TOTP.match(code):
        return None
    totp = pyotp.TOTP(secret)
    now: datetime = clock.now()
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):  # pyotp's valid_window=1, keeping the step
        if step > record.last_used_step and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
