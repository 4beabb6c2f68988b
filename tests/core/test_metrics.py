"""/metrics: request counts and latency per endpoint, tickets created and queue sizes; only for a
scraper on the same machine or one holding METRICS_TOKEN."""

import dataclasses

import pytest
from prometheus_client.parser import text_string_to_metric_families

from supportdesk.tickets import service
from supportdesk.tickets.lifecycle import Status
from tests.factories import make_requester, make_technician, make_ticket


def samples(response) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found, name, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_are_counted_per_endpoint_not_per_path(client, session):
    before = samples(client.get("/metrics"))
    client.get("/login")
    client.get("/login")
    client.get("/desk/tickets/999999")  # an id in the path must not make a series of its own
    after = samples(client.get("/metrics"))
    key = {"method": "GET", "endpoint": "accounts.login", "status": "200"}
    assert (
        value(after, "supportdesk_http_requests_total", **key)
        - value(before, "supportdesk_http_requests_total", **key)
        == 2
    )
    assert not any("999999" in str(labels) for _, labels in after)
    assert (
        value(
            after, "supportdesk_http_request_duration_seconds_count", method="GET", endpoint="accounts.login"
        )
        >= 2
    )


def test_tickets_created_and_active_queue_sizes(client, session):
    requester, tech = make_requester(session), make_technician(session)
    before = samples(client.get("/metrics"))
    first = make_ticket(session, requester)
    make_ticket(session, requester)
    service.transition(session, tech, first.number, Status.OPEN)
    session.commit()
    after = samples(client.get("/metrics"))
    created = value(after, "supportdesk_tickets_created_total", role="requester") - value(
        before, "supportdesk_tickets_created_total", role="requester"
    )
    assert created == 2
    assert value(after, "supportdesk_tickets_active", status="new") == 1
    assert value(after, "supportdesk_tickets_active", status="open") == 1
    assert value(after, "supportdesk_tickets_active", status="closed") == 0


def test_metrics_are_not_served_through_a_proxy_or_to_other_machines(client):
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 404
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1


@pytest.fixture
def token_client(clean_app):
    settings = clean_app.config["SUPPORTDESK"]
    clean_app.config["SUPPORTDESK"] = dataclasses.replace(settings, metrics_token="scrape-secret-123")
    yield clean_app.test_client()
    clean_app.config["SUPPORTDESK"] = settings


def test_with_a_token_set_only_the_token_opens_metrics(token_client):
    assert token_client.get("/metrics").status_code == 404
    assert token_client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    response = token_client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"})
    assert response.status_code == 200 and "supportdesk_http_requests_total" in response.get_data(
        as_text=True
    )


def test_made_up_http_methods_add_no_series(client):
    """Label values come from a closed set: an anonymous client inventing methods must not grow every
    worker's memory with a series per method."""
    for method in ("FOO", "PROPFIND", "X" * 50, "BREW", "get"):
        client.open("/login", method=method)
        client.open("/no/such/page", method=method)
    found = samples(client.get("/metrics"))
    methods = {dict(labels).get("method") for _, labels in found if dict(labels).get("method")}
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}, methods
    assert "other" in methods
