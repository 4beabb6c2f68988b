"""The job engine: one Huey instance whose storage the settings choose (Redis in production, a SQLite
file for `make run`, memory in tests), jobs that run in an app context of their own, and a record of
every job that failed for good, for an admin to see and retry (`jobs/models.py`, `/admin/jobs`)."""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import structlog
from flask import Flask, current_app, has_app_context
from huey import Huey, signals
from huey.api import Task
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from supportdesk.core.config import Config

log = structlog.get_logger("supportdesk.jobs")
P = ParamSpec("P")
R = TypeVar("R")

# Tasks are registered on this instance when their modules are imported; `configure` gives it the
# storage the settings ask for before anything is enqueued.
huey = Huey("supportdesk", storage_class=MemoryStorage, results=False, utc=True)
_bound: dict[str, Flask] = {}


def configure(app: Flask) -> None:
    """Point the engine at the app's job storage, and remember the app for jobs run by a consumer."""
    config: Config = app.config["SUPPORTDESK"]
    huey.storage = _storage(config)
    _bound["app"] = app


def _storage(config: Config) -> Any:
    if config.jobs_backend == "redis":
        return RedisStorage("supportdesk", url=config.redis_url)
    if config.jobs_backend == "sqlite":
        config.instance_path.mkdir(parents=True, exist_ok=True)
        return SqliteStorage("supportdesk", filename=str(config.instance_path / "jobs.sqlite3"))
    return MemoryStorage("supportdesk")


def _app() -> Flask:
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]
    return _bound["app"]


def _in_app_context(function: Callable[P, R]) -> Callable[P, R]:
    """Run the job in a fresh app context (its own database session and `g`), even when it was started
    from inside another one: a job must never share the session of the request that enqueued it."""

    @wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with _app().app_context():
            return function(*args, **kwargs)

    return run


def job(
    *, retries: int = 5, retry_delay: int = 30, retry_backoff: float = 2
) -> Callable[[Callable[P, R]], Any]:
    """A background job: calling it enqueues it. A failure is retried `retries` times, the delays
    growing by `retry_backoff` each time (30 s, 60 s, 2 min, ... by default); the last failure is
    recorded for the admins. Arguments must be JSON values, so an admin's retry can replay them."""

    def register(function: Callable[P, R]) -> Any:
        return huey.task(retries=retries, retry_delay=retry_delay, retry_backoff=retry_backoff)(
            _in_app_context(function)
        )

    return register


def periodic_job(schedule: Callable[[datetime], bool]) -> Callable[[Callable[[], R]], Any]:
    """A job the scheduler enqueues on `schedule` (a huey `crontab`). Not retried: the next run is the
    retry. Every worker's scheduler may enqueue it, so it must be safe to run twice at once."""

    def register(function: Callable[[], R]) -> Any:
        return huey.periodic_task(schedule)(_in_app_context(function))

    return register


def periodic_job_names() -> set[str]:
    return {task.name for task in huey._registry.periodic_tasks}


def task_name(task: Task) -> str:
    return huey._registry.task_to_string(type(task))  # type: ignore[no-any-return]


def enqueue_by_name(name: str, arguments: str) -> None:
    """Enqueue the registered job `name` again with its recorded (JSON) arguments."""
    task_class = huey._registry.string_to_task(name)
    values = json.loads(arguments)
    huey.enqueue(task_class(args=tuple(values["args"]), kwargs=values["kwargs"]))


@huey.signal(signals.SIGNAL_ERROR)
def _record_final_failure(signal: str, task: Task, exc: BaseException | None = None) -> None:  # noqa: ARG001
    if task.retries:  # Huey retries it: not given up on yet
        return
    from supportdesk.jobs import service  # the record is a row in the desk's database

    attempts = (getattr(type(task), "default_retries", 0) or 0) + 1
    arguments = json.dumps({"args": list(task.args or ()), "kwargs": task.kwargs or {}}, default=str)
    details = "".join(traceback.format_exception(exc)) if exc is not None else ""
    try:
        with _app().app_context():
            service.record_failure(task_name(task), arguments, str(exc), details, attempts)
    except Exception:  # the record is best effort; the consumer's own log has the failure either way
        log.exception("could not record a failed job", task=task_name(task))


def run_queued(app: Flask, until: datetime | None = None, limit: int = 10_000) -> int:
    """Run what is queued, and what is scheduled up to `until` (default now), in this process until
    nothing is left; how many ran. For tests and `flask run-worker --once`; workers use a consumer."""
    moment = (until or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    ran = 0
    with app.app_context():
        while ran < limit:
            task = huey.dequeue()
            if task is None:
                due = huey.read_schedule(moment)
                if not due:
                    return ran
                for scheduled in due:
                    huey.enqueue(scheduled)
                continue
            huey.execute(task, moment)
            ran += 1
    return ran


def run_periodic(app: Flask) -> list[str]:
    """Run every periodic job once, now, in this process; their names."""
    names = []
    with app.app_context():
        for task in huey._registry.periodic_tasks:
            huey.execute(task)
            names.append(task.name)
    return names


def run_consumer(app: Flask) -> None:
    """The worker: WORKER_THREADS threads running queued jobs, and the scheduler enqueueing periodic
    ones. Each worker process runs a scheduler; the periodic jobs are safe to run twice at once."""
    config: Config = app.config["SUPPORTDESK"]
    consumer = huey.create_consumer(workers=config.worker_threads, worker_type="thread", periodic=True)
    log.info("worker started", backend=config.jobs_backend, threads=config.worker_threads)
    consumer.run()
