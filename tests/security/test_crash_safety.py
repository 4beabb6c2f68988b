"""Kill the production server mid-way through 200 concurrent ticket creations: every creation that was
answered 201 survives with its audit event and search text, and no ticket is half-written."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from supportdesk.accounts import tokens
from supportdesk.search.models import TicketSearchText
from supportdesk.tickets.models import EventKind, Ticket, TicketEvent
from tests.databases import redis_test_url
from tests.factories import make_requester

GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(database_url: str, port: int, instance: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SUPPORTDESK_ENV": "test",
        "SUPPORTDESK_INSTANCE": str(instance),
        "SECRET_KEY": "crash-test-secret-key-long-enough-for-it",
        # As production runs: the job queue in Redis (a SQLite queue file is for `make run`'s one process).
        "REDIS_URL": redis_test_url(14),
        "JOBS_BACKEND": "redis",
    }
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn from this venv
        [
            str(GUNICORN),
            "--workers",
            "3",
            "--threads",
            "4",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "supportdesk.app:create_app()",
        ],
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def kill_server(server: subprocess.Popen[bytes]) -> None:
    os.killpg(server.pid, signal.SIGKILL)  # master and workers, no chance to finish anything
    server.wait(timeout=10)


@pytest.mark.skipif(not GUNICORN.exists(), reason="gunicorn is not installed in this environment")
def test_killed_workers_lose_no_acknowledged_ticket_and_leave_none_half_written(
    clean_app, session, backend, database_url, tmp_path
):
    if backend != "postgresql":
        pytest.skip("the crash test runs on PostgreSQL, as production does")
    user = make_requester(session)
    _, secret = tokens.issue_token_for(session, user, "crash test")
    session.commit()
    url = database_url
    port = free_port()
    server = start_server(url, port, tmp_path)
    acknowledged: list[int] = []
    failures = 0

    def create(i: int) -> None:
        nonlocal failures
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/tickets",
            method="POST",
            data=json.dumps({"subject": f"Crash test {i}", "description": "x" * 500}).encode(),
            headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
                if response.status == 201:
                    acknowledged.append(json.loads(response.read())["number"])
        except (OSError, http.client.HTTPException):
            failures += 1

    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            futures = [pool.submit(create, i) for i in range(200)]
            while len(acknowledged) < 60:
                time.sleep(0.01)
            kill_server(server)
            for future in futures:
                future.result()
        server = start_server(url, port, tmp_path)
    finally:
        kill_server(server)

    assert 60 <= len(acknowledged) < 200 and failures > 0
    session.expire_all()
    stored = set(session.scalars(select(Ticket.number)))
    assert set(acknowledged) <= stored, "an acknowledged ticket was lost"
    created_events = dict(
        session.execute(
            select(TicketEvent.ticket_id, func.count())
            .where(TicketEvent.kind == EventKind.CREATED)
            .group_by(TicketEvent.ticket_id)
        ).all()
    )
    search_rows = set(session.scalars(select(TicketSearchText.ticket_id)))
    for ticket_id in session.scalars(select(Ticket.id)):
        assert created_events.get(ticket_id) == 1, f"ticket {ticket_id} has no single creation event"
        assert ticket_id in search_rows, f"ticket {ticket_id} has no search text"
