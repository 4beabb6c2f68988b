"""The background worker (`flask run-worker`): periodic desk jobs, today closing tickets resolved
longer ago than AUTO_CLOSE_DAYS. Several workers may run (one per VM); a Redis lock lets only one of
them do a round at a time, and without Redis (the embedded mode) the job is safe to repeat anyway."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import FrameType

import redis
import structlog
from flask import Flask

from supportdesk.core.clock import now
from supportdesk.core.db import db
from supportdesk.sla import recompute
from supportdesk.sla import service as service_levels
from supportdesk.tickets import service as tickets

log = structlog.get_logger("supportdesk.worker")
LOCK_NAME = "supportdesk:worker:round"


def run_round(app: Flask) -> int | None:
    """One round of jobs; the number of tickets closed, or None when another worker holds the round."""
    settings = app.config["SUPPORTDESK"]
    with app.app_context(), _exclusive(settings.redis_url, settings.worker_interval_seconds) as mine:
        if not mine:
            return None
        closed = close_resolved(settings.auto_close_days)
        recomputed = recompute_due_times()
        breached = mark_breaches()
    log.info(
        "worker round", closed_resolved=closed, recomputed_due_times=recomputed, marked_breached=breached
    )
    return closed


def close_resolved(auto_close_days: int, batch: int = 500) -> int:
    """Close tickets resolved more than `auto_close_days` ago (in an app context), a batch per unit of
    work; how many closed."""
    closed = 0
    while True:
        with db.transaction() as session:
            done = tickets.close_resolved_tickets(session, now(), timedelta(days=auto_close_days), batch)
        closed += done
        if done < batch:
            return closed


def recompute_due_times(batch: int = 500) -> int:
    """After admins changed calendars or policies: the open tickets' due times again, a batch per unit
    of work (an interrupted pass resumes at the next round)."""
    recomputed = 0
    while True:
        with db.transaction() as session:
            done = recompute.recompute_batch(session, now(), batch)
        if done is None:
            return recomputed
        recomputed += done


def mark_breaches(batch: int = 500) -> int:
    """Flag the tickets whose service-level target time alone has passed, a batch per unit of work."""
    marked = 0
    while True:
        with db.transaction() as session:
            done = service_levels.mark_breaches(session, now(), batch)
        marked += done
        if done < batch:
            return marked


def run_forever(app: Flask, stop: threading.Event | None = None) -> None:
    stop = stop or _stop_on_signals()
    interval = app.config["SUPPORTDESK"].worker_interval_seconds
    log.info("worker started", interval_seconds=interval)
    while not stop.is_set():
        try:
            run_round(app)
        except Exception:  # a failed round (database restarting, say) must not end the worker
            log.exception("worker round failed")
        stop.wait(interval)
    log.info("worker stopped")


@contextmanager
def _exclusive(redis_url: str | None, seconds: int) -> Iterator[bool]:
    if not redis_url:
        yield True
        return
    lock = redis.Redis.from_url(redis_url).lock(LOCK_NAME, timeout=max(seconds, 60), blocking=False)
    acquired = bool(lock.acquire())
    try:
        yield acquired
    finally:
        if acquired:
            lock.release()


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop
