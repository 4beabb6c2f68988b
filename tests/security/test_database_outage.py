"""The database goes away and comes back: pages and API say "unavailable" meanwhile, /readyz reports it,
and the app recovers by itself without a restart."""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import text

from supportdesk.accounts import tokens
from supportdesk.app import create_app
from supportdesk.core import db as db_module
from tests.conftest import csrf_token, login, make_config
from tests.factories import PASSWORD
from tests.security.test_route_matrix import build, routes, send


class TcpProxy:
    """A loopback proxy to the database that can be cut and restored, like a network outage."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            if self._listener is not None:
                # shutdown() wakes the thread blocked in accept(); close() alone would not on Linux.
                with contextlib.suppress(OSError):
                    self._listener.shutdown(socket.SHUT_RDWR)
                self._listener.close()
                self._listener = None
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self._connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxied_app(app, backend, database_url, tmp_path) -> Iterator[tuple[object, TcpProxy]]:
    if backend != "postgresql":
        pytest.skip("an outage of a database server; SQLite is a file in the same process")
    parts = urlsplit(database_url)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    proxy.start()
    netloc = f"{parts.username}@127.0.0.1:{proxy.port}" if parts.username else f"127.0.0.1:{proxy.port}"
    application = create_app(make_config(urlunsplit(parts._replace(netloc=netloc)), tmp_path))
    application.config["PROPAGATE_EXCEPTIONS"] = False
    yield application, proxy
    proxy.cut()
    application.extensions["supportdesk.engine"].dispose()


def test_an_outage_is_reported_and_recovered_from_without_a_restart(proxied_app):
    application, proxy = proxied_app
    client = application.test_client()
    assert client.get("/readyz").get_json()["database"] == "ok"
    proxy.cut()
    assert client.get("/readyz").get_json()["database"] == "unavailable"
    assert client.get("/healthz").status_code == 200  # alive: restarting it would not bring the database back
    page = client.get("/login")
    assert page.status_code in (200, 503)  # the sign-in form itself needs no database
    api = client.get("/api/v1/me", headers={"Authorization": "Bearer sd_whatever"})
    assert api.status_code == 503 and api.mimetype == "application/problem+json"
    proxy.start()
    assert client.get("/readyz").get_json()["database"] == "ok"
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer sd_whatever"}).status_code == 401


# Routes that need no database: liveness, the API's document and its page, static files.
NO_DATABASE = {"health.healthz", "apidocs.docs", "apidocs.openapi", "static"}


def _every_route(application, desk, page, api_token, csrf):
    """(endpoint, method, response) for every route in the URL map, as a signed-in admin (pages) or
    with the admin's bearer token (API)."""
    for rule, method in routes(application):
        path = build(application, rule, desk)
        if rule.endpoint == "api.create_token":  # valid credentials: refused input needs no database
            body = {"email": desk["admin"].email, "password": PASSWORD, "name": "outage"}
            yield rule.endpoint, method, page.post(path, json=body)
        elif rule.endpoint.startswith("api."):
            headers = {"Authorization": f"Bearer {api_token}"}
            yield rule.endpoint, method, send(page, method, path, rule.endpoint, headers=headers)
        else:
            yield rule.endpoint, method, send(page, method, path, rule.endpoint, csrf)


def _assert_unavailable(endpoint, method, response, every_route=True):
    """Never a 500; a 503 says when to try again; with `every_route`, every route that needs the
    database answers 503."""
    assert response.status_code != 500, (endpoint, method)
    if response.status_code == 503:
        assert int(response.headers.get("Retry-After", "0")) > 0, (endpoint, method, "no Retry-After")
        if endpoint.startswith("api."):
            assert response.mimetype == "application/problem+json"
    elif every_route and endpoint not in NO_DATABASE:
        raise AssertionError((endpoint, method, response.status_code, "should be 503"))


def _admin_token(session, desk) -> str:
    _, secret = tokens.issue_token_for(session, desk["admin"], "outage")
    session.commit()
    return secret


