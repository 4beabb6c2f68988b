"""Hostile and odd input gets a clear 4xx (or is cleaned), never a 500 and never a half-written change."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from supportdesk.accounts import service as accounts
from supportdesk.core.db import unit_of_work
from supportdesk.core.errors import NotFound, ValidationError
from supportdesk.tickets import service
from supportdesk.tickets.models import Ticket
from tests.conftest import csrf_token, form_token, login, page_text
from tests.factories import PASSWORD, make_requester, make_technician, make_ticket


@pytest.mark.parametrize(
    "path",
    [
        "/portal/tickets/0",
        "/portal/tickets/-1",
        "/portal/tickets/99999999999999999999",
        "/desk/tickets/2147483648",
        "/tickets/1/attachments/99999999999",
        "/portal/%ff%fe",
        "/portal/?cursor=%ff%fe",
        "/portal/?q=" + "x" * 5000,
        "/desk/?team=-5",
        "/desk/?requester=99999999999",
        "/desk/?category=1e9",
        "/desk/?sort=" + "x" * 300,
    ],
)
def test_odd_urls_are_4xx(client, session, path):
    login(client, make_technician(session).email)
    response = client.get(path)
    assert 200 <= response.status_code < 500 and response.status_code != 500, (path, response.status_code)
    assert "Traceback" not in page_text(response)


@pytest.mark.parametrize("path", ["/portal/?q=a%00b", "/desk/?q=%00"])
def test_null_bytes_in_queries_are_refused(client, session, path):
    login(client, make_technician(session).email)
    response = client.get(path)
    assert response.status_code == 400 and "null bytes" in page_text(response)


def test_null_bytes_in_forms_and_json_are_refused_and_nothing_is_written(client, api_as, session):
    user = make_requester(session)
    login(client, user.email)
    data = {**form_token(client, "/portal/new"), "subject": "Printer\x00", "priority": "normal"}
    assert client.post("/portal/new", data=data).status_code == 400
    api = api_as(user)
    assert (
        api.post(
            "/api/v1/tickets", data='{"subject": "a\\u0000b"}', content_type="application/json"
        ).status_code
        == 400
    )
    assert session.scalar(select(func.count(Ticket.id))) == 0


def test_huge_form_bodies_are_413(client, session, clean_app):
    login(client, make_requester(session).email)
    limit = clean_app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/portal/new", data={"subject": "x", "description": "y" * (limit + 1)})
    assert response.status_code == 413


def test_look_alike_and_malformed_emails_are_refused(session):
    for email in (
        "\u0430dmin@example.com",  # Cyrillic a
        "admin@ex\u0430mple.com",
        "a b@example.com",
        "admin@@example.com",
        "admin@example",
    ):
        with pytest.raises(ValidationError, match="email"), unit_of_work(session):
            accounts.register_user(session, email=email, full_name="X", password="long enough")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(subject=st.text(max_size=300), description=st.text(max_size=500))
def test_any_text_is_stored_cleanly_or_refused_by_name(app, subject, description):
    """Random unicode (control characters, surrogates excluded by Python strings, RTL marks, emoji)
    through the service: either a ticket or a ValidationError naming the field, never a crash."""
    with app.app_context():
        from supportdesk.core.db import db

        user = make_requester(app.extensions["supportdesk.sessionmaker"]())
        try:
            with db.transaction() as session:
                ticket = service.create_ticket(session, user, subject=subject, description=description)
        except ValidationError as error:
            assert {e.field for e in error.errors} <= {"subject", "description"}  # noqa: PT017
        else:
            assert "\x00" not in ticket.subject and 1 <= len(ticket.subject) <= 200


def test_enormous_and_negative_numbers_are_not_found(session):
    user = make_requester(session)
    for number in (0, -1, 2**31, 2**63, 10**30):
        with pytest.raises(NotFound):
            service.get_ticket(session, user, number)


def test_a_form_posted_twice_raises_one_ticket(client, session):
    user = make_requester(session)
    login(client, user.email)
    page = page_text(client.get("/portal/new"))
    submission = page.split('name="submission" type="hidden" value="')[1].split('"')[0]
    data = {
        **form_token(client, "/portal/new"),
        "subject": "Double click",
        "priority": "normal",
        "submission": submission,
    }
    first = client.post("/portal/new", data=data)
    second = client.post("/portal/new", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert session.scalar(select(func.count(Ticket.id))) == 1
    data["submission"] = "another-form"
    client.post("/portal/new", data=data)
    assert session.scalar(select(func.count(Ticket.id))) == 2


def test_a_ticket_is_listed_exactly_when_its_page_opens(client, api_as, session):
    """For every actor and ticket: in the actor's list (pages and API) exactly when the detail is 200."""
    alice, bob, tech = make_requester(session), make_requester(session), make_technician(session)
    numbers = [
        make_ticket(session, owner, subject=f"T{i}").number for i, owner in enumerate([alice, bob, alice])
    ]
    for actor in (alice, bob, tech):
        api = api_as(actor)
        listed_api = {t["number"] for t in api.get("/api/v1/tickets?limit=100").get_json()["items"]}
        client.delete_cookie("session")
        login(client, actor.email)
        home = "/desk/?view=open" if actor is tech else "/portal/"
        listed_page = {n for n in numbers if f">#{n}<" in page_text(client.get(home))}
        for number in numbers:
            opens_api = api.get(f"/api/v1/tickets/{number}").status_code == 200
            detail = f"/desk/tickets/{number}" if actor is tech else f"/portal/tickets/{number}"
            opens_page = client.get(detail).status_code == 200
            assert (number in listed_api) == opens_api == opens_page == (number in listed_page), (
                actor,
                number,
            )


