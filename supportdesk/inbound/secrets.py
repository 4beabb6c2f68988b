"""Mailbox passwords at rest: encrypted with a key derived from SECRET_KEY (Fernet: AES-128-CBC with
an HMAC-SHA256), so a database dump or backup alone does not hand out the desk's mail logins. The
desk must send the password to the IMAP server, so it cannot be hashed; a new SECRET_KEY makes the
stored ones unreadable, and the mailbox page asks an admin to enter them again."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from supportdesk.core.config import Config


class UnreadablePassword(Exception):
    """The stored password was encrypted under another SECRET_KEY."""


def _fernet(config: Config) -> Fernet:
    digest = hashlib.sha256(b"supportdesk mailbox passwords\0" + config.secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_password(config: Config, password: str) -> str:
    return _fernet(config).encrypt(password.encode()).decode()


def decrypt_password(config: Config, encrypted: str) -> str:
    try:
        return _fernet(config).decrypt(encrypted.encode()).decode()
    except (InvalidToken, ValueError):
        raise UnreadablePassword(
            "the stored password cannot be read (SECRET_KEY changed?): enter it again"
        ) from None
