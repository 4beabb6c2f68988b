"""A form the CSRF check refuses (the session ended, or the page is from before a change of key) never
loses what was typed: the page says what happened and what to do, and shows the text. The page's
script keeps that text for the page it came from, which fills its box again once the user is back.

A domain can do better for one of its forms (`rescue(endpoint)`): the desk keeps a refused reply as the
user's draft and shows the ticket again. It runs only for a signed-in user and a request that came from
our own pages (the Origin or Referer header names this site): the check a browser cannot be made to
fake from another site, so a rescue never lets another site write on the user's behalf."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from urllib.parse import urlsplit

from flask import Flask, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from supportdesk.core.errors import is_api_request, problem

# The fields whose text is shown back (never a password or a token), and what the page calls them.
TEXT_FIELDS = {"body": "your message", "subject": "the subject", "description": "the description"}
TEXT_MAX = 20_000

Rescue = Callable[[], Response | None]
_rescues: dict[str, Rescue] = {}


def rescue(endpoint: str) -> Callable[[Rescue], Rescue]:
    """Register what to do instead of the generic page when `endpoint`'s form is refused as stale; the
    function returns a response, or None to fall back to the page."""

    def register(function: Rescue) -> Rescue:
        _rescues[endpoint] = function
        return function

    return register


def from_this_site() -> bool:
    """The request came from one of our own pages (Origin, or Referer when a browser sends no Origin)."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source:
        return False
    parts = urlsplit(source)
    return f"{parts.scheme}://{parts.netloc}" == request.host_url.rstrip("/")


def _page_it_came_from() -> str:
    """The path of the page the form was on, if it was one of ours; else the start page."""
    referrer = request.headers.get("Referer")
    if referrer and from_this_site():
        parts = urlsplit(referrer)
        if parts.path.startswith("/") and not parts.path.startswith("//"):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return url_for("landing")


def _stale_form(error: CSRFError) -> tuple[Response | str, int]:
    if is_api_request():
        return problem(HTTPStatus.BAD_REQUEST, "Bad request", error.description or "CSRF check failed")
    signed_in = bool(current_user.is_authenticated)
    if signed_in and from_this_site() and request.endpoint in _rescues:
        rescued = _rescues[request.endpoint]()
        if rescued is not None:
            return rescued, rescued.status_code
    texts = [
        (name, label, value[:TEXT_MAX])
        for name, label in TEXT_FIELDS.items()
        for value in request.form.getlist(name)
        if value.strip()
    ]
    page = render_template(
        "errors/stale_form.html",
        texts=texts,
        signed_in=signed_in,
        back=_page_it_came_from(),
        had_files=any(f.filename for f in request.files.values()),
    )
    return page, HTTPStatus.BAD_REQUEST


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _stale_form)
