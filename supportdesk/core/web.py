"""What every page shares: template helpers, security headers, id parsing and form errors."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from flask import Flask, Response, abort, current_app, request, url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from werkzeug.routing import IntegerConverter, Map
from wtforms.fields.choices import SelectChoice

from supportdesk.core.db import ID_MAX
from supportdesk.core.errors import DomainError, FieldError
from supportdesk.core.richtext import render_markdown


def relative_time(value: datetime | None, now: datetime | None = None) -> str:
    if value is None:
        return ""
    seconds = int(((now or datetime.now(UTC)) - value).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    for size, unit in (
        (86400 * 365, "year"),
        (86400 * 30, "month"),
        (86400, "day"),
        (3600, "hour"),
        (60, "minute"),
    ):
        if seconds >= size:
            count = seconds // size
            text = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {text}" if future else f"{text} ago"
    return "just now"


def time_tag(value: datetime | None) -> Markup:
    """A relative time with the exact UTC time on hover."""
    if value is None:
        return Markup("&mdash;")
    exact = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    # Only digits, letters and punctuation we produce ourselves: no escaping needed (this runs per row).
    return Markup(f'<time datetime="{value.isoformat()}" title="{exact}">{relative_time(value)}</time>')  # noqa: S704


def filesize(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def page_url_for(endpoint: str, **values: Any) -> str:
    """`url_for` for templates. A page's links are the same on every request under one mount point
    (assets, navigation, views): each is built once per process and mount point, instead of ~25 times a
    page view. Relative endpoints, `_anchor` / `_external` and unhashable values build as usual."""
    if endpoint.startswith(".") or any(name.startswith("_") for name in values):
        return url_for(endpoint, **values)
    remembered = current_app.extensions["supportdesk.page_urls"]
    try:
        return str(remembered(request.script_root, endpoint, tuple(sorted(values.items()))))
    except TypeError:  # a list of values for one argument
        return url_for(endpoint, **values)


def _build_url(_mount_point: str, endpoint: str, values: tuple[tuple[str, Any], ...]) -> str:
    return url_for(endpoint, **dict(values))


def csrf_field() -> Markup:
    """The hidden CSRF field every form posts (Flask-WTF checks it): the same token a form object would
    render, without building a form object on every page view just to print it."""
    return Markup(f'<input name="csrf_token" type="hidden" value="{escape(generate_csrf())}">')  # noqa: S704


def url_with(**changes: str | None) -> str:
    """The current page's URL with some query arguments replaced (None drops one); repeated arguments
    (two status filters) stay as they are."""
    args = request.args.copy()
    for key, value in changes.items():
        args.pop(key, None)
        if value is not None:
            args[key] = value
    path = quote(request.script_root + request.path)
    query = urlencode(list(args.items(multi=True)))
    return f"{path}?{query}" if query else path


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
    )
    response.headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config["SUPPORTDESK"].is_production:
        response.headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    return response


def _refuse_null_bytes() -> None:
    """No text the desk stores may hold NUL (PostgreSQL refuses it, and nothing legitimate sends it):
    refuse it at the door with a clear 400 instead of failing deep inside a query."""
    raw_json = request.get_data(cache=True) if request.is_json else b""
    if (
        b"%00" in request.query_string
        or any("\x00" in value for values in request.form.listvalues() for value in values)
        or b"\\u0000" in raw_json.lower()
        or b"\x00" in raw_json
    ):
        abort(400, description="Text may not contain null bytes.")


def init_app(app: Flask) -> None:
    app.url_map.converters["id"] = IdConverter
    app.before_request(_refuse_null_bytes)
    app.jinja_env.filters["time"] = time_tag
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["filesize"] = filesize
    app.jinja_env.globals["url_with"] = url_with
    app.jinja_env.globals["url_for"] = page_url_for
    # One memory of links per app (its own routes), bounded.
    app.extensions["supportdesk.page_urls"] = functools.lru_cache(maxsize=4096)(_build_url)
    app.jinja_env.globals["csrf_field"] = csrf_field
    app.after_request(_security_headers)


class IdConverter(IntegerConverter):
    """`<id:number>`: a positive id that fits an INTEGER column; anything else is a 404."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=ID_MAX)


def options(pairs: Iterable[tuple[object, str]]) -> list[SelectChoice]:
    """Select options from (value, label) pairs; None becomes the empty "no value" option."""
    return [SelectChoice("" if value is None else str(value), label) for value, label in pairs]


def safe_next(target: str | None, default: str, within: str = "/") -> str:
    """Where to go after a form: `target` when it is a plain path of this site under `within`, else
    `default`. No scheme or host, no `//` or backslash (browsers read both as another host), and no
    control character: a CR or LF cannot go in a header, and browsers drop tabs and newlines from URLs,
    so `/<tab>/evil.example` would become `//evil.example`."""
    if (
        target
        and target.startswith(within)
        and not target.startswith("//")
        and "\\" not in target
        and target.isprintable()
    ):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return default


def parse_id(text: str) -> int:
    """An id from a form or query string; ValueError when it is not one."""
    value = int(text)
    if not 1 <= value <= ID_MAX:
        raise ValueError(f"{text} is not an id")
    return value


def form_errors(form: Any, error: DomainError) -> None:
    """Show a service's refusal on the form: each field error beside its field, the rest on top."""
    fields = getattr(error, "errors", None) or [FieldError("", error.detail)]
    for field_error in fields:
        name = {"category_id": "category", "assignee_id": "assignee", "team_id": "team"}.get(
            field_error.field, field_error.field
        )
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, field_error.message]
        else:
            form.form_errors.append(
                f"{field_error.field}: {field_error.message}" if field_error.field else field_error.message
            )
