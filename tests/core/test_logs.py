"""Every request gets an id, sent back in X-Request-ID and written in its JSON log line."""

import json
import logging

import pytest

from supportdesk.core import logs
from tests.conftest import login
from tests.factories import make_requester


@pytest.fixture
def json_lines(capsys):
    logs.configure(json=True)

    yield lambda: [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    logging.getLogger().handlers.clear()


def test_each_response_carries_a_fresh_request_id(client):
    first = client.get("/login").headers["X-Request-ID"]
    second = client.get("/login").headers["X-Request-ID"]
    assert len(first) == 32 and first != second


def test_a_proxys_request_id_is_kept_but_only_when_it_is_plain(client):
    assert client.get("/login", headers={"X-Request-ID": "nginx-abc.123"}).headers["X-Request-ID"] == (
        "nginx-abc.123"
    )
    forged = 'x", "level": "critical'
    answered = client.get("/login", headers={"X-Request-ID": forged}).headers["X-Request-ID"]
    assert answered != forged and len(answered) == 32


def test_the_log_line_is_json_with_the_request_id_and_the_user(client, session, json_lines):
    user = make_requester(session)
    login(client, user.email)
    json_lines()

    response = client.get("/portal/", headers={"X-Request-ID": "trace-42"})
    lines = [line for line in json_lines() if line.get("event") == "request"]
    assert lines == [
        {
            "event": "request",
            "level": "info",
            "logger": "supportdesk",
            "timestamp": lines[0]["timestamp"],
            "request_id": "trace-42",
            "method": "GET",
            "path": "/portal/",
            "endpoint": "portal.home",
            "status": response.status_code,
            "duration_ms": lines[0]["duration_ms"],
            "user_id": str(user.id),
            "remote_addr": "127.0.0.1",
        }
    ]


def test_probes_are_not_logged(client, json_lines):
    json_lines()
    client.get("/healthz")
    assert [line for line in json_lines() if line.get("event") == "request"] == []


def test_api_requests_are_logged_with_the_tokens_user(api_as, session, json_lines):
    user = make_requester(session)
    api = api_as(user)
    json_lines()
    api.get("/api/v1/me")
    lines = [line for line in json_lines() if line.get("event") == "request"]
    assert [(line["endpoint"], line["user_id"]) for line in lines] == [("api.me", str(user.id))]
