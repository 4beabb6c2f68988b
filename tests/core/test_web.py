from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from supportdesk.app import create_app
from supportdesk.core.web import relative_time
from tests.conftest import login, make_config
from tests.factories import make_technician


def test_healthz_says_the_process_is_alive(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


@pytest.fixture
def app_without_database(tmp_path) -> Flask:
    application = create_app(make_config("postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path))
    application.config["PROPAGATE_EXCEPTIONS"] = False
    return application


def test_readyz_is_503_when_the_database_does_not_answer(app_without_database):
    response = app_without_database.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unavailable"


def test_pages_say_service_unavailable_when_the_database_is_down(app_without_database):
    client = app_without_database.test_client()
    with client.session_transaction() as cookie_session:
        cookie_session["_user_id"] = "1.0"
        cookie_session["_fresh"] = True
    response = client.get("/portal/")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "Service unavailable" in page and "Traceback" not in page


def test_unknown_pages_get_a_styled_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Back to SupportDesk" in response.get_data(as_text=True)


def test_unknown_api_paths_get_a_problem_document(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 404


def test_unexpected_errors_show_no_stack_trace(tmp_path):
    application = create_app(make_config(f"sqlite:///{tmp_path / 'x.db'}", tmp_path))
    application.config["PROPAGATE_EXCEPTIONS"] = False

    @application.get("/__boom")
    def boom():
        raise RuntimeError("secret internals")

    response = application.test_client().get("/__boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "secret internals" not in page and "Traceback" not in page
    assert "Something went wrong" in page


def test_security_headers_on_every_response(client):
    for path in ("/login", "/healthz", "/nowhere"):
        headers = client.get(path).headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "same-origin"


def test_relative_times_read_naturally():
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert relative_time(now - timedelta(seconds=20), now) == "just now"
    assert relative_time(now - timedelta(minutes=1), now) == "1 minute ago"
    assert relative_time(now - timedelta(hours=5), now) == "5 hours ago"
    assert relative_time(now - timedelta(days=40), now) == "1 month ago"
    assert relative_time(now + timedelta(days=2), now) == "in 2 days"
    assert relative_time(None, now) == ""


def test_the_api_answers_503_problems_when_the_database_is_down(app_without_database):
    response = app_without_database.test_client().get("/api/v1/me", headers={"Authorization": "Bearer sd_x"})
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "Service unavailable"


def test_page_links_follow_the_mount_point(client, session):
    """The same pages served under a prefix (behind a proxy at /help) link within it, and pages under
    both mount points keep their own links."""
    make_technician(session, email="tech@example.com")
    session.close()
    login(client, "tech@example.com")
    first = client.get("/desk/?view=open").get_data(as_text=True)
    mounted = client.get("/desk/?view=open", base_url="http://localhost/help").get_data(as_text=True)
    again = client.get("/desk/?view=open").get_data(as_text=True)
    assert 'href="/help/static/vendor/bootstrap.min.css"' in mounted
    assert 'href="/help/desk/?view=mine"' in mounted
    for page in (first, again):
        assert 'href="/static/vendor/bootstrap.min.css"' in page and 'href="/desk/?view=mine"' in page
        assert "/help/" not in page
