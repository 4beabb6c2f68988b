"""API tokens: issued against a password, shown once, stored hashed, expiring and revocable. A token
stops working when its user is deactivated."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from supportdesk.accounts import service as accounts
from supportdesk.accounts import twofactor
from supportdesk.accounts.models import ApiToken, User
from supportdesk.core import clock
from supportdesk.core.db import db
from supportdesk.core.errors import NotFound, PermissionDenied

TOKEN_PREFIX = "sd_"  # noqa: S105 - a marker, not a secret
DEFAULT_LIFETIME = timedelta(days=90)
# Writing last_used_at on every request would turn every API read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    session: Session, email: str, password: str, name: str, lifetime: timedelta = DEFAULT_LIFETIME
) -> tuple[ApiToken, str]:
    """A new token for the user with these credentials: (the stored token, the secret to show once)."""
    name = accounts.clean_name(name)
    user = accounts.authenticate(session, email, password)
    if user is None:
        raise PermissionDenied("That email and password do not match an active account.")
    if twofactor.is_enabled(session, user):
        # A password alone is not enough for this account; tokens come from the tokens page, signed in.
        raise PermissionDenied("This account signs in with two factors: create tokens on your account page.")
    if user.must_change_password:
        raise PermissionDenied("This password is temporary: sign in on the web and choose your own first.")
    accounts.record_sign_in(session, user)
    return issue_token_for(session, user, name, lifetime)


def issue_token_for(
    session: Session, user: User, name: str, lifetime: timedelta = DEFAULT_LIFETIME
) -> tuple[ApiToken, str]:
    """A new token for a user already signed in (the profile page)."""
    name = accounts.clean_name(name)
    if not user.is_active:
        raise PermissionDenied("This account is deactivated.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    token = ApiToken(
        user=user,
        name=name,
        token_hash=_digest(secret),
        prefix=secret[:10],
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(token)
    session.flush()
    return token, secret


def live_token(session: Session, secret: str) -> ApiToken | None:
    """The live token with this secret, of an active user, or None (read only)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = session.scalars(_TOKEN_BY_HASH, {"token_hash": _digest(secret)}).one_or_none()
    if (
        token is None
        or token.revoked_at is not None
        or token.expires_at <= clock.now()
        or not token.user.is_active
    ):
        return None
    return token


def use_is_due(token: ApiToken) -> bool:
    """Whether the token's last use is worth writing down: it is kept to a few minutes, since writing
    it on every request would turn every API read into a write."""
    return token.last_used_at is None or clock.now() - token.last_used_at > LAST_USED_RESOLUTION


def note_use(session: Session, token: ApiToken) -> None:
    token.last_used_at = clock.now()
    session.flush()


def authenticate_bearer(secret: str) -> User | None:
    """The API's sign-in: the user a bearer secret belongs to. Noting the token's use, when it is due,
    is a unit of work of its own, before the request's."""
    token = live_token(db.session(), secret)
    if token is None:
        return None
    if use_is_due(token):
        with db.transaction() as session:
            note_use(session, token)
    return token.user


# Every API request runs it: built once (building it cost as much as running it).
_TOKEN_BY_HASH = (
    select(ApiToken).where(ApiToken.token_hash == bindparam("token_hash")).options(joinedload(ApiToken.user))
)


def list_tokens(session: Session, actor: User) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == actor.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.id)
        )
    )


def revoke_token(session: Session, actor: User, token_id: int) -> None:
    """Revoke one of the actor's own tokens; anyone else's is "not found"."""
    token = session.scalars(
        select(ApiToken).where(
            ApiToken.id == token_id, ApiToken.user_id == actor.id, ApiToken.revoked_at.is_(None)
        )
    ).one_or_none()
    if token is None:
        raise NotFound(f"Token {token_id} was not found.")
    token.revoked_at = clock.now()
    session.flush()
