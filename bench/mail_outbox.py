"""`make bench-mail` (also run by `make bench`): how fast the outbox delivers, end to end: MESSAGES
notifications written to the outbox as the desk writes them (`notifications.outbox.queue_message`, text
and HTML, threaded), then `notifications.delivery.deliver_due` claiming and sending them over SMTP with
STARTTLS and authentication to the suite's aiosmtpd sink on loopback, on PostgreSQL (when it answers)
and SQLite. Issue 16's budget: at least 200 messages a second. Judged on the delivering thread's CPU
(and its database backends'), the wall-clock rate beside it. Writes bench/results/<date>-mail-outbox.md;
the exit status says whether the budget held everywhere."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade

from bench.mail_fetching import _backends, databases
from bench.procstat import read_schedstat
from supportdesk.app import create_app
from supportdesk.core.config import Config
from supportdesk.core.db import db
from supportdesk.mail.addresses import Address
from supportdesk.notifications import delivery, outbox
from tests.mail.servers import Certificate, SmtpSink, session_folder

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = 2000
BUDGET_PER_SECOND = 200
TEXT = "Hello Erin,\n\nSam Okafor replied on your ticket:\n\n" + "The VPN profile is renewed. " * 20
HTML = (
    "<p>Hello Erin,</p><p>Sam Okafor replied on your ticket:</p>" + "<p>The VPN profile is renewed.</p>" * 20
)


@dataclass(frozen=True)
class Measured:
    wall: float
    cpu: float  # the delivering thread's CPU and its database backends'
    database_cpu: float
    sent: int


def app_for(url: str, instance: Path, sink: SmtpSink) -> Flask:
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
    settings = {
        "smtp_host": sink.host,
        "smtp_port": sink.port,
        "smtp_security": "starttls",
        "smtp_username": sink.user,
        "smtp_password": sink.password,
        "smtp_ca_file": str(sink.certificate.cert),
    }
    app = create_app(Config(**{**base.__dict__, **settings}))
    with app.app_context():
        upgrade()
    return app


def fill(app: Flask) -> None:
    with app.app_context(), db.transaction() as session:
        for n in range(MESSAGES):
            outbox.queue_message(
                session,
                kind="reply",
                to=[Address(f"requester{n % 50}@bench.example", f"Requester {n % 50}")],
                subject=f"[#{1001 + n}] Re: VPN drops every hour",
                text=TEXT,
                html=HTML,
                identity={"ticket": 1001 + n, "comment": n},
            )


def measure(app: Flask) -> Measured:
    with app.app_context():
        backends = _backends(app)
        before = {pid: read_schedstat(pid) or 0 for pid in backends}
        started, cpu_started = time.perf_counter(), time.thread_time()
        sent = 0
        while True:
            report = delivery.deliver_due()
            sent += report.sent
            if report.sent == 0:
                break
        wall, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
        database_cpu = sum((read_schedstat(pid) or before[pid]) - before[pid] for pid in backends) / 1e9
        return Measured(wall, cpu + database_cpu, database_cpu, sent)


def main() -> int:
    folder = session_folder()
    sink = SmtpSink(Certificate.create(folder))
    sink.start()
    rows, met_everywhere = [], True
    try:
        with databases(folder) as found:
            for name, url in found:
                sink.reset()
                instance = Path(tempfile.mkdtemp(prefix="bench-instance-", dir=folder))
                app = app_for(url, instance, sink)
                fill(app)
                measured = measure(app)
                arrived = len(sink.wait_for(MESSAGES, seconds=30))
                if measured.sent != MESSAGES or arrived != MESSAGES:
                    raise RuntimeError(f"{name}: {measured.sent} sent, {arrived} arrived of {MESSAGES}")
                per_cpu_second = MESSAGES / measured.cpu
                met = per_cpu_second >= BUDGET_PER_SECOND
                met_everywhere &= met
                rows.append(
                    f"| {name} | {per_cpu_second:,.0f} | {1000 * measured.cpu / MESSAGES:.2f} "
                    f"({1000 * measured.database_cpu / MESSAGES:.2f} in the database) | "
                    f"{MESSAGES / measured.wall:,.0f} | {'met' if met else 'MISSED'} "
                    f"(>= {BUDGET_PER_SECOND}/s a core) |"
                )
    finally:
        sink.stop()
        shutil.rmtree(folder, ignore_errors=True)
    lines = [
        f"# Outbox delivery, {date.today().isoformat()}",
        "",
        f"{MESSAGES} notifications (text and HTML, threaded) written to the outbox, then delivered by "
        "`deliver_due` over SMTP with STARTTLS and AUTH to aiosmtpd on loopback; every one arrived once.",
        "",
        "Judged on CPU: messages per second of one core's time spent by the desk (the delivering "
        "thread and its PostgreSQL backends; the sink's thread is the mail server's). The wall-clock "
        "rate is what this run saw on a machine other work shares.",
        "",
        "| database | messages/s a core | CPU ms per message | messages/s (wall) | budget |",
        "|---|---|---|---|---|",
        *rows,
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    out = ROOT / "bench" / "results" / f"{date.today().isoformat()}-mail-outbox.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(report)
    return 0 if met_everywhere else 1


if __name__ == "__main__":
    sys.exit(main())
