"""Reading one folder of an IMAP mailbox with the standard library's imaplib: TLS from the start
(IMAPS) or STARTTLS, the certificate always checked, one message at a time by UID, and a message
moved (or deleted) only when the caller says its ticket is committed. Every failure of the server or
the connection is a `MailboxUnavailable`: the poll stops, and what was not done is done next time."""

from __future__ import annotations

import contextlib
import imaplib
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

from supportdesk.inbound.models import AfterImport


class MailboxUnavailable(Exception):
    """The server cannot be reached, refused the login, or the connection broke."""


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    security: str  # "tls" or "starttls"
    username: str
    password: str
    folder: str
    after_import: AfterImport
    processed_folder: str
    ca_file: str | None = None
    timeout_seconds: float = 30


def quoted(name: str) -> str:
    """A folder name as an IMAP quoted string (names are plain ASCII: `mailboxes._FOLDER`)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapFolder:
    """`with ImapFolder(settings) as folder: for uid in folder.waiting(100): ...`"""

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self._client: imaplib.IMAP4 | None = None
        self._capabilities: set[bytes] = set()

    def __enter__(self) -> ImapFolder:
        settings = self.settings
        context = ssl.create_default_context(cafile=settings.ca_file)
        try:
            if settings.security == "tls":
                client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    settings.host, settings.port, ssl_context=context, timeout=settings.timeout_seconds
                )
            else:
                client = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout_seconds)
                client.starttls(ssl_context=context)
            self._client = client
            client.login(settings.username, settings.password)
            self._check(client.select(quoted(settings.folder)), f"open the folder {settings.folder}")
            # What the server can do after the login (servers announce more than before it).
            capabilities = self._check(client.capability(), "list its capabilities")
            self._capabilities = set(
                b" ".join(c for c in capabilities if isinstance(c, bytes)).upper().split()
            )
            if settings.after_import is AfterImport.MOVE:
                # NO: it exists already (servers word it differently); a missing one shows at the move.
                client.create(quoted(settings.processed_folder))
        except (imaplib.IMAP4.error, OSError, ssl.SSLError) as error:
            self._close()
            raise MailboxUnavailable(_describe(error)) from error
        return self

    def waiting(self, limit: int) -> list[int]:
        """The UIDs of the messages in the folder, oldest first, at most `limit`."""
        data = self._command("search the folder", lambda c: c.uid("SEARCH", "UNDELETED"))
        uids = sorted(int(uid) for uid in (data[0] or b"").split())
        return uids[:limit]

    def fetch(self, uid: int) -> bytes | None:
        """The message's bytes (without marking it read), or None when it has gone meanwhile."""
        data = self._command(f"fetch message {uid}", lambda c: c.uid("FETCH", str(uid), "(BODY.PEEK[])"))
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        return None

    def done(self, uids: Sequence[int]) -> None:
        """Take these messages out of the folder: their tickets and comments are committed. One command
        for many (a move costs the server a sync to disk, and a round trip)."""
        if not uids:
            return
        settings, message_set = self.settings, ",".join(str(uid) for uid in uids)
        if settings.after_import is AfterImport.MOVE and b"MOVE" in self._capabilities:
            target = quoted(settings.processed_folder)
            self._command("move the imported messages", lambda c: c.uid("MOVE", message_set, target))
            return
        if settings.after_import is AfterImport.MOVE:
            target = quoted(settings.processed_folder)
            self._command("copy the imported messages", lambda c: c.uid("COPY", message_set, target))
        self._command(
            "flag the imported messages",
            lambda c: c.uid("STORE", message_set, "+FLAGS.SILENT", r"(\Deleted)"),
        )
        if b"UIDPLUS" in self._capabilities:
            self._command("expunge the imported messages", lambda c: c.uid("EXPUNGE", message_set))
        else:
            self._command("expunge", lambda c: c.expunge())

    def wait_for_new_mail(self, seconds: float) -> bool:
        """IDLE (RFC 2177): True as soon as the server says a message arrived in the folder, False when
        `seconds` pass without one (or the server has no IDLE). imaplib has no IDLE before Python 3.14,
        so the command is spoken on its connection directly."""
        client = self._connected()
        if b"IDLE" not in self._capabilities:
            return False
        tag = client._new_tag()
        heard = False
        try:
            client.send(tag + b" IDLE\r\n")
            if not client.readline().startswith(b"+"):
                raise MailboxUnavailable("the server refused IDLE")
            client.sock.settimeout(seconds)
            try:
                while not heard:
                    line = client.readline()
                    if not line:
                        raise MailboxUnavailable("the server closed the connection")
                    heard = line.startswith(b"* ") and line.rstrip().endswith((b" EXISTS", b" RECENT"))
            except TimeoutError:
                # A socket file that timed out refuses every later read; the server sent nothing
                # meanwhile (that is why it timed out), so a fresh one loses nothing.
                client.file = client.sock.makefile("rb")
            client.sock.settimeout(self.settings.timeout_seconds)
            client.send(b"DONE\r\n")
            while not (line := client.readline()).startswith(tag):
                if not line:
                    raise MailboxUnavailable("the server closed the connection")
        except (imaplib.IMAP4.error, OSError, ssl.SSLError) as error:
            self._close()
            raise MailboxUnavailable(f"could not wait for new mail: {_describe(error)}") from error
        if not line.startswith(tag + b" OK"):
            raise MailboxUnavailable(f"the server ended IDLE with {line[:200]!r}")
        return heard

    def _connected(self) -> imaplib.IMAP4:
        if self._client is None:
            raise MailboxUnavailable("not connected")
        return self._client

    def _command(self, what: str, run):  # type: ignore[no-untyped-def]
        client = self._connected()
        try:
            result = run(client)
        except (imaplib.IMAP4.error, OSError, ssl.SSLError) as error:
            self._close()
            raise MailboxUnavailable(f"could not {what}: {_describe(error)}") from error
        return self._check(result, what)

    def _check(self, result: tuple[str, Sequence[object]], what: str) -> Sequence[object]:
        status, data = result
        if status != "OK":
            detail = b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace")
            raise MailboxUnavailable(f"the server would not {what}: {detail[:300]}")
        return data

    def _close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.shutdown()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        client = self._client
        if client is not None:
            with contextlib.suppress(imaplib.IMAP4.error, OSError, ssl.SSLError):
                client.logout()
        self._client = None


def _describe(error: BaseException) -> str:
    if isinstance(error, socket.timeout):
        return "the server did not answer in time"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"the server's certificate was refused: {error.verify_message}"
    if isinstance(error, ConnectionRefusedError):
        return "the connection was refused"
    text = error.args[0] if error.args else ""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return (str(text) or type(error).__name__)[:300]