DEEP_BODIES = [
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 5_000 + "1" + "}" * 5_000,
    '{"email": "a@example.com", "password": "x", "name": ' + "[" * 3_000 + "]" * 3_000 + "}",
]


@pytest.mark.parametrize("body", DEEP_BODIES, ids=["arrays", "objects", "deep-field"])
def test_deeply_nested_json_is_a_problem_document_everywhere(client, api_as, session, body):
    """Bad JSON never answers 500, on the sign-in endpoint (which reads the email for its rate limit
    before anything else) or on any authenticated one."""
    api = api_as(make_requester(session))
    auth = {"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"}
    for method, path, headers in (
        ("POST", "/api/v1/tokens", {"Content-Type": "application/json"}),
        ("POST", "/api/v1/tickets", auth),
        ("PATCH", "/api/v1/tickets/1001", {**auth, "If-Match": '"1"'}),
    ):
        response = client.open(path, method=method, data=body, headers=headers)
        assert response.status_code in (400, 404, 422), (path, response.status_code)
        assert response.mimetype == "application/problem+json", path


def _raw_cursor(document: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(document, separators=(",", ":")).encode()).decode().rstrip("=")


HOSTILE_CURSORS = {
    "huge-id": _raw_cursor(["updated_at", "2026-11-29T09:00:00+00:00", 10**30]),
    "huge-value": _raw_cursor(["number", 10**40, 1]),
    "naive-datetime": _raw_cursor(["updated_at", "2026-11-29T09:00:00", 5]),
    # A valid ISO moment with an offset, which no UTC datetime can hold.
    "beyond-utc": _raw_cursor(["updated_at", "9999-12-31T23:59:59-14:00", 5]),
    "before-utc": _raw_cursor(["updated_at", "0001-01-01T00:00:00+14:00", 5]),
    "nested": _raw_cursor([[[[[["updated_at"]]]]]]),
    "deep": base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode(),
}


@pytest.mark.parametrize("cursor", HOSTILE_CURSORS.values(), ids=HOSTILE_CURSORS.keys())
def test_hostile_cursors_are_4xx_on_every_listing(client, api_as, session, cursor):
    tech, requester = make_technician(session), make_requester(session)
    make_ticket(session, requester)
    api = api_as(tech)
    response = api.get("/api/v1/tickets", query_string={"cursor": cursor})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    for user, path in ((tech, "/desk/"), (requester, "/portal/")):
        client.delete_cookie("session")
        login(client, user.email)
        response = client.get(path, query_string={"cursor": cursor})
        assert response.status_code == 422, (path, response.status_code)
        assert "cursor" in page_text(response)


@pytest.mark.parametrize("target", ["/desk/\r\nX-Injected: 1", "/desk/\nx", "/desk/\rx", "/desk/\tx"])
def test_control_characters_in_next_never_break_the_redirect(client, session, target):
    """Sign-in and bulk actions follow `next` only when it is a plain path of this site: a CR or LF
    (which no header may hold) sends the user to their landing page instead of an error page."""
    tech = make_technician(session)
    token = csrf_token(client, "/login")
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": tech.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
    ticket = make_ticket(session, make_requester(session))
    data = {
        **form_token(client, "/desk/"),
        "change": "priority:high",
        "tickets": [ticket.number],
        "next": target,
    }
    response = client.post("/desk/bulk", data=data)
    assert response.status_code == 302 and response.headers["Location"] == "/desk/"
    session.expire_all()
    assert session.get(Ticket, ticket.id).priority.value == "high"
