"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106's recommendations)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both answers take the same time.
_DUMMY_HASH = _hasher.hash("not a real password")

MIN_PASSWORD_LENGTH = 8
# Marks a password hash no password matches (an invited person who has not chosen one yet): argon2
# hashes start with "$", so no real hash does.
UNUSABLE_PREFIX = "!"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def unusable_password() -> str:
    """A password hash nothing matches, unique to the account (invitation links fingerprint it)."""
    return UNUSABLE_PREFIX + secrets.token_urlsafe(24)


def verify_password(password_hash: str | None, password: str) -> bool:
    if password_hash is not None and password_hash.startswith(UNUSABLE_PREFIX):
        password_hash = None  # the same argon2 verify as for an unknown email, then no
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return not password_hash.startswith(UNUSABLE_PREFIX) and _hasher.check_needs_rehash(password_hash)
