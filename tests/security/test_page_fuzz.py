"""The class test for hostile input on pages: every HTML route in the URL map, every method, is sent
query strings and form bodies built from what the pages themselves send it, with parameters replaced
by values hostile to parsers (control characters, Unicode digits, enormous numbers, moments beyond
UTC, forged cursors, off-site redirects, deep brackets, long text). Whatever is sent, the answer is a
page or a 4xx, never a 500.

The requests start from valid ones: the parameter names and values of every form and link the desk,
the portal and the admin pages render (plus an account's email and password for the forms that need
them), sent with a valid CSRF token, so the view's own parsing and the services behind it run rather than
the first refusal. Two layers: a sweep puts every hostile value into every parameter of every route one
at a time (the class of bug "parameter X breaks on value Y" cannot hide behind luck), and hypothesis
then mixes several generated parameters (random text, numbers, repeats, files, names from other
routes) into each request."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from argon2 import PasswordHasher
from flask import Flask, url_for
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Rule

from supportdesk.accounts import passwords
from supportdesk.accounts.models import User
from supportdesk.tickets.desk import DeskQuery
from supportdesk.tickets.paging import PortalQuery
from tests.conftest import CSRF_FIELD, login
from tests.factories import PASSWORD, _password_hash
from tests.security import test_page_fuzz

# Not fuzzed: signing out ends the very sessions the fuzzing runs in (its refusals are in the route
# matrix), static files read no parameters, and the API has its own generated requests from its OpenAPI
# document (tests/test_openapi.py).
SKIPPED = {"accounts.logout", "static"}


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


HOSTILE = [
    "",
    "-1",
    "99999999999999999999999999",
    "²①",
    "١٢٣",
    "/desk/\r\nX-Injected: 1",
    "/portal/\t/evil.example",
    "//evil.example",
    "9999-12-31T23:59:59-14:00",
    _cursor('["updated_at","9999-12-31T23:59:59-14:00",5]'),
    _cursor('["number",100000000000000000000000000,1]'),
    "%ff%fe",
    "[" * 60,
    "x" * 5000,
]
TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["status:closed", "assign:none", "assign:99999999999", "priority:", "internal", "admin"]),
)
FILES = st.tuples(
    st.binary(max_size=300).map(io.BytesIO),
    st.one_of(
        st.sampled_from(["../../etc/passwd", "a.html", "x.pdf.exe", "", "ü.svg"]), st.text(max_size=30)
    ),
)


class _Page(HTMLParser):
    """A page's forms (action, method, fields with a value each, file fields) and links."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.by_id: dict[str, dict] = {}
        self.open: dict | None = None
        self.select: tuple[dict, str] | None = None
        self.textarea: tuple[dict, str] | None = None
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            form = {
                "action": a.get("action", ""),
                "method": a.get("method", "get").upper(),
                "fields": [],
                "files": set(),
            }
            self.forms.append(form)
            self.open = form
            if a.get("id"):
                self.by_id[a["id"]] = form
            return
        name = a.get("name")
        for attribute, method in (("hx-get", "GET"), ("hx-post", "POST")):
            if a.get(attribute) and name:  # htmx sends the element's own value to its URL
                self.forms.append(
                    {"action": a[attribute], "method": method, "fields": [(name, "printer")], "files": set()}
                )
        form = self.by_id.get(a.get("form", "")) or self.open
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif form is None or not name:
            return
        elif tag == "input" and a.get("type") == "file":
            form["files"].add(name)
        elif tag in ("input", "button"):
            form["fields"].append((name, a.get("value", "on" if a.get("type") == "checkbox" else "")))
        elif tag == "select":
            self.select = (form, name)
        elif tag == "textarea":
            self.textarea = (form, name)
            form["fields"].append((name, "A few words of text"))
        if tag == "option" and self.select and a.get("value"):
            select_form, select_name = self.select
            if not any(n == select_name for n, _ in select_form["fields"]):
                select_form["fields"].append((select_name, a["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.open = None
        elif tag == "select":
            self.select = None


class Target:
    """One route and method: its path, and the valid request to start from."""

    def __init__(self, rule: Rule, method: str, path: str) -> None:
        self.rule, self.method, self.path = rule, method, path
        self.query: MultiDict = MultiDict()
        self.form: MultiDict = MultiDict()
        self.files: set[str] = set()
        self.names: set[str] = set()

    def __repr__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def public(self) -> bool:
        return self.rule.endpoint == "accounts.login" or self.rule.endpoint.startswith(
            ("health.", "apidocs.", "monitoring.")
        )


def _path_values(desk: dict) -> dict[str, object]:
    # Alice is nobody's client here: an admin's change to her account signs none of them out.
    return {
        "number": desk["number"],
        "attachment_id": desk["attachment_id"],
        "token_id": desk["bob_token_id"],
        "user_id": desk["alice"].id,
        "team_id": desk["team"].id,
        "category_id": desk["category"].id,
        "filename": "css/supportdesk.css",
        "action": "close",
    }


def _arguments(rule: Rule, values: dict[str, object]) -> dict[str, object]:
    """The rule's path arguments: the seeded desk's objects, or 1 (or "x") for a route added since."""
    return {
        name: values.get(name, 1 if isinstance(converter, IntegerConverter) else "x")
        for name, converter in rule._converters.items()
    }


def _targets(app: Flask, clients: list[FlaskClient], desk: dict) -> list[Target]:
    """Every HTML route and method, with the parameters and values the rendered pages send it."""
    values = _path_values(desk)
    targets: dict[tuple[str, str], Target] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") or rule.endpoint in SKIPPED:
            continue
        with app.test_request_context():
            path = url_for(rule.endpoint, **_arguments(rule, values))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            targets[(rule.endpoint, method)] = Target(rule, method, path)
    seeds = {"email": desk["admin"].email, "password": PASSWORD, "current_password": PASSWORD}
    seeds |= {"new_password": PASSWORD, "confirm": PASSWORD}
    for name in DeskQuery.model_fields:
        targets[("desk.home", "GET")].names.add(name)
    for name in PortalQuery.model_fields:
        targets[("portal.home", "GET")].names.add(name)
    targets[("accounts.login", "POST")].query["next"] = "/portal/"

    adapter = app.url_map.bind("localhost")

    def target_of(url: str, method: str) -> Target | None:
        try:
            endpoint, _ = adapter.match(urlsplit(url).path, method=method)
        except HTTPException:
            return None
        return targets.get((str(endpoint), method))

    for client in clients:
        for (_endpoint, method), target in list(targets.items()):
            if method != "GET":
                continue
            page = client.get(target.path)
            if page.mimetype != "text/html":
                continue
            parsed = _Page()
            parsed.feed(page.get_data(as_text=True))
            for form in parsed.forms:
                found = target_of(form["action"] or target.path, form["method"])
                if found is None:
                    continue
                for name, value in form["fields"]:
                    if name != "csrf_token" and name not in found.names:
                        found.names.add(name)
                        found.form.add(name, seeds.get(name, value))
                found.files |= form["files"]
            for link in parsed.links:
                found = target_of(link, "GET")
                if found is not None:
                    found.names.update(name for name, _ in parse_qsl(urlsplit(link).query))
    for target in targets.values():
        target.names |= set(target.query) | set(target.form)
        # A GET form's fields are a query string.
        if target.method == "GET":
            target.query, target.form = target.form, MultiDict()
    return sorted(targets.values(), key=repr)


class Clients:
    """An admin and a requester signed in, and fresh anonymous visitors; anyone the fuzzing signed out
    (a changed password, a deactivation) is put back and signed in again."""

    def __init__(self, app: Flask, session, desk: dict) -> None:
        self.app, self.session = app, session
        self.users = {"admin": desk["admin"], "requester": desk["bob"]}
        self.signed_in = {who: self._sign_in(user) for who, user in self.users.items()}
        self.tokens: dict[str, str] = {}

    def _sign_in(self, user: User) -> FlaskClient:
        client = self.app.test_client()
        login(client, user.email)
        return client

    def get(self, who: str) -> FlaskClient:
        return self.signed_in.get(who) or self.app.test_client()

    def csrf_token(self, who: str, client: FlaskClient) -> str:
        """The session's CSRF token (the same for the whole session), read once per signed-in client."""
        if who not in self.tokens or who == "anonymous":
            page = client.get("/login" if who == "anonymous" else "/portal/new").get_data(as_text=True)
            match = CSRF_FIELD.search(page)
            assert match, who
            self.tokens[who] = match.group(1) or match.group(2)
        return self.tokens[who]

    def restore(self) -> None:
        for who, client in self.signed_in.items():
            if client.get("/portal/").status_code != 200:
                user = self.users[who]
                self.session.execute(
                    update(User)
                    .where(User.id == user.id)
                    .values(password_hash=_password_hash(), is_active=True)
                )
                self.session.commit()
                self.signed_in[who] = self._sign_in(user)
                self.tokens.pop(who, None)


def send(clients: Clients, target: Target, who: str, query: MultiDict, form: MultiDict, csrf: bool = True):
    client = clients.get(who)
    data = MultiDict(form)
    if target.method != "GET" and csrf:
        data["csrf_token"] = clients.csrf_token(who, client)
    response = client.open(
        target.path, method=target.method, query_string=query, data=data if target.method != "GET" else None
    )
    assert response.status_code < 500, (target, who, query, form, response.status_code)
    return response


def _users_for(target: Target) -> list[str]:
    if target.public:
        return ["anonymous"]
    return (
        ["admin", "requester"]
        if target.rule.endpoint.startswith(("portal.", "accounts.", "attachments."))
        else ["admin"]
    )


def _replaced(values: MultiDict, name: str, value: object) -> MultiDict:
    changed = MultiDict(values)
    changed.setlist(name, [value])
    return changed


def _sweep(clients: Clients, target: Target) -> Iterator[None]:
    for who in _users_for(target):
        send(clients, target, who, target.query, target.form)
        for name in sorted(target.names):
            in_query = target.method == "GET" or name in target.query
            for value in HOSTILE:
                query = _replaced(target.query, name, value) if in_query else target.query
                form = target.form if in_query else _replaced(target.form, name, value)
                send(clients, target, who, query, form)
                yield


def _generated(clients: Clients, target: Target, every_name: list[str]) -> None:
    own = sorted(target.names) or every_name
    names = st.one_of(st.sampled_from(own), st.sampled_from(own), st.sampled_from(every_name))
    changes = st.lists(st.tuples(names, TEXT), min_size=1, max_size=5)
    uploads = (
        st.lists(st.tuples(st.sampled_from(sorted(target.files)), FILES), max_size=2)
        if target.files
        else st.just([])
    )

    @settings(
        max_examples=15,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        who=st.sampled_from(_users_for(target)),
        changes=changes,
        files=uploads,
        csrf=st.sampled_from([True, True, False]),
    )
    def exercise(who, changes, files, csrf):  # type: ignore[no-untyped-def]
        query, form = MultiDict(target.query), MultiDict(target.form)
        for name, value in changes:
            (query if target.method == "GET" or name in query else form).setlist(name, [value])
        for name, upload in files:
            form.add(name, upload)
        send(clients, target, who, query, form, csrf)

    exercise()


@pytest.fixture
def cheap_passwords(monkeypatch, session):
    """Argon2 at its lowest cost for this test's users: it sends hundreds of sign-ins and password
    changes, and what it checks is how they parse, not how long a hash takes."""
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", hasher)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", hasher.hash("not a real password"))
    monkeypatch.setattr(test_page_fuzz, "_password_hash", lambda: hasher.hash(PASSWORD))
    session.execute(update(User).values(password_hash=hasher.hash(PASSWORD)))
    session.commit()


@pytest.fixture
def fuzzing(clean_app, session, desk, cheap_passwords):
    clients = Clients(clean_app, session, desk)
    targets = _targets(clean_app, [clean_app.test_client(), *clients.signed_in.values()], desk)
    return clients, targets


def test_every_hostile_value_in_every_parameter_of_every_page_is_never_a_500(fuzzing):
    clients, targets = fuzzing
    assert len(targets) >= 25
    sent = 0
    for target in targets:
        for _ in _sweep(clients, target):
            sent += 1
        clients.restore()
    assert sent >= 600


def test_generated_requests_never_make_a_page_answer_500(fuzzing):
    clients, targets = fuzzing
    every_name = sorted(set().union(*(t.names for t in targets)) | {"next", "cursor"})
    for target in targets:
        _generated(clients, target, every_name)
        clients.restore()


@pytest.fixture(autouse=True)
def _quiet_request_logs(caplog):
    caplog.set_level("WARNING")
