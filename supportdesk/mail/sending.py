"""Handing messages to an SMTP relay: TLS (STARTTLS or implicit), authentication, one connection for a
batch, and every failure sorted into "try again later" or "never" (RFC 5321: 4xx and 5xx)."""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType


@dataclass(frozen=True)
class RelaySettings:
    host: str
    port: int
    security: str  # "starttls", "tls" or "none"
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None  # a private CA's certificate; otherwise the system's
    timeout_seconds: float = 30

    @property
    def name(self) -> str:
        return f"{self.host}:{self.port}"


class TemporaryFailure(Exception):
    """The relay could not take the message now (down, busy, 4xx): try again later."""


class PermanentFailure(Exception):
    """The relay refused the message for good (5xx): sending it again would not help."""


def _classify(error: BaseException) -> Exception:
    code = getattr(error, "smtp_code", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in error.recipients.values()]
        code = min(codes) if codes else None  # any 4xx among them: worth another try
    detail = str(error) or type(error).__name__
    if isinstance(error, smtplib.SMTPResponseException):
        reply = (
            error.smtp_error.decode(errors="replace")
            if isinstance(error.smtp_error, bytes)
            else error.smtp_error
        )
        detail = f"{error.smtp_code} {reply}"
    elif isinstance(error, smtplib.SMTPRecipientsRefused):
        detail = "; ".join(f"{a}: {c} {r.decode(errors='replace')}" for a, (c, r) in error.recipients.items())
    if isinstance(error, smtplib.SMTPAuthenticationError):
        # A wrong password stays wrong, but an admin fixes it for every waiting message at once.
        return TemporaryFailure(f"the relay refused our login: {detail}")
    if isinstance(code, int) and 500 <= code < 600:
        return PermanentFailure(detail)
    if isinstance(error, (ConnectionError, socket.timeout, OSError)) and not isinstance(
        error, smtplib.SMTPException
    ):
        return TemporaryFailure(f"could not connect to the relay: {detail}")
    return TemporaryFailure(detail)


class Relay:
    """`with Relay(settings) as relay: relay.send(sender, recipients, raw)`: one connection, many sends."""

    def __init__(self, settings: RelaySettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Relay:
        settings = self.settings
        context = ssl.create_default_context(cafile=settings.ca_file)
        try:
            if settings.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.host, settings.port, timeout=settings.timeout_seconds, context=context
                )
            else:
                smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
                if settings.security == "starttls":
                    smtp.starttls(context=context)
            if settings.username:
                smtp.login(settings.username, settings.password or "")
        except (smtplib.SMTPException, OSError) as error:
            raise _classify(error) from error
        self._smtp = smtp
        return self

    def send(self, sender: str, recipients: Sequence[str], raw: str) -> dict[str, tuple[int, bytes]]:
        """Hand one message over; the recipients refused while others were accepted (for the log).
        Raises TemporaryFailure or PermanentFailure when the message was not taken."""
        if self._smtp is None:
            raise RuntimeError("use the relay in a with block")
        try:
            return self._smtp.sendmail(sender, list(recipients), raw)
        except (smtplib.SMTPException, OSError) as error:
            failure = _classify(error)
            if isinstance(error, smtplib.SMTPServerDisconnected) or not isinstance(
                error, smtplib.SMTPException
            ):
                self._smtp = None  # the connection is gone: the next message needs a new one
            else:
                try:
                    self._smtp.rset()  # back to a clean state for the next message
                except (smtplib.SMTPException, OSError):
                    self._smtp = None
            raise failure from error

    @property
    def connected(self) -> bool:
        return self._smtp is not None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None
