"""`make bench-mail` (also run by `make bench`): how fast the fetcher turns mail in a real IMAP mailbox
into tickets, end to end: Debian's Dovecot over IMAPS on loopback (as the suite starts it), the
messages of tests/mail/corpus sent from 50 requesters with Message-IDs of their own, and
`inbound.polling.poll_mailbox` reading, parsing, importing (ticket, files, search index, the
acknowledgement in the outbox), committing and moving each message, on PostgreSQL (when it answers)
and SQLite. Issue 16's budget: at least 50 messages a second. Writes
bench/results/<date>-mail-fetching.md; the exit status says whether the budget held everywhere."""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade

from bench.procstat import read_schedstat
from supportdesk.accounts.models import Role, User
from supportdesk.app import create_app
from supportdesk.core.config import Config
from supportdesk.core.db import db
from supportdesk.inbound import mailboxes, polling
from supportdesk.inbound.models import Outcome
from tests.databases import postgres_admin_url, postgres_reachable, throwaway_postgres_database
from tests.mail.servers import Dovecot, Mailbox, missing_tools, session_folder

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted((ROOT / "tests" / "mail" / "corpus").glob("*.eml"))
MESSAGES = 500
SENDERS = 50
BUDGET_PER_SECOND = 50
UNUSABLE = "!"  # nobody signs in during the bench
_FROM = re.compile(rb"^From:.*(?:\r?\n[ \t].*)*", re.IGNORECASE | re.MULTILINE)
_MESSAGE_ID = re.compile(rb"^Message-ID:.*(?:\r?\n[ \t].*)*\r?\n", re.IGNORECASE | re.MULTILINE)


def messages() -> list[bytes]:
    """MESSAGES messages: the corpus round and round, each from one of the requesters, each its own."""
    corpus = [path.read_bytes().replace(b"\r\n", b"\n") for path in CORPUS]
    made = []
    for n in range(MESSAGES):
        raw = corpus[n % len(corpus)]
        head, _, body = raw.partition(b"\n\n")
        head = _MESSAGE_ID.sub(b"", head + b"\n").rstrip(b"\n")
        sender = f"From: Requester {n % SENDERS} <requester{n % SENDERS}@bench.example>".encode()
        head = _FROM.sub(sender.replace(b"\\", b"\\\\"), head, count=1)
        head += f"\nMessage-ID: <bench-{n}@bench.example>".encode()
        made.append((head + b"\n\n" + body).replace(b"\n", b"\r\n"))
    return made


def fill(account: Mailbox, raw_messages: list[bytes]) -> None:
    client = account.connect()
    try:
        for raw in raw_messages:
            status, data = client.append("INBOX", None, None, raw)
            if status != "OK":
                raise RuntimeError(f"APPEND refused: {data}")
    finally:
        client.logout()


def app_for(url: str, instance: Path, dovecot: Dovecot) -> Flask:
    base = Config.from_env(
        {
            "SUPPORTDESK_ENV": "production" if url.startswith("postgresql") else "development",
            "SUPPORTDESK_INSTANCE": str(instance),
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-secret-key-that-is-long-enough-for-anything",
            "JOBS_BACKEND": "memory",
            "LOG_FORMAT": "json",
        }
    )
    app = create_app(Config(**{**base.__dict__, "imap_ca_file": str(dovecot.certificate.cert)}))
    with app.app_context():
        upgrade()
    return app


@dataclass(frozen=True)
class Measured:
    wall: float  # seconds to empty the mailbox
    cpu: float  # CPU seconds the desk spent on it: the fetcher's process and its database backends
    database_cpu: float


