"""Domain errors, and the one place they are mapped to HTTP answers for pages and for the API."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, g, jsonify, make_response, render_template, request
from flask_login import AnonymousUserMixin
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    status: int = HTTPStatus.BAD_REQUEST
    title: str = "Bad request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    status = HTTPStatus.NOT_FOUND
    title = "Not found"


class PermissionDenied(DomainError):
    status = HTTPStatus.FORBIDDEN
    title = "Forbidden"

    def __init__(self, detail: str, fields: tuple[str, ...] = ()) -> None:
        super().__init__(detail)
        self.fields = fields


class Conflict(DomainError):
    """The caller acted on a stale version of the object."""

    status = HTTPStatus.CONFLICT
    title = "Conflict"

    def __init__(self, detail: str, current_version: int | None = None) -> None:
        super().__init__(detail)
        self.current_version = current_version


class InvalidTransition(DomainError):
    status = HTTPStatus.CONFLICT
    title = "Transition not allowed"


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class ValidationError(DomainError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    title = "Invalid input"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors

    @classmethod
    def single(cls, field: str, message: str) -> ValidationError:
        return cls([FieldError(field, message)])

    def for_field(self, field: str) -> list[str]:
        return [e.message for e in self.errors if e.field == field]


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def problem(status: int, title: str, detail: str, **extra: Any) -> tuple[Response, int]:
    """An RFC 9457 problem document."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.mimetype = "application/problem+json"
    return response, status


def _render_error(status: int, title: str, detail: str) -> tuple[Response | str, int]:
    if is_api_request():
        return problem(status, title, detail)
    try:
        return render_template("errors/error.html", status=status, title=title, detail=detail), status
    except OperationalError:
        # The layout asks who is signed in; when the database went away before anything else asked
        # (a dead link is refused before the page reads the user), the outage is the answer to give.
        return _database_down_page()


# How long a client should wait before trying again while the database is away: long enough not to
# hammer it while it restarts, short enough that a person retrying by hand finds it back.
RETRY_AFTER_SECONDS = 5


def unavailable(response: Response | str) -> Response:
    """A 503's response, saying when to try again (`Retry-After`)."""
    answer = response if isinstance(response, Response) else make_response(response)
    answer.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return answer


def _database_down_page() -> tuple[Response, int]:
    # The page layout asks who is signed in; without a database it must not ask it again.
    g._login_user = AnonymousUserMixin()
    status = HTTPStatus.SERVICE_UNAVAILABLE
    detail = "The database is not answering. Please try again in a moment."
    if is_api_request():
        response, _ = problem(status, "Service unavailable", detail)
    else:
        response = make_response(
            render_template("errors/error.html", status=status, title="Service unavailable", detail=detail)
        )
    return unavailable(response), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(error: DomainError) -> tuple[Response | str, int]:
        if is_api_request() and isinstance(error, ValidationError):
            errors = [{"field": e.field, "message": e.message} for e in error.errors]
            return problem(error.status, error.title, error.detail, errors=errors)
        if is_api_request() and isinstance(error, PermissionDenied) and error.fields:
            return problem(error.status, error.title, error.detail, fields=list(error.fields))
        return _render_error(error.status, error.title, error.detail)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[Response | str, int] | HTTPException:
        if error.code is None or error.code < 400:
            return error
        return _render_error(error.code, error.name, error.description or error.name)

    @app.errorhandler(OperationalError)
    def _database_down(_error: OperationalError) -> tuple[Response, int]:
        app.logger.warning("database unavailable", exc_info=True)
        return _database_down_page()

    @app.errorhandler(Exception)
    def _unexpected(_error: Exception) -> tuple[Response | str, int]:
        app.logger.exception("unhandled error")
        return _render_error(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "An unexpected error occurred. It has been logged.",
        )
