"""The background worker closes tickets resolved long ago, one worker per round."""

import dataclasses
import threading
from datetime import timedelta

import pytest
import redis

from supportdesk import worker
from supportdesk.core import clock
from supportdesk.tickets import service
from supportdesk.tickets.lifecycle import Status
from tests.databases import redis_test_url
from tests.factories import make_requester, make_technician, make_ticket


def resolved_long_ago(session, days=30):
    tech = make_technician(session)
    ticket = make_ticket(session, make_requester(session))
    with clock.frozen_at(clock.now() - timedelta(days=days)):
        service.transition(session, tech, ticket.number, Status.RESOLVED)
        session.commit()
    return ticket.number


def test_a_round_closes_tickets_resolved_before_the_auto_close_window(clean_app, session):
    old = resolved_long_ago(session, days=30)
    recent = resolved_long_ago(session, days=1)
    assert worker.run_round(clean_app) == 1
    session.expire_all()
    statuses = {n: service.get_ticket(session, make_technician(session), n).status for n in (old, recent)}
    assert statuses == {old: Status.CLOSED, recent: Status.RESOLVED}


def test_the_command_runs_one_round(clean_app, session):
    resolved_long_ago(session)
    result = clean_app.test_cli_runner().invoke(args=["run-worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "Closed 1 ticket(s)." in result.output


@pytest.fixture
def redis_app(clean_app):
    url = redis_test_url(15)
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError:
        pytest.skip("Redis does not answer (TEST_REDIS_URL)")
    settings = clean_app.config["SUPPORTDESK"]
    clean_app.config["SUPPORTDESK"] = dataclasses.replace(settings, redis_url=url)
    yield clean_app
    clean_app.config["SUPPORTDESK"] = settings
    redis.Redis.from_url(url).delete(worker.LOCK_NAME)


def test_only_one_worker_runs_a_round_at_a_time(redis_app, session):
    resolved_long_ago(session)
    held = redis.Redis.from_url(redis_app.config["SUPPORTDESK"].redis_url).lock(worker.LOCK_NAME, timeout=30)
    assert held.acquire(blocking=False)
    assert worker.run_round(redis_app) is None  # another worker has it
    held.release()
    assert worker.run_round(redis_app) == 1


def test_the_loop_survives_a_failing_round_and_stops_when_asked(clean_app, monkeypatch):
    calls = []
    stop = threading.Event()

    def failing_round(_app):
        calls.append(1)
        if len(calls) == 2:
            stop.set()
        raise RuntimeError("database restarting")

    monkeypatch.setattr(worker, "run_round", failing_round)
    settings = clean_app.config["SUPPORTDESK"]
    clean_app.config["SUPPORTDESK"] = dataclasses.replace(settings, worker_interval_seconds=1)
    try:
        thread = threading.Thread(target=worker.run_forever, args=(clean_app, stop))
        thread.start()
        thread.join(timeout=10)
    finally:
        clean_app.config["SUPPORTDESK"] = settings
    assert not thread.is_alive() and len(calls) == 2
