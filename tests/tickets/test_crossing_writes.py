"""Writes that cross: many people answering, raising and changing tickets at the same moment, through a
live server (real threads, real connections, each request its own transaction), on both databases.
Appending a comment never conflicts with anything; creation never loses a ticket; only a change to a
ticket's own fields is versioned, and exactly the changes whose version still held are applied."""

from __future__ import annotations

import http.cookiejar
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from supportdesk.accounts import tokens
from supportdesk.tickets.lifecycle import Priority
from supportdesk.tickets.models import Comment, EventKind, Ticket, TicketEvent
from tests.conftest import CSRF_FIELD
from tests.factories import PASSWORD, make_requester, make_technician, make_ticket


@pytest.fixture
def live_server(clean_app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, clean_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@dataclass
class Answer:
    status: int
    body: str
    headers: dict[str, str]

    def json(self) -> dict:
        return json.loads(self.body)


class Browser:
    """A signed-in browser (cookies, CSRF token) or an API client (bearer token) on the live server."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base = base
        self.token = token
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )
        self.csrf = ""

    def open(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Answer:
        # Our own live server on loopback.
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})  # noqa: S310
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with self.opener.open(request, timeout=60) as response:
                return Answer(response.status, response.read().decode(), dict(response.headers))
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read().decode(), dict(error.headers))

    def api(self, method: str, path: str, payload: dict | None = None, **headers: str) -> Answer:
        body = None if payload is None else json.dumps(payload).encode()
        return self.open(method, path, body, {"Content-Type": "application/json", **headers})

    def sign_in(self, email: str) -> Browser:
        page = self.open("GET", "/login").body
        self.form("/login", {"email": email, "password": PASSWORD}, csrf=_csrf(page))
        self.csrf = _csrf(self.open("GET", "/portal/new").body)
        return self

    def form(self, path: str, fields: dict[str, str], csrf: str | None = None) -> Answer:
        body = urllib.parse.urlencode({**fields, "csrf_token": csrf or self.csrf}).encode()
        return self.open("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def _csrf(page: str) -> str:
    match = CSRF_FIELD.search(page)
    assert match
    return match.group(1) or match.group(2)


def _api_token(session, user) -> str:
    _, secret = tokens.issue_token_for(session, user, "crossing writes")
    session.commit()
    return secret


def test_fifty_simultaneous_replies_creations_and_field_changes_lose_nothing(live_server, session):
    requester, tech, other_tech = make_requester(session), make_technician(session), make_technician(session)
    ticket = make_ticket(session, requester, subject="Shared printer")
    others = [make_ticket(session, requester, subject=f"Other {i}") for i in range(5)]
    as_requester = Browser(live_server, _api_token(session, requester))
    as_tech = Browser(live_server, _api_token(session, tech))
    as_other = Browser(live_server, _api_token(session, other_tech))
    portal = Browser(live_server).sign_in(requester.email)
    desk = Browser(live_server).sign_in(tech.email)
    number = ticket.number
    etag = as_tech.api("GET", f"/api/v1/tickets/{number}").headers["ETag"]
    other_etags = {
        t.number: as_tech.api("GET", f"/api/v1/tickets/{t.number}").headers["ETag"] for t in others
    }

    calls = []
    for i in range(6):  # replies and notes through the API, without If-Match: appends never conflict
        calls.append(
            (
                "reply",
                lambda i=i: as_requester.api(
                    "POST", f"/api/v1/tickets/{number}/comments", {"body": f"api requester {i}"}
                ),
            )
        )
        calls.append(
            (
                "reply",
                lambda i=i: as_tech.api(
                    "POST",
                    f"/api/v1/tickets/{number}/comments",
                    {"body": f"api tech {i}", "internal": i % 2 == 0},
                ),
            )
        )
    for i in range(4):  # the same through the portal's and the desk's forms
        calls.append(
            (
                "page reply",
                lambda i=i: portal.form(f"/portal/tickets/{number}/reply", {"body": f"portal {i}"}),
            )
        )
        calls.append(
            (
                "page reply",
                lambda i=i: desk.form(
                    f"/desk/tickets/{number}/reply",
                    {"body": f"desk {i}", "visibility": "internal" if i % 2 else "public"},
                ),
            )
        )
    for i in range(20):  # creations
        calls.append(
            ("create", lambda i=i: as_requester.api("POST", "/api/v1/tickets", {"subject": f"New {i}"}))
        )
    for i in range(5):  # field changes on the shared ticket, all from the same version: at most one wins
        calls.append(
            (
                "stale patch",
                lambda i=i: as_other.api(
                    "PATCH", f"/api/v1/tickets/{number}", {"subject": f"Renamed {i}"}, **{"If-Match": etag}
                ),
            )
        )
    for n, other_etag in other_etags.items():  # field changes on tickets nobody else touches: all apply
        calls.append(
            (
                "patch",
                lambda n=n, e=other_etag: as_other.api(
                    "PATCH", f"/api/v1/tickets/{n}", {"priority": "high"}, **{"If-Match": e}
                ),
            )
        )
    assert len(calls) == 50

    start = threading.Barrier(len(calls))

    def run(call):  # type: ignore[no-untyped-def]
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        answers = list(pool.map(run, [call for _, call in calls]))
    kinds = [kind for kind, _ in calls]
    by_kind: dict[str, list[Answer]] = {}
    for kind, answer in zip(kinds, answers, strict=True):
        by_kind.setdefault(kind, []).append(answer)

    assert [a.status for a in by_kind["reply"]] == [201] * 12
    assert [a.status for a in by_kind["page reply"]] == [302] * 8
    assert [a.status for a in by_kind["create"]] == [201] * 20
    assert [a.status for a in by_kind["patch"]] == [200] * 5
    stale = [a.status for a in by_kind["stale patch"]]
    assert set(stale) <= {200, 412} and stale.count(200) <= 1, stale

    session.expire_all()
    bodies = set(session.scalars(select(Comment.body).join(Ticket).where(Ticket.number == number)))
    expected = {f"api requester {i}" for i in range(6)} | {f"api tech {i}" for i in range(6)}
    expected |= {f"portal {i}" for i in range(4)} | {f"desk {i}" for i in range(4)}
    assert bodies == expected
    created = set(session.scalars(select(Ticket.subject).where(Ticket.subject.like("New %"))))
    assert created == {f"New {i}" for i in range(20)}
    numbers = [a.json()["number"] for a in by_kind["create"]]
    assert len(set(numbers)) == 20
    assert session.scalar(select(func.count(Ticket.id))) == 6 + 20
    # Exactly the field changes that answered 200 were applied, each with its audit event.
    renamed = [a.json()["subject"] for a in by_kind["stale patch"] if a.status == 200]
    subject_events = list(
        session.scalars(
            select(TicketEvent.new_value)
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .where(Ticket.number == number, TicketEvent.kind == EventKind.SUBJECT)
        )
    )
    assert subject_events == renamed
    assert (
        session.scalar(select(Ticket.subject).where(Ticket.number == number))
        == (renamed or ["Shared printer"])[0]
    )
    assert set(session.scalars(select(Ticket.priority).where(Ticket.number.in_(other_etags)))) == {
        Priority.HIGH
    }


def _seen_by_requester(api: Browser, number: int) -> tuple[str, int, str]:
    answer = api.api("GET", f"/api/v1/tickets/{number}")
    body = answer.json()
    return answer.headers["ETag"], body["version"], body["updated_at"]


def test_an_internal_note_does_not_change_what_the_requester_sees(live_server, session):
    requester, tech = make_requester(session), make_technician(session)
    number = make_ticket(session, requester).number
    as_requester = Browser(live_server, _api_token(session, requester))
    as_tech = Browser(live_server, _api_token(session, tech))
    desk = Browser(live_server).sign_in(tech.email)
    before = _seen_by_requester(as_requester, number)
    conversation = as_requester.api("GET", f"/api/v1/tickets/{number}/comments").body

    note = as_tech.api("POST", f"/api/v1/tickets/{number}/comments", {"body": "HR knows", "internal": True})
    assert note.status == 201
    assert (
        desk.form(f"/desk/tickets/{number}/reply", {"body": "Still HR", "visibility": "internal"}).status
        == 302
    )
    assert _seen_by_requester(as_requester, number) == before
    assert as_requester.api("GET", f"/api/v1/tickets/{number}/comments").body == conversation
    # The requester's If-Match from before the notes still holds: nothing they can see has changed.
    answer = as_requester.api(
        "PATCH", f"/api/v1/tickets/{number}", {"status": "closed"}, **{"If-Match": before[0]}
    )
    assert answer.status == 200, answer.body


def test_a_public_answer_changes_what_the_requester_sees(live_server, session):
    requester, tech = make_requester(session), make_technician(session)
    number = make_ticket(session, requester).number
    as_requester = Browser(live_server, _api_token(session, requester))
    as_tech = Browser(live_server, _api_token(session, tech))
    before = _seen_by_requester(as_requester, number)
    assert as_tech.api("POST", f"/api/v1/tickets/{number}/comments", {"body": "On my way"}).status == 201
    after = _seen_by_requester(as_requester, number)
    assert all(a != b for a, b in zip(before, after, strict=True))
    assert re.fullmatch(r'"\d+"', after[0])
