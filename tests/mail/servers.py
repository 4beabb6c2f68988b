"""Real mail servers for the tests, started by the suite on loopback.

- `Dovecot`: Debian's Dovecot serving IMAP over TLS (IMAPS, IDLE on) from Maildirs in a throwaway
  folder, users in a passwd-file, a throwaway self-signed certificate. As root it runs with its own
  base_dir, the mail owned by `nobody`; as another user it runs wholly as that user.
- `SmtpSink`: aiosmtpd as the outgoing relay: STARTTLS required, then AUTH LOGIN or PLAIN; it records
  every message it accepts, and can refuse for a while (4xx replies) or go away (closed port).

`tests/mail/fixtures.py` (a plugin of the root conftest) starts one of each per test session and hands
each test a fresh mailbox and an emptied sink (see the fixtures there).
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
ACCOUNTS = 1000  # IMAP accounts per test session


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def missing_tools() -> str | None:
    """Why the servers cannot start here, or None."""
    if not Path(DOVECOT).exists():
        return "Dovecot is not installed (make mail-servers, or apt-get install dovecot-imapd)"
    if not shutil.which("openssl"):
        return "openssl is not installed"
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        return "aiosmtpd is not installed (pip install -e '.[dev]')"
    return None


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for localhost and 127.0.0.1, and a client context that trusts it."""

    cert: Path
    key: Path

    @classmethod
    def create(cls, folder: Path) -> Certificate:
        cert, key = folder / "cert.pem", folder / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )  # fmt: skip
        key.chmod(0o644)  # Dovecot's config process reads it after dropping privileges
        return cls(cert, key)

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self.cert), str(self.key))
        return context


@dataclass
class Mailbox:
    """One IMAP account on the Dovecot server."""

    host: str
    port: int
    user: str
    password: str
    ssl_context: ssl.SSLContext

    def connect(self) -> imaplib.IMAP4_SSL:
        """A logged-in IMAPS connection (the caller logs out)."""
        client = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=self.ssl_context, timeout=15)
        client.login(self.user, self.password)
        return client

    def deliver(self, raw: bytes, folder: str = "INBOX") -> int:
        """Put a message into the mailbox as a mail server would (IMAP APPEND); returns its UID."""
        client = self.connect()
        try:
            status, data = client.append(folder, None, None, raw)
            assert status == "OK", data
            found = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
            assert found, data
            return int(found.group(1))
        finally:
            client.logout()

    def messages(self, folder: str = "INBOX") -> list[bytes]:
        """Every message in the folder, in UID order, as raw bytes."""
        client = self.connect()
        try:
            client.select(folder, readonly=True)
            status, data = client.uid("SEARCH", "ALL")
            assert status == "OK", data
            raw: list[bytes] = []
            for uid in (data[0] or b"").split():  # bytes ids; imaplib sends them as they are
                status, parts = client.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
                assert status == "OK", parts
                first = parts[0]
                assert isinstance(first, tuple)
                raw.append(first[1])
            return raw
        finally:
            client.logout()


class Dovecot:
    """Debian's Dovecot on a free loopback port, serving IMAPS only."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.certificate = Certificate.create(root)
        self.passwd = root / "passwd"
        self._accounts = [(f"user{n:04d}", secrets.token_urlsafe(12)) for n in range(ACCOUNTS, 0, -1)]
        self.passwd.write_text(
            "".join(f"{user}:{{PLAIN}}{password}::::::\n" for user, password in self._accounts)
        )
        self.log = root / "dovecot.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        if os.geteuid() == 0:
            # Dovecot will not touch mail as root; its own users run its services.
            mail_user, internal_user, login_user = "nobody", "dovecot", "dovenull"
        else:
            mail_user = internal_user = login_user = pwd.getpwuid(os.geteuid()).pw_name
        entry = pwd.getpwnam(mail_user)
        self._uid, self._gid = entry.pw_uid, entry.pw_gid
        self.mail = root / "mail"
        self.mail.mkdir()
        os.chown(self.mail, self._uid, self._gid)
        (root / "run").mkdir()
        (root / "state").mkdir()
        self.config = root / "dovecot.conf"
        self.config.write_text(
            f"""# Written by tests/mail/servers.py for one test session.