def test_every_route_answers_503_with_retry_after_while_postgresql_is_unreachable(proxied_app, desk, session):
    application, proxy = proxied_app
    page = application.test_client()
    login(page, desk["admin"].email)
    csrf = csrf_token(page, "/portal/new")
    api_token = _admin_token(session, desk)
    proxy.cut()
    checked = 0
    for endpoint, method, response in _every_route(application, desk, page, api_token, csrf):
        if endpoint == "monitoring.scrape":
            continue
        _assert_unavailable(endpoint, method, response)
        checked += 1
    assert checked >= 40
    proxy.start()
    # Back by itself: no restart, the same signed-in browser and token.
    assert page.get("/desk/").status_code == 200
    assert page.get(f"/desk/tickets/{desk['number']}").status_code == 200
    assert (
        page.post(
            f"/desk/tickets/{desk['number']}/reply",
            data={"body": "back", "visibility": "public", "csrf_token": csrf},
        ).status_code
        == 302
    )
    api = {"Authorization": f"Bearer {api_token}"}
    assert page.get("/api/v1/me", headers=api).status_code == 200
    assert page.post("/api/v1/tickets", json={"subject": "After the outage"}, headers=api).status_code == 201


@pytest.fixture
def sqlite_app(backend, database_url, tmp_path, monkeypatch):
    """A second app on the test's SQLite file that waits only half a second for the write lock."""
    if backend != "sqlite":
        pytest.skip("a held SQLite write lock")
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_SECONDS", 0.5)
    application = create_app(make_config(database_url, tmp_path))
    application.config["PROPAGATE_EXCEPTIONS"] = False
    yield application
    application.extensions["supportdesk.engine"].dispose()


@contextlib.contextmanager
def write_lock_held(database_url: str) -> Iterator[None]:
    """Another process's long write transaction: SQLite's one write lock, held."""
    connection = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        connection.rollback()
        connection.close()


def test_writes_answer_503_with_retry_after_while_the_sqlite_lock_is_held(
    sqlite_app, desk, session, database_url
):
    page = sqlite_app.test_client()
    login(page, desk["admin"].email)
    csrf = csrf_token(page, "/portal/new")
    api_token = _admin_token(session, desk)
    api = {"Authorization": f"Bearer {api_token}"}
    number = desk["number"]
    with write_lock_held(database_url):
        for endpoint, method, response in _every_route(sqlite_app, desk, page, api_token, csrf):
            _assert_unavailable(endpoint, method, response, every_route=False)
        # Reads go on (WAL); the writes people make most say "try again in a moment", pages and API.
        assert page.get(f"/desk/tickets/{number}").status_code == 200
        reply = page.post(
            f"/desk/tickets/{number}/reply", data={"body": "x", "visibility": "public", "csrf_token": csrf}
        )
        assert reply.status_code == 503 and int(reply.headers["Retry-After"]) > 0
        for path, body in (
            ("/api/v1/tickets", {"subject": "Locked"}),
            (f"/api/v1/tickets/{number}/comments", {"body": "x"}),
        ):
            response = page.post(path, json=body, headers=api)
            assert response.status_code == 503 and response.mimetype == "application/problem+json", path
            assert int(response.headers["Retry-After"]) > 0
    assert page.post("/api/v1/tickets", json={"subject": "Unlocked"}, headers=api).status_code == 201
    assert page.post(f"/api/v1/tickets/{number}/comments", json={"body": "y"}, headers=api).status_code == 201


def test_a_backend_killed_mid_transaction_is_a_503_and_the_next_request_succeeds(app, backend, desk, session):
    """A reply's transaction waits on the ticket's row lock (held by another session), and its
    PostgreSQL backend is terminated mid-way, as a crash or an administrator's kill would: the answer
    is a 503 with Retry-After, nothing of the reply is kept, and the same browser's next try works."""
    if backend != "postgresql":
        pytest.skip("terminating a PostgreSQL backend")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    page = app.test_client()
    login(page, desk["tech"].email)
    number = desk["number"]
    reply = {"body": "cut off", "visibility": "public", "csrf_token": csrf_token(page, "/portal/new")}
    engine = app.extensions["supportdesk.engine"]
    answers = []
    with (
        engine.connect() as holder,
        engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher,
    ):
        holder.execute(text("SELECT id FROM tickets WHERE number = :n FOR UPDATE"), {"n": number})
        thread = threading.Thread(
            target=lambda: answers.append(page.post(f"/desk/tickets/{number}/reply", data=reply)), daemon=True
        )
        thread.start()
        waiting = text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        pids: list[int] = []
        for _ in range(200):
            pids = list(watcher.scalars(waiting))
            if pids:
                break
            time.sleep(0.05)
        assert pids, "the reply never waited on the row lock"
        watcher.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pids[0]})
        thread.join(timeout=30)
        holder.rollback()
    (answer,) = answers
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) > 0
    count = text("SELECT count(*) FROM comments WHERE body = 'cut off'")
    assert session.scalar(count) == 0
    session.rollback()
    assert page.post(f"/desk/tickets/{number}/reply", data=reply).status_code == 302
    assert session.scalar(count) == 1