def measure(app: Flask, account: Mailbox) -> tuple[Measured, Counter[str]]:
    """What emptying the mailbox cost, and what the messages became."""
    with app.app_context():
        with db.transaction() as session:
            admin = User(
                email="admin@bench.example", full_name="Admin", role=Role.ADMIN, password_hash=UNUSABLE
            )
            session.add(admin)
            session.add_all(
                User(email=f"requester{n}@bench.example", full_name=f"Requester {n}", password_hash=UNUSABLE)
                for n in range(SENDERS)
            )
            session.flush()
            mailbox = mailboxes.create_mailbox(
                session,
                admin,
                mailboxes.MailboxFields(
                    name="Bench",
                    address="support@bench.example",
                    host=account.host,
                    port=account.port,
                    security="tls",
                    username=account.user,
                    password=account.password,
                    per_sender_per_hour=10_000,
                ),
            )
        outcomes: Counter[str] = Counter()
        backends = _backends(app)
        before = {pid: read_schedstat(pid) or 0 for pid in backends}
        started, cpu_started = time.perf_counter(), time.process_time()
        while True:
            result = polling.poll_mailbox(mailbox.id)
            if result.error:
                raise RuntimeError(result.error)
            outcomes.update(o.value for o in result.outcomes)
            outcomes["duplicate"] += result.duplicates
            if not result.outcomes and not result.duplicates:
                break
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        database_cpu = sum((read_schedstat(pid) or before[pid]) - before[pid] for pid in backends) / 1e9
        return Measured(wall, cpu + database_cpu, database_cpu), outcomes


def _backends(app: Flask) -> list[int]:
    """The PostgreSQL backends serving the fetcher (its pool's connections, opened by the set-up)."""
    engine = app.extensions["supportdesk.engine"]
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        ).all()
    return [int(row[0]) for row in rows]


@contextmanager
def databases(folder: Path) -> Iterator[list[tuple[str, str]]]:
    found = []
    admin = postgres_admin_url()
    if postgres_reachable(admin):
        with throwaway_postgres_database(admin) as url:
            found.append(("PostgreSQL", url))
            found.append(("SQLite", f"sqlite:///{folder / 'bench.db'}"))
            yield found
            return
    found.append(("SQLite", f"sqlite:///{folder / 'bench.db'}"))
    yield found


def main() -> int:
    reason = missing_tools()
    if reason:
        print(f"mail fetching bench skipped: {reason}")
        return 1
    folder = session_folder()
    dovecot = Dovecot(folder)
    dovecot.start()
    raw_messages = messages()
    rows, met_everywhere = [], True
    try:
        with databases(folder) as found:
            for name, url in found:
                account = dovecot.add_mailbox()
                fill(account, raw_messages)
                instance = Path(tempfile.mkdtemp(prefix="bench-instance-", dir=folder))
                measured, outcomes = measure(app_for(url, instance, dovecot), account)
                per_cpu_second = MESSAGES / measured.cpu
                met = per_cpu_second >= BUDGET_PER_SECOND
                met_everywhere &= met
                mix = ", ".join(f"{count} {what}" for what, count in sorted(outcomes.items()) if count)
                rows.append(
                    f"| {name} | {per_cpu_second:,.0f} | {1000 * measured.cpu / MESSAGES:.1f} "
                    f"({1000 * measured.database_cpu / MESSAGES:.1f} in the database) | "
                    f"{MESSAGES / measured.wall:,.0f} | {mix} | "
                    f"{'met' if met else 'MISSED'} (>= {BUDGET_PER_SECOND}/s a core) |"
                )
                left = account.messages()
                if left or sum(outcomes.values()) != MESSAGES or outcomes[Outcome.QUARANTINED.value]:
                    raise RuntimeError(f"{name}: {len(left)} left, outcomes {dict(outcomes)}")
    finally:
        dovecot.stop()
        shutil.rmtree(folder, ignore_errors=True)
    lines = [
        f"# Mail fetching, {date.today().isoformat()}",
        "",
        f"{MESSAGES} messages (the {len(CORPUS)} of the corpus, round and round, from {SENDERS} requesters) "
        "in one IMAPS mailbox on Dovecot; one fetcher process polling until the folder is empty.",
        "",
        "Judged on CPU: messages per second of one core's time spent by the desk (the fetcher's "
        "process and its PostgreSQL backends; Dovecot's own time is the mail server's). The wall-clock "
        "rate is what this run saw on a machine other work shares.",
        "",
        "| database | messages/s a core | CPU ms per message | messages/s (wall) | what they became | "
        "budget |",
        "|---|---|---|---|---|---|",
        *rows,
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    out = ROOT / "bench" / "results" / f"{date.today().isoformat()}-mail-fetching.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(report)
    return 0 if met_everywhere else 1


if __name__ == "__main__":
    sys.exit(main())