base_dir = {root}/run
state_dir = {root}/state
instance_name = supportdesk-test-{self.port}
log_path = {self.log}
protocols = imap
listen = 127.0.0.1
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = {min(self._uid, 100)}
ssl = required
ssl_cert = <{self.certificate.cert}
ssl_key = <{self.certificate.key}
auth_mechanisms = plain login
disable_plaintext_auth = yes
mail_location = maildir:{self.mail}/%u
mailbox_idle_check_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd}
}}
userdb {{
  driver = static
  args = uid={self._uid} gid={self._gid} home={self.mail}/%u
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {self.port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""
        )

    def start(self) -> None:
        self._process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=(self.root / "dovecot.stderr").open("wb"),
            start_new_session=True,
        )
        try:
            wait_for_port(self.port)
        except OSError:
            self.stop()
            raise RuntimeError(f"Dovecot did not start: {self.log_text()}") from None

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def log_text(self) -> str:
        parts = [
            p.read_text(errors="replace") for p in (self.log, self.root / "dovecot.stderr") if p.exists()
        ]
        return "\n".join(parts)

    def add_mailbox(self) -> Mailbox:
        """A new, empty account. Dovecot re-reads its passwd-file at most once a second, so the accounts
        are written when the server starts and handed out one by one."""
        with self._lock:
            if not self._accounts:
                raise RuntimeError(f"all {ACCOUNTS} test accounts are taken")
            user, password = self._accounts.pop()
        return Mailbox("127.0.0.1", self.port, user, password, self.certificate.client_context())


@dataclass(frozen=True)
class ReceivedMessage:
    """What the sink accepted: the envelope and the message's bytes as sent."""

    mail_from: str
    recipients: tuple[str, ...]
    data: bytes
    login: str | None


@dataclass
class _SinkState:
    received: list[ReceivedMessage] = field(default_factory=list)
    refusal: str | None = None
    refused: int = 0
    arrived: threading.Condition = field(default_factory=threading.Condition)


class _Handler:
    def __init__(self, state: _SinkState) -> None:
        self.state = state

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        if self.state.refusal is not None:
            self.state.refused += 1
            return self.state.refusal
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data.login.decode() if session.auth_data else None
        message = ReceivedMessage(
            envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content), login
        )
        with self.state.arrived:
            self.state.received.append(message)
            self.state.arrived.notify_all()
        return "250 2.0.0 Message accepted for delivery"


class SmtpSink:
    """aiosmtpd on a free loopback port: STARTTLS, then AUTH (LOGIN or PLAIN) before any mail."""

    def __init__(self, certificate: Certificate, user: str = "desk", password: str | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.user = user
        self.password = password or secrets.token_urlsafe(12)
        self.certificate = certificate
        self.ssl_context = certificate.client_context()
        self._state = _SinkState()
        self._controller: Any = None

    @property
    def received(self) -> list[ReceivedMessage]:
        return list(self._state.received)

    @property
    def refused(self) -> int:
        """How many MAIL commands were refused since the last reset."""
        return self._state.refused

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        good = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.user.encode()
            and secrets.compare_digest(auth_data.password, self.password.encode())
        )
        # handled=False: aiosmtpd answers a refusal (535) itself
        return AuthResult(success=good, handled=False, auth_data=auth_data if good else None)

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(
            _Handler(self._state),
            hostname=self.host,
            port=self.port,
            server_hostname="localhost",
            tls_context=self.certificate.server_context(),
            require_starttls=True,
            auth_require_tls=True,
            auth_required=True,
            authenticator=self._authenticate,
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def reset(self) -> None:
        with self._state.arrived:
            self._state.received.clear()
        self._state.refusal = None
        self._state.refused = 0
        if self._controller is None:
            self.start()

    def refuse(self, reply: str = "451 4.3.0 Temporary failure, try again later") -> None:
        """Answer every MAIL FROM with this reply until `accept()`."""
        self._state.refusal = reply

    def accept(self) -> None:
        self._state.refusal = None

    @contextlib.contextmanager
    def refusing(self, reply: str = "451 4.3.0 Temporary failure, try again later") -> Iterator[None]:
        self.refuse(reply)
        try:
            yield
        finally:
            self.accept()

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        """The server is gone (connections refused) inside the block, back on the same port after."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def wait_for(self, count: int, seconds: float = 10) -> list[ReceivedMessage]:
        """Block until at least `count` messages have arrived; return them all."""
        deadline = time.monotonic() + seconds
        with self._state.arrived:
            while len(self._state.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(self._state.received)} of {count} messages arrived")
                self._state.arrived.wait(remaining)
            return list(self._state.received)


def session_folder() -> Path:
    """A folder Dovecot's unprivileged processes can enter (pytest's tmp folders are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="supportdesk-mail-"))
    folder.chmod(0o755)
    return folder
