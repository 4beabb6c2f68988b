"""Failed jobs: recorded by the engine, retried or dismissed by an admin."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from supportdesk.accounts.models import User
from supportdesk.accounts.policy import require_desk_manager
from supportdesk.core.clock import now
from supportdesk.core.db import after_commit, db, get_by_id
from supportdesk.core.errors import Conflict, NotFound
from supportdesk.jobs import engine
from supportdesk.jobs.models import FailedJob, FailedJobStatus

LISTED = 200


def record_failure(task_name: str, arguments: str, error: str, details: str, attempts: int) -> None:
    """Keep a job that used every retry (in an app context; its own unit of work)."""
    with db.transaction() as session:
        session.add(
            FailedJob(
                task_name=task_name[:200],
                arguments=arguments,
                error=error[:2000] or "(no message)",
                details=details[:20_000],
                attempts=attempts,
            )
        )


def list_failed_jobs(session: Session, actor: User) -> list[FailedJob]:
    require_desk_manager(actor)
    query = (
        select(FailedJob)
        .where(FailedJob.status == FailedJobStatus.FAILED)
        .order_by(FailedJob.failed_at.desc(), FailedJob.id.desc())
        .limit(LISTED)
    )
    return list(session.scalars(query))


def _open_failure(session: Session, actor: User, job_id: int) -> FailedJob:
    require_desk_manager(actor)
    failed = get_by_id(session, FailedJob, job_id)
    if failed is None:
        raise NotFound("No such failed job.")
    if failed.status != FailedJobStatus.FAILED:
        raise Conflict(f"This job was already {failed.status.value}.")
    return failed


def retry_failed_job(session: Session, actor: User, job_id: int) -> FailedJob:
    """Run the job again with its recorded arguments, once this unit of work commits."""
    failed = _open_failure(session, actor, job_id)
    failed.status = FailedJobStatus.RETRIED
    failed.handled_at = now()
    failed.handled_by_id = actor.id
    session.flush()
    name, arguments = failed.task_name, failed.arguments
    after_commit(session, lambda: engine.enqueue_by_name(name, arguments))
    return failed


def dismiss_failed_job(session: Session, actor: User, job_id: int) -> FailedJob:
    failed = _open_failure(session, actor, job_id)
    failed.status = FailedJobStatus.DISMISSED
    failed.handled_at = now()
    failed.handled_by_id = actor.id
    session.flush()
    return failed
