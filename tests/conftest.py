"""Fixtures: every test that asks for the database runs once on SQLite and once on PostgreSQL."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from supportdesk.app import create_app
from supportdesk.core import caching
from supportdesk.core.config import Config
from supportdesk.core.db import Base, db
from supportdesk.core.ratelimit import limiter
from supportdesk.jobs import engine as jobs_engine
from tests.databases import postgres_admin_url, postgres_reachable, throwaway_postgres_database

# The real mail servers (Dovecot, the aiosmtpd relay), directory (slapd) and OpenID Connect provider
# (oidc-provider) for any test that asks.
pytest_plugins = ("tests.mail.fixtures", "tests.directory.fixtures", "tests.oidc.fixtures")

BACKENDS = ("sqlite", "postgresql")


def make_config(database_url: str, instance: Path, **overrides: object) -> Config:
    base = Config.from_env(
        {
            "SUPPORTDESK_ENV": "test",
            "SUPPORTDESK_INSTANCE": str(instance),
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-for-anything",
            # Jobs wait in memory until a test runs them (`jobs.engine.run_queued`).
            "JOBS_BACKEND": "memory",
            # The suite signs in thousands of times from one address; throttling has its own tests.
            "LOGIN_LIMIT_PER_ACCOUNT": "10000 per minute",
            "LOGIN_LIMIT_PER_ADDRESS": "10000 per minute",
        }
    )
    return Config(**{**base.__dict__, **overrides})


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
        return
    admin_url = postgres_admin_url()
    if not postgres_reachable(admin_url):
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL does not answer at {admin_url} and CI=true")
        pytest.skip(f"PostgreSQL does not answer at {admin_url}")
    with throwaway_postgres_database(admin_url) as url:
        yield url


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    application = create_app(make_config(database_url, tmp_path_factory.mktemp("instance")))
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine().dispose()


def _wipe(application: Flask) -> None:
    caching.forget_all()
    jobs_engine.huey.flush()  # jobs a test queued and did not run
    limiter.reset()  # throttles count per test
    engine = application.extensions["supportdesk.engine"]
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    # A browser closing after a test may still be writing (a presence heartbeat): PostgreSQL can pick
    # the wipe as a deadlock's victim, so it tries again.
    for attempt in range(5):
        try:
            with engine.begin() as connection:
                if engine.dialect.name == "postgresql":
                    connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
                    connection.execute(text("ALTER SEQUENCE ticket_number_seq RESTART WITH 1001"))
                else:
                    for table in tables:
                        connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - our own table names
            return
        except OperationalError:
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))


@pytest.fixture
def clean_app(app: Flask) -> Iterator[Flask]:
    """The app with empty tables, emptied again after the test."""
    _wipe(app)
    yield app
    _wipe(app)


@pytest.fixture
def session(clean_app: Flask) -> Iterator[Session]:
    """A session of the test's own, outside any app context, so requests made by the test client get
    their own context, `g` and session exactly as in production."""
    test_session: Session = clean_app.extensions["supportdesk.sessionmaker"]()
    yield test_session
    test_session.close()


@pytest.fixture
def client(clean_app: Flask) -> FlaskClient:
    return clean_app.test_client()


@pytest.fixture
def backend(app: Flask) -> str:
    name: str = app.extensions["supportdesk.engine"].dialect.name
    return name


CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = CSRF_FIELD.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def login(client: FlaskClient, email: str, password: str = "password123") -> None:
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)


def page_text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def form_token(client: FlaskClient, path: str) -> dict[str, str]:
    """The CSRF field of the page at `path`, ready to post with."""
    return {"csrf_token": csrf_token(client, path)}


class ApiClient:
    """The test client with a bearer token, for one user."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.token = token

    def request(self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def api_as(clean_app: Flask, session: Session):  # type: ignore[no-untyped-def]
    """api_as(user) -> an ApiClient signed in with a fresh token of that user."""
    from supportdesk.accounts import tokens
    from tests.factories import PASSWORD

    def make(user) -> ApiClient:  # type: ignore[no-untyped-def]
        _, secret = tokens.issue_token(session, user.email, PASSWORD, "tests")
        session.commit()
        return ApiClient(clean_app.test_client(), secret)

    return make
