"""One JSON line per request (and per logged error), each carrying the request id that also goes back
to the client in `X-Request-ID`, so a user's report, nginx's log and the app's log meet on one key."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

import structlog
from flask import Flask, Response, g, request
from sqlalchemy import inspect

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's id is kept only when it is short and plain, so it cannot forge log lines or headers.
_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

log = structlog.get_logger("supportdesk")


def configure(json: bool) -> None:
    """Route structlog and the standard library (Flask, gunicorn, SQLAlchemy warnings) through one
    renderer: JSON lines in production, readable lines in development."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (a test's capture, a process manager's pipe),
    never to a stream that has since been closed."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def request_id() -> str:
    return str(g.get("request_id", ""))


def _signed_in_user_id() -> str | None:
    """The page user's id for the log line, without asking the database: after a failed write the user
    object is expired, and during an outage reading it again would turn a 503 into a 500."""
    user = g.get("_login_user")  # Flask-Login's user for this request, when it loaded one
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    identity = inspect(user, raiseerr=False)
    if identity is not None and identity.identity is not None:
        return str(identity.identity[0])
    return str(user.get_id()).split(".")[0]  # "id.session_epoch"


def init_app(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = given if _ACCEPTABLE_ID.fullmatch(given) else uuid.uuid4().hex
        g.request_started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = request_id()
        if request.endpoint in ("health.healthz", "health.readyz", "monitoring.scrape", "static"):
            return response  # probes and scrapes every few seconds would drown the log
        api_actor_id = g.get("api_actor_id")  # set by the API's bearer-token sign-in
        if api_actor_id is not None:
            user: str | None = str(api_actor_id)
        else:
            user = _signed_in_user_id()
        elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
        log.info(
            "request",
            method=request.method,
            path=request.path,
            endpoint=request.endpoint,
            status=response.status_code,
            duration_ms=round(elapsed * 1000, 1),
            user_id=user,
            remote_addr=request.remote_addr,
        )
        return response
