"""Background jobs run on Huey: retried with growing delays, kept for an admin when they keep failing,
and the desk's periodic jobs (closing resolved tickets, delivering the outbox) on its scheduler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from supportdesk.core import clock
from supportdesk.jobs import engine
from supportdesk.jobs.models import FailedJob
from supportdesk.tickets import service
from supportdesk.tickets.lifecycle import Status
from tests.conftest import form_token, login, page_text
from tests.factories import make_admin, make_requester, make_technician, make_ticket

attempts: list[int] = []


@engine.job(retries=2, retry_delay=10, retry_backoff=2)
def directory_sync(department: str) -> None:
    """A job whose server is down until the test says otherwise."""
    attempts.append(1)
    if not directory_sync_works:
        raise RuntimeError(f"the directory server is down ({department})")


directory_sync_works = False


def naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def test_a_failing_job_is_retried_with_growing_delays_then_kept_for_an_admin_to_retry(
    clean_app, session, client
):
    global directory_sync_works
    attempts.clear()
    directory_sync_works = False
    directory_sync("Finance")
    start = clock.now()
    engine.run_queued(clean_app)
    assert len(attempts) == 1
    [retry] = engine.huey.scheduled()
    assert timedelta(seconds=9) < retry.eta - naive_utc(start) <= timedelta(seconds=11)
    engine.run_queued(clean_app, until=start + timedelta(seconds=11))
    [retry] = engine.huey.scheduled()
    assert timedelta(seconds=19) < retry.eta - naive_utc(clock.now()) <= timedelta(seconds=20)
    assert session.scalars(select(FailedJob)).all() == []  # not given up on yet
    engine.run_queued(clean_app, until=start + timedelta(minutes=5))
    assert len(attempts) == 3 and engine.huey.scheduled() == []
    [failed] = session.scalars(select(FailedJob)).all()
    assert failed.task_name.endswith("directory_sync") and "directory server is down" in failed.error
    assert failed.attempts == 3 and failed.status == "failed"

    admin = make_admin(session)
    login(client, admin.email)
    page = page_text(client.get("/admin/jobs"))
    assert "directory_sync" in page and "the directory server is down (Finance)" in page

    directory_sync_works = True
    response = client.post(f"/admin/jobs/failed/{failed.id}/retry", data=form_token(client, "/admin/jobs"))
    assert response.status_code == 302
    engine.run_queued(clean_app)
    assert len(attempts) == 4
    session.expire_all()
    assert session.get(FailedJob, failed.id).status == "retried"
    page = page_text(client.get("/admin/jobs"))
    assert "directory_sync queued again" in page and "No failed jobs." in page


def test_an_admin_dismisses_a_failed_job(clean_app, session, client):
    global directory_sync_works
    directory_sync_works = False
    directory_sync("HR")
    engine.run_queued(clean_app, until=clock.now() + timedelta(hours=1))
    [failed] = session.scalars(select(FailedJob)).all()
    login(client, make_admin(session).email)
    client.post(f"/admin/jobs/failed/{failed.id}/dismiss", data=form_token(client, "/admin/jobs"))
    session.expire_all()
    assert session.get(FailedJob, failed.id).status == "dismissed"
    engine.run_queued(clean_app, until=clock.now() + timedelta(hours=1))
    assert engine.huey.pending_count() == 0


def test_a_technician_cannot_see_or_retry_jobs(clean_app, session, client):
    login(client, make_technician(session).email)
    assert client.get("/admin/jobs").status_code == 404


def resolved_long_ago(session, days=30):
    tech = make_technician(session)
    ticket = make_ticket(session, make_requester(session))
    with clock.frozen_at(clock.now() - timedelta(days=days)):
        service.transition(session, tech, ticket.number, Status.RESOLVED)
        session.commit()
    return ticket.number


def test_the_scheduler_closes_tickets_resolved_before_the_auto_close_window(clean_app, session):
    assert {
        "close_resolved_tickets",
        "deliver_outbox_sweep",
        "recompute_due_times",
        "mark_breaches",
    } <= engine.periodic_job_names()
    old = resolved_long_ago(session, days=30)
    recent = resolved_long_ago(session, days=1)
    engine.run_periodic(clean_app)
    session.expire_all()
    tech = make_technician(session)
    statuses = {n: service.get_ticket(session, tech, n).status for n in (old, recent)}
    assert statuses == {old: Status.CLOSED, recent: Status.RESOLVED}


def test_the_worker_command_runs_each_periodic_job_once(clean_app, session):
    resolved_long_ago(session)
    result = clean_app.test_cli_runner().invoke(args=["run-worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "close_resolved_tickets" in result.output
    session.expire_all()
    assert session.scalars(select(FailedJob)).all() == []
